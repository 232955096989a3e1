"""Pieces of the local extractor: colour naming, query expansion, the photo's vertical, safety gating,
the Magento merchant path, and sharded batches."""

from __future__ import annotations

import numpy as np
from PIL import Image

from extractor.datasets.magento import _shorthand_path, merchant_path
from extractor.local.category import photo_vertical
from extractor.local.colors import _ciede2000, _palette, name_color
from extractor.local.text import category_query, expand_title
from extractor.models import ProductInput


def test_palette_names_are_taxonomy_colors() -> None:
    from taxonomy import Taxonomy

    handles = set(Taxonomy.load().attribute("color").value_handles)
    _, names = _palette()
    assert {"color__" + n.lower() for n in names} <= handles
    for rgb, want in [((0, 0, 128), "Navy"), ((255, 165, 0), "Orange"), ((34, 139, 34), "Green"),
                      ((128, 0, 128), "Purple"), ((255, 192, 203), "Pink"), ((255, 255, 0), "Yellow"),
                      ((139, 69, 19), "Brown"), ((245, 245, 220), "Beige"), ((0, 0, 0), "Black")]:
        assert name_color(rgb) == want, rgb


def test_ciede2000_reference_pair() -> None:
    # Sharma, Wu & Dalal (2005), test pair 1: 2.0425
    d = _ciede2000(np.array([50.0, 2.6772, -79.7751]), np.array([50.0, 0.0, -82.7485]))
    assert abs(float(d) - 2.0425) < 1e-3


def test_title_expansion_and_merchant_path_in_query() -> None:
    assert expand_title("Kratos Gym Pant") == "pants"
    assert expand_title("Strike Endurance Tee") == "t-shirt"
    assert expand_title("Shell Jacket") == ""
    query = category_query(ProductInput(title="Karmen Yoga Pant", merchant_category="Women/Bottoms/Pants",
                                        product_type="Bottom"))
    assert "pants" in query and "Women > Bottoms > Pants" in query and "Bottom" in query


def test_photo_vertical() -> None:
    assert photo_vertical({"aa-1-13-8": 0.5, "aa-1-12": 0.2, "fd-1": 0.05}) == "aa"
    assert photo_vertical({"aa-1-13-8": 0.3, "lb-1": 0.3}) is None
    assert photo_vertical({"aa-1-13-8": 0.1}) is None  # too little evidence
    assert photo_vertical({}) is None


def test_magento_merchant_paths() -> None:
    assert merchant_path(["Default Category/Men/Tops/Tees", "Default Category/Collections/Eco Friendly",
                          "Default Category"]) == "Men/Tops/Tees"
    assert _shorthand_path("Gear\nBags\nCollections\nErin Recommends") == "Gear/Bags"


def test_nudity_gate_skips_skinless_images() -> None:
    from extractor.local.safety import get_nudity_model, skin_share

    blue = Image.new("RGB", (300, 300), (20, 40, 200))
    assert skin_share(blue) == 0.0
    assert get_nudity_model().scores([blue]) == [{}]


def test_sharded_batch_keeps_order() -> None:
    from extractor.local import LocalExtractor

    products = [ProductInput(product_id=str(i), title=t) for i, t in
                enumerate(["Red tee", "Leather backpack", "Yoga pants", "Steel water bottle"] * 3)]
    out = LocalExtractor(safety=False).extract(products)
    assert len(out) == len(products)
    single = LocalExtractor(safety=False).extract(products[:2])
    assert [o.category.id for o in out[:2]] == [s.category.id for s in single]
    assert out[1].category.id == out[5].category.id == out[9].category.id
