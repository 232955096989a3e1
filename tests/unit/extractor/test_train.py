"""Per-store heads: fit, held-out report, versioned save/load, and use by the local extractor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.local.colors import COLOR_FEATURES
from extractor.local.train import (
    FEATURES,
    ColorPhoto,
    StoreHeads,
    StoreLabels,
    fit_color_head,
    load_heads,
    train_heads,
    train_store_heads,
)
from extractor.models import ProductInput
from tests.photos import shirt_jpeg


def _synthetic(n: int = 60) -> tuple[np.ndarray, list[StoreLabels]]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, FEATURES)).astype(np.float32) * 0.1
    labels = []
    for i in range(n):
        k = i % 3
        x[i, k] += 2.0  # a separable signal per class
        labels.append(StoreLabels(category=["aa-1-13-8", "aa-1-12", "lb-1"][k],
                                  values={"color": ["color__red" if i % 2 else "color__blue"]}))
        x[i, 10] += 2.0 if i % 2 else -2.0
    return x, labels


def test_train_save_load_versions(tmp_path: Path) -> None:
    x, labels = _synthetic()
    heads = train_heads(x, labels)
    assert heads.categories == ["aa-1-12", "aa-1-13-8", "lb-1"]
    assert (heads.category_proba(x).argmax(1) == [heads.categories.index(lab.category) for lab in labels]).all()
    assert heads.values == []  # attribute heads need each product's HeadInputs (train_store_heads reads them)
    first = heads.save(tmp_path / "store-a")
    second = train_heads(x, labels).save(tmp_path / "store-a")
    assert (first.name, second.name) == ("v1", "v2")
    loaded = load_heads(tmp_path / "store-a")
    assert loaded.meta["version"] == 2
    assert np.allclose(loaded.category_proba(x), heads.category_proba(x), atol=1e-5)
    assert isinstance(load_heads(first), StoreHeads)
    with pytest.raises(FileNotFoundError):
        load_heads(tmp_path / "nothing")


def test_store_heads_end_to_end(tmp_path: Path) -> None:
    from extractor.local import LocalExtractor

    kinds = [("Trail tee", "aa-1-13-8", "pattern__striped"), ("Trail pant", "aa-1-12", "pattern__solid"),
             ("Trail pack", "lb-1", "pattern__camouflage")]
    products, labels = [], []
    for i in range(45):
        title, cat, pattern = kinds[i % 3]
        products.append(ProductInput(product_id=f"p{i}", title=f"{title} {i}"))
        labels.append({"category": cat, "values": {"pattern": [pattern]}})
    report = train_store_heads(products, labels, tmp_path / "store-b")
    assert report["version"] == 1 and report["train"] + report["held_out"] == 45
    assert report["held_out_scores"]["category_accuracy"] is not None
    assert report["heads"] == [{"attribute": "pattern", "kind": "single", "values": 3, "labelled": 45,
                                "answers": 3}]
    held_out = report["attributes"]["views"]["title"]["attributes"]["pattern"]
    assert held_out["precision"] >= 0.8 and held_out["recall"] >= 0.8
    extractor = LocalExtractor(store_head=tmp_path / "store-b", safety=False)
    [ex] = extractor.extract([ProductInput(title="Trail pant 99")])
    assert ex.category is not None
    [pattern] = [v for a in ex.attributes if a.handle == "pattern" for v in a.values]
    assert pattern.value == "pattern__solid" and pattern.source == "text" and pattern.precision >= 0.8


# A store's colour names, as a Magento store has them: no Pink, so its light reds are "Red".
STORE_COLOURS = [((250, 150, 150), "color__red"), ((200, 25, 30), "color__red"), ((30, 60, 200), "color__blue"),
                 ((20, 20, 20), "color__black")]


def test_a_colour_head_learns_the_store_s_colour_names(tmp_path: Path) -> None:
    from extractor.local import LocalExtractor
    from extractor.local.colors import dominant_colors

    pink_shirt = shirt_jpeg((250, 150, 150), 0)
    from extractor.images import decode_image

    assert dominant_colors(decode_image(pink_shirt))[0].handle == "color__pink"  # what the rules call it
    products, labels = [], []
    for i in range(40):
        rgb, handle = STORE_COLOURS[i % len(STORE_COLOURS)]
        products.append(ProductInput(product_id=f"tee-{i}", title=f"Trail tee {i}"))
        labels.append(StoreLabels(values={}, color_photos=[
            ColorPhoto(shirt_jpeg(rgb, (i % 5) * 3 - 6), handle, "top"), ColorPhoto(b"not an image", handle)]))
    report = train_store_heads(products, labels, tmp_path / "store-c")
    assert report["colors"] == 3 and report["color_photos"] == 40  # the unreadable photos are left out
    assert report["held_out_scores"]["color_accuracy"] == 1.0
    heads = load_heads(tmp_path / "store-c")
    assert heads.color_head is not None and heads.color_head.classes == ["color__black", "color__blue", "color__red"]

    [ex] = LocalExtractor(store_head=heads, safety=False).extract(
        [ProductInput(title="Trail tee", images=[pink_shirt])])
    colors = [v for a in ex.attributes if a.handle == "color" for v in a.values]
    assert colors[0].value == "color__red" and colors[0].source == "image"


def test_fit_color_head_needs_two_colours_and_aligned_rows() -> None:
    x = np.random.default_rng(0).random((6, COLOR_FEATURES)).astype(np.float32)
    assert fit_color_head(x, ["color__red"] * 6) is None
    with pytest.raises(ValueError, match="colour feature rows"):
        fit_color_head(x, ["color__red"] * 5)


def test_heads_saved_before_colour_heads_still_load(tmp_path: Path) -> None:
    import json

    x, labels = _synthetic()
    folder = train_heads(x, labels).save(tmp_path / "store-d")
    meta = json.loads((folder / "meta.json").read_text())
    for key in ("colors", "color_features"):
        meta.pop(key)
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 1}))
    old = load_heads(folder)
    assert old.color_head is None and old.categories == ["aa-1-12", "aa-1-13-8", "lb-1"]
    (folder / "meta.json").write_text(json.dumps({**meta, "format": 0}))
    with pytest.raises(ValueError, match="retrain"):
        load_heads(folder)
