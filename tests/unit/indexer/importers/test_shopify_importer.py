from __future__ import annotations

import csv
from pathlib import Path

import pytest

from indexer.importers import detect, import_path
from indexer.store import CatalogStore

HEADER = ["Handle", "Title", "Body (HTML)", "Vendor", "Product Category", "Type", "Tags", "Published",
          "Option1 Name", "Option1 Value", "Option2 Name", "Option2 Value", "Variant SKU", "Variant Price",
          "Image Src", "Image Position", "Color (product.metafields.shopify.color-pattern)"]


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def export(tmp_path: Path) -> Path:
    (tmp_path / "img").mkdir()
    (tmp_path / "img" / "tee-front.jpg").write_bytes(b"jpeg")
    rows = [
        ["classic-tee", "Classic Tee", "<p>Soft &amp; light</p>", "Acme",
         "Apparel & Accessories > Clothing > Shirts & Tops", "T-Shirt", "summer, cotton", "true",
         "Color", "Black", "Size", "S", "TEE-BLK-S", "19.99", "https://cdn.example.com/tee.jpg", "2",
         "Black; White"],
        ["classic-tee", "", "", "", "", "", "", "", "", "Black", "", "M", "TEE-BLK-M", "21.00",
         "img/tee-front.jpg", "1", ""],
        ["classic-tee", "", "", "", "", "", "", "", "", "White", "", "S", "TEE-WHT-S", "19.99", "", "", ""],
        ["mug", "Mug", "", "", "", "Mug", "", "true", "Title", "Default Title", "", "", "MUG-1", "9",
         "img/missing.jpg", "1", ""],
        ["", "No handle", "", "", "", "", "", "", "", "", "", "", "", "", "", "", ""],
        ["cap", "Cap", "", "", "", "", "", "", "", "", "", "", "CAP-1", "not-a-price", "", "", ""],
    ]
    return write_csv(tmp_path / "products_export.csv", HEADER, rows)


def test_rows_fold_into_products(export: Path, catalog: CatalogStore) -> None:
    assert detect(export) == "shopify"
    report = import_path(catalog, "shop", export)
    assert report.imported == 2  # classic-tee and mug; the cap's only row is malformed
    assert catalog.get_product("shop", "cap") is None
    tee = catalog.get_product("shop", "classic-tee")
    assert tee.title == "Classic Tee" and tee.vendor == "Acme" and tee.product_type == "T-Shirt"
    assert tee.description == "Soft & light" and tee.description_html == "<p>Soft &amp; light</p>"
    assert tee.tags == ["summer", "cotton"]
    assert tee.merchant_category == "Apparel & Accessories > Clothing > Shirts & Tops"
    assert [(v.sku, v.options, v.price) for v in tee.variants] == [
        ("TEE-BLK-S", {"color": "Black", "size": "S"}, 19.99),
        ("TEE-BLK-M", {"color": "Black", "size": "M"}, 21.0),
        ("TEE-WHT-S", {"color": "White", "size": "S"}, 19.99),
    ]
    assert tee.price == 19.99
    # Ordered by Image Position; a local path is resolved against the CSV's folder, a URL kept.
    assert tee.images == [str((export.parent / "img" / "tee-front.jpg").resolve()),
                          "https://cdn.example.com/tee.jpg"]
    assert tee.attributes == {"color": ["Black", "White"]}
    mug = catalog.get_product("shop", "mug")
    assert mug.variants[0].options == {} and mug.images == []  # default title; missing image dropped
    assert any("products_export.csv:5:" in w and "img/missing.jpg" in w for w in report.warnings)


def test_malformed_rows_are_reported_with_lines(export: Path, catalog: CatalogStore) -> None:
    report = import_path(catalog, "shop", export)
    assert report.skipped == 2
    assert any(e.startswith(f"{export}:6:") and "missing Handle" in e for e in report.errors)
    assert any(e.startswith(f"{export}:7:") and "not-a-price" in e for e in report.errors)


def test_reimport_is_unchanged(export: Path, catalog: CatalogStore) -> None:
    import_path(catalog, "shop", export)
    seq = catalog.max_seq()
    report = import_path(catalog, "shop", export)
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 2)
    assert catalog.max_seq() == seq


def test_missing_columns_and_multiline_fields(tmp_path: Path, catalog: CatalogStore) -> None:
    path = tmp_path / "minimal.csv"
    path.write_text('Handle,Title,Body (HTML)\n'
                    'a,Alpha,"<p>line one\nline two</p>"\n'
                    'b,"Beta, the second",\n'
                    'c,Gamma,x,extra-field\n'
                    'd\n'
                    'e,Epsilon,"ok"\n', encoding="utf-8")
    report = import_path(catalog, "mini", path)
    assert catalog.product_ids("mini") == ["a", "b", "e"]
    assert catalog.get_product("mini", "a").description == "line one\nline two"
    assert catalog.get_product("mini", "b").title == "Beta, the second"
    assert catalog.get_product("mini", "a").price is None and catalog.get_product("mini", "a").variants == []
    assert report.errors == [f"{path}:5: expected 3 fields, got 4", f"{path}:6: expected 3 fields, got 1"]


def test_handle_only_with_bom(tmp_path: Path, catalog: CatalogStore) -> None:
    path = tmp_path / "bom.csv"
    path.write_bytes("\ufeffHandle\nonly-handle\n".encode())
    report = import_path(catalog, "bom", path)
    assert report.imported == 1
    assert any("no row with a Title" in w for w in report.warnings)


def test_not_a_catalog(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "other.csv", ["sku", "name"], [["1", "x"]])
    with pytest.raises(ValueError):
        detect(path)
    with pytest.raises(FileNotFoundError):
        detect(tmp_path / "absent.csv")


def test_variant_image_goes_to_its_variant(tmp_path: Path, catalog: CatalogStore) -> None:
    (tmp_path / "img").mkdir()
    for name in ("tee.jpg", "tee-red.jpg"):
        (tmp_path / "img" / name).write_bytes(b"jpeg")
    header = ["Handle", "Title", "Option1 Name", "Option1 Value", "Variant SKU", "Image Src", "Variant Image"]
    path = write_csv(tmp_path / "export.csv", header, [
        ["tee", "Tee", "Color", "Red", "TEE-RED", "img/tee.jpg", "img/tee-red.jpg"],
        ["tee", "", "", "Blue", "TEE-BLUE", "", ""],
    ])
    import_path(catalog, "shop", path)
    tee = catalog.get_product("shop", "tee")
    red, blue = tee.variants
    assert red.image == tee.images[1] and red.image.endswith("tee-red.jpg")
    assert blue.image is None


def test_a_bare_export_keeps_one_variant_per_variant_image(tmp_path: Path, catalog: CatalogStore) -> None:
    # Handles, titles and photos only: no SKU, option or price says a row is a variant, its Variant Image does.
    for name in ("p1.jpg", "p2.jpg", "p3.jpg"):
        (tmp_path / name).write_bytes(b"jpeg")
    path = write_csv(tmp_path / "bare.csv", ["Handle", "Title", "Image Src", "Variant Image"], [
        ["tee", "Tee", "p1.jpg", "p1.jpg"], ["tee", "", "p2.jpg", "p2.jpg"], ["tee", "", "p3.jpg", ""]])
    import_path(catalog, "bare", path)
    tee = catalog.get_product("bare", "tee")
    assert len(tee.images) == 3
    assert [v.image for v in tee.variants] == tee.images[:2]
    assert all(v.options == {} for v in tee.variants)
