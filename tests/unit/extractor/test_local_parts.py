"""Pieces of the local extractor: colour naming, query expansion, the photo's vertical, safety gating,
the Magento merchant path, and sharded batches."""

from __future__ import annotations

import numpy as np
from PIL import Image

from extractor.datasets.magento import _shorthand_path, merchant_path
from extractor.local.category import photo_vertical
from extractor.local.colors import (
    BLACK_BELOW_L,
    PINK_ABOVE_L,
    WHITE_ABOVE_L,
    _ciede2000,
    _palette,
    _skin_mask,
    name_color,
)
from extractor.local.text import category_query, expand_title
from extractor.models import ProductInput


def test_palette_names_are_taxonomy_colors() -> None:
    from taxonomy import Taxonomy

    handles = set(Taxonomy.load().attribute("color").value_handles)
    _, names = _palette()
    assert {"color__" + n.lower() for n in names} <= handles
    for rgb, want in [((20, 30, 70), "Navy"), ((255, 165, 0), "Orange"), ((34, 139, 34), "Green"),
                      ((128, 0, 128), "Purple"), ((255, 192, 203), "Pink"), ((200, 0, 0), "Red"),
                      ((255, 255, 0), "Yellow"), ((139, 69, 19), "Brown"), ((210, 180, 140), "Beige"),
                      ((0, 0, 0), "Black"), ((128, 128, 128), "Gray"), ((240, 240, 240), "White")]:
        assert name_color(rgb) == want, rgb


def test_neutrals_follow_iscc_nbs_lightness_bands() -> None:
    # A black garment under studio light is a dark gray on screen (L* about 20): black below Munsell value 2.5.
    assert name_color((45, 45, 45)) == "Black"
    assert name_color((75, 75, 75)) == "Gray"
    assert name_color((222, 222, 222)) == "White"
    assert 24 < BLACK_BELOW_L < 26 and 84 < WHITE_ABOVE_L < 86 and 64 < PINK_ABOVE_L < 66


def test_skin_rule_spares_yellow_and_orange_fabric() -> None:
    rgb = np.array([[[224, 172, 140], [235, 220, 120], [230, 120, 40], [60, 60, 200]]], dtype=np.uint8)
    assert _skin_mask(rgb)[0].tolist() == [True, False, False, False]


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
