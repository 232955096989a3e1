from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from PIL import Image

from indexer.importers import detect, fixture_path, import_path
from indexer.importers.common import entity_text, html_to_text
from indexer.store import CatalogStore

LUMA_COLORS = {"Blue", "Black", "Red", "Green", "Purple", "Orange", "Gray", "Yellow", "White", "Brown",
               "Lavender"}


@pytest.fixture(scope="module")
def imported(tmp_path_factory: pytest.TempPathFactory):
    catalog = CatalogStore.open(f"sqlite:///{tmp_path_factory.mktemp('fixture') / 'catalog.db'}")
    report = import_path(catalog, "demo", fixture_path())
    yield catalog, report
    catalog.close()


def test_fixture_is_bundled_with_licenses() -> None:
    root = fixture_path()
    for name in ("LICENSE.txt", "LICENSE_AFL.txt", "images/LICENSE.txt"):
        assert (root / name).is_file()
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    assert size <= 15 * 1024 * 1024
    assert detect(root) == "magento"


def test_fixture_imports_every_product(imported) -> None:
    catalog, report = imported
    assert (report.imported, report.updated, report.unchanged, report.skipped) == (199, 0, 0, 0)
    assert report.errors == [] and report.warnings == []
    assert catalog.count_products("demo") == 199
    products = list(catalog.iter_products("demo"))
    kinds = Counter(p.product_type for p in products)
    assert kinds["Top"] + kinds["Bottom"] == 147  # configurable apparel
    assert sum(len(p.variants) for p in products) == 1847
    colors = {c for p in products for c in p.option_values("color")}
    assert colors == LUMA_COLORS


def test_configurable_folds_its_variants(imported) -> None:
    catalog, _ = imported
    hoodie = catalog.get_product("demo", "MH01")
    assert hoodie.title == "Chaz Kangeroo Hoodie"
    assert hoodie.price == 52.0
    assert hoodie.merchant_category == "Men/Tops/Hoodies & Sweatshirts"
    assert set(hoodie.option_values("color")) == {"Black", "Gray", "Orange"}
    assert hoodie.option_values("size") == ["XS", "S", "M", "L", "XL"]
    assert len(hoodie.variants) == 15 and hoodie.variants[0].sku == "MH01-XS-Black"
    assert hoodie.attributes["material"] == ["Wool"]
    assert hoodie.attributes["climate"] == ["All-weather", "Cool", "Indoor", "Spring", "Windy"]
    assert "has_options" not in hoodie.attributes
    assert "<p>" in hoodie.description_html and "<" not in hoodie.description
    assert "&bull;" not in hoodie.description
    # Base image first, then one photo per color variant; all of them on disk.
    assert hoodie.images[0].endswith("mh01-gray_main.jpg")
    assert any(i.endswith("mh01-black_main.jpg") for i in hoodie.images)
    assert any(i.endswith("mh01-orange_main.jpg") for i in hoodie.images)
    # A variant whose own photo is among them carries it: the photos a store's colour head learns from.
    with_photo = [v for v in hoodie.variants if v.image]
    assert {v.options["color"] for v in with_photo} == {"Black", "Gray", "Orange"}
    assert all(v.image in hoodie.images and v.options["color"].lower() in v.image for v in with_photo)
    # Variant rows are not products of their own.
    assert catalog.get_product("demo", "MH01-XS-Black") is None


def test_gear_and_other_product_types(imported) -> None:
    catalog, _ = imported
    bag = catalog.get_product("demo", "24-MB01")
    assert bag.title == "Joust Duffle Bag" and bag.price == 34.0
    assert bag.merchant_category == "Gear/Bags"
    assert bag.attributes["material"] == ["Nylon", "Polyester"]
    assert bag.attributes["activity"] == ["Gym", "Travel", "Trail", "Overnight"]
    assert bag.variants == []
    assert catalog.get_product("demo", "24-MB04").merchant_category == "Gear/Bags"  # not a collection
    assert catalog.get_product("demo", "24-WG080").merchant_category == "Gear/Fitness Equipment"  # bundle
    assert catalog.get_product("demo", "24-WG085_Group") is not None  # grouped
    video = catalog.get_product("demo", "240-LV04")  # downloadable
    assert video.merchant_category == "Training/Video Download" and video.price == 6.0


def test_every_image_exists_and_is_small(imported) -> None:
    catalog, _ = imported
    images = [i for p in catalog.iter_products("demo") for i in p.images]
    assert len(images) > 500
    for image in images:
        assert Path(image).is_absolute() and Path(image).is_file()
    with Image.open(images[0]) as first:
        assert max(first.size) <= 512


def test_reimport_changes_nothing(imported) -> None:
    catalog, _ = imported
    seq = catalog.max_seq()
    report = import_path(catalog, "demo", fixture_path())
    assert (report.imported, report.updated, report.unchanged) == (0, 0, 199)
    assert catalog.max_seq() == seq


def test_missing_images_warn_and_bad_rows_are_reported(tmp_path: Path, catalog: CatalogStore) -> None:
    root = tmp_path / "luma"
    shutil.copytree(fixture_path() / "fixtures" / "CatalogSampleData", root / "fixtures" / "CatalogSampleData")
    shutil.copytree(fixture_path() / "images" / "m" / "b", root / "images" / "m" / "b")
    bags = root / "fixtures" / "CatalogSampleData" / "SimpleProduct" / "products_gear_bags.csv"
    with open(bags, "a", encoding="utf-8") as handle:
        handle.write('"Gear\nBags","Bad Price Bag",24-BAD,cheap,100,,,,,,,,,,,,,,Bag\n')
        handle.write("only,three,fields\n")
    report = import_path(catalog, "gear", root)
    assert report.skipped == 2
    assert any("products_gear_bags.csv:" in e and "24-BAD" in e for e in report.errors)
    assert any("expected 19 fields, got 3" in e for e in report.errors)
    assert any("image not found" in w for w in report.warnings)  # watches, fitness images not copied
    assert catalog.get_product("gear", "24-MB01").images  # bag images were copied
    assert catalog.get_product("gear", "24-MG01").images == []
    assert report.imported == catalog.count_products("gear") == 44


def test_html_to_text() -> None:
    assert html_to_text("<p>A&amp;B</p><ul><li>one</li><li>two</li></ul>") == "A&B\none\ntwo"
    assert html_to_text("") == ""


def test_names_are_shown_as_text_not_entities(imported) -> None:
    catalog, _ = imported
    # Magento keeps product names with HTML entities ("Ryker LumaTech&trade; Tee (V-neck)").
    assert catalog.get_product("demo", "MS02").title == "Ryker LumaTech\u2122 Tee (V-neck)"
    assert not any("&" in p.title and ";" in p.title for p in catalog.iter_products("demo"))
    assert entity_text(" Gobi HeatTec&reg; Tee ") == "Gobi HeatTec\u00ae Tee"
    assert entity_text(None) == ""


def test_attribute_values_are_shown_as_text_not_entities(imported) -> None:
    catalog, _ = imported
    # And so are its attribute values' names ("CoolTech&trade;", "&frac14; zip").
    values = [v for p in catalog.iter_products("demo") for vs in p.attributes.values() for v in vs]
    assert "CoolTech\u2122" in values and "\u00bc zip" in values
    assert not [v for v in values if "&" in v and ";" in v]
