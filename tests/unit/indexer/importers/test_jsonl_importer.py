from __future__ import annotations

import json
from pathlib import Path

import pytest

from indexer.importers import detect, import_path
from indexer.store import CatalogStore


def test_jsonl_import_with_errors(tmp_path: Path, catalog: CatalogStore) -> None:
    (tmp_path / "photo.jpg").write_bytes(b"jpeg")
    lines = [
        json.dumps({"product_id": "p1", "title": "One", "store": "other", "images": ["photo.jpg"],
                    "attributes": {"color": ["Red"]}}),
        "",
        "{not json",
        json.dumps(["a", "list"]),
        json.dumps({"product_id": "p2", "title": "Two", "price": -5}),
        json.dumps({"product_id": "p3", "unknown_field": 1}),
        json.dumps({"product_id": "p4", "title": "Four", "images": ["https://x.example/a.jpg", "gone.jpg"]}),
    ]
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert detect(path) == "jsonl"
    report = import_path(catalog, "mine", path)
    assert report.imported == 2 and report.skipped == 4
    assert [e.split(": ", 1)[0] for e in report.errors] == [f"{path}:{n}" for n in (3, 4, 5, 6)]
    assert "invalid JSON" in report.errors[0]
    assert "price" in report.errors[2] and "unknown_field" in report.errors[3]
    assert report.warnings == [f"{path}:7: image not found: gone.jpg"]
    one = catalog.get_product("mine", "p1")
    assert one.store == "mine" and one.images == [str((tmp_path / "photo.jpg").resolve())]
    assert catalog.get_product("mine", "p4").images == ["https://x.example/a.jpg"]
    assert catalog.stores() == ["mine"]

    again = import_path(catalog, "mine", path)
    assert (again.imported, again.updated, again.unchanged) == (0, 0, 2)


def test_changed_line_is_an_update(tmp_path: Path, catalog: CatalogStore) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text(json.dumps({"product_id": "p", "title": "A"}) + "\n")
    import_path(catalog, "s", path)
    path.write_text(json.dumps({"product_id": "p", "title": "B"}) + "\n")
    report = import_path(catalog, "s", path)
    assert (report.imported, report.updated, report.unchanged) == (0, 1, 0)


def test_invalid_store_name(tmp_path: Path, catalog: CatalogStore) -> None:
    path = tmp_path / "c.jsonl"
    path.write_text("")
    with pytest.raises(ValueError):
        import_path(catalog, "Not A Store", path)


def test_variant_images_resolve_with_the_product_s(tmp_path: Path, catalog: CatalogStore) -> None:
    (tmp_path / "red.jpg").write_bytes(b"jpeg")
    variants = [{"sku": "t-red", "options": {"color": "Red"}, "image": "red.jpg"},
                {"sku": "t-blue", "options": {"color": "Blue"}, "image": "blue.jpg"}]  # blue.jpg is missing
    lines = [json.dumps({"product_id": "t", "title": "Tee", "images": ["red.jpg", "blue.jpg"], "variants": variants}),
             json.dumps({"product_id": "u", "images": [], "variants": [{"sku": "u-1", "image": "red.jpg"}]})]
    path = tmp_path / "catalog.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = import_path(catalog, "mine", path)
    tee = catalog.get_product("mine", "t")
    assert [v.image for v in tee.variants] == [str((tmp_path / "red.jpg").resolve()), None]
    assert report.imported == 1 and "not one of the product's images" in report.errors[0]
