"""Per-store heads: fit, held-out report, versioned save/load, and use by the local extractor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.local.train import (
    FEATURES,
    StoreHeads,
    StoreLabels,
    load_heads,
    train_heads,
    train_store_heads,
)
from extractor.models import ProductInput


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
    assert ("color", "color__red") in heads.values
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

    kinds = [("Trail tee", "aa-1-13-8", "color__red"), ("Trail pant", "aa-1-12", "color__blue"),
             ("Trail pack", "lb-1", "color__black")]
    products, labels = [], []
    for i in range(30):
        title, cat, color = kinds[i % 3]
        products.append(ProductInput(product_id=f"p{i}", title=f"{title} {i}"))
        labels.append({"category": cat, "values": {"color": [color]}})
    report = train_store_heads(products, labels, tmp_path / "store-b")
    assert report["version"] == 1 and report["train"] + report["held_out"] == 30
    assert report["held_out_scores"]["category_accuracy"] is not None
    extractor = LocalExtractor(store_head=tmp_path / "store-b", safety=False)
    [ex] = extractor.extract([ProductInput(title="Trail pant 99")])
    assert ex.category is not None
    colors = {v.value for a in ex.attributes if a.handle == "color" for v in a.values}
    assert "color__blue" in colors
