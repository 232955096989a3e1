"""Size expressions in titles -> taxonomy size values (extractor.local.sizes), their use in the text hits,
and the evaluator's reading of gold size strings."""

from __future__ import annotations

import pytest

from extractor.evaluate import _gold_values
from extractor.local.sizes import SIZE_ATTRIBUTES, find_sizes, names_a_shoe_size
from extractor.local.text import find_text_values
from extractor.models import ProductInput
from taxonomy import Taxonomy


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


def _handles(taxonomy: Taxonomy, text: str, title: bool = True) -> set[str]:
    return {f.value for f in find_sizes(taxonomy, text, title=title)}


@pytest.mark.parametrize(("title", "expected"), [
    # Shoe sizes: width letter and/or sizing system; shoe-size only.
    ("Crocs Women's Jayna Ballet Flat,Nautical Navy,4 M US", {"shoe-size__4"}),
    ("Volatile Women's Cash Sneaker,White,7.5 M US", {"shoe-size__7-5"}),
    ("Dunham Men's 8500, Brown, 13 4E US", {"shoe-size__13"}),
    ("Tamarac Men's Handsewn Suede Leather 10 D(M) US Black-Suede", {"shoe-size__10"}),
    ("Stacy Adams Men's Dayton Wing-Tip Oxford,Black/White,12 D", {"shoe-size__12"}),
    ("Birkenstock Unisex Profi Birki Work Shoe,Blue,41 M EU", {"shoe-size__41"}),
    ("Baby Deer 2154 Crib Shoe (Infant),White/Blue,0.5 M US Infant", {"shoe-size__0-5"}),
    # Several sizing systems: the US one.
    ("Camper Men's Pelotas XL 18304, Dark Brown, 41 EU/8 M US", {"shoe-size__8"}),
    ("Dr. Martens Women's 1B60 20-Eye Boot,Black,7 UK (US Women's 9 M)", {"shoe-size__9"}),
    # A shoe title's trailing number, after a comma or a colour.
    ("Keds Women's Bryn Ballet Flat, Breton Stripe, 5", {"shoe-size__5"}),
    ("Michael Michael Kors MK Flex Kitten Pump Black Patent 8", {"shoe-size__8"}),
    # "US 6" without a width may be a clothing size as well.
    ("Yellow Box womens Shelly-s sandals, Pewter, 6 US", {"shoe-size__6", "size__6"}),
    # Letter sizes standing alone in a list item of the title, for every attribute that has the value.
    ("RZ Mask M2 Mesh Dust Mask for Woodworking, Construction, Medium, Navy",
     {"size__medium-m", "shoe-size__medium-m", "accessory-size__medium-m"}),
    ("GILL Mask | Reusable Half Mask Respirator (Adult Regular, White)", {"accessory-size__regular-r"}),
    ("kensie Women's 2-Piece Face Mask Set, Pink Leopard, Standard", {"accessory-size__standard"}),
    ("Atzi Hats Face Mask Black 3 Layer Cotton Masks (Medium Kids Ages 7-13)",
     {"size__medium-m", "shoe-size__medium-m", "accessory-size__medium-m"}),
    # Next to the word size.
    ("Maxboost Fabric Face Mask - Pack of 3 (X-Large Size) 2 Layer, Reusable",
     {"size__extra-large-xl", "shoe-size__extra-large-xl", "accessory-size__extra-large-xl"}),
    ("Kids Face Mask - 50 pack - Small Size Face Mask", {"size__small-s", "shoe-size__small-s",
                                                         "accessory-size__small-s"}),
    ("Men's Crew T-Shirt Size M Navy", {"size__medium-m", "shoe-size__medium-m", "accessory-size__medium-m"}),
    ("Women's Wrap Dress, Size 10", {"size__10", "shoe-size__10"}),
    # Slash combos: every member.
    ("Cloth Face Mask - Washable & Reusable - Adult L/XL - Cotton",
     {"size__large-l", "size__extra-large-xl", "shoe-size__large-l", "shoe-size__extra-large-xl",
      "accessory-size__large-l", "accessory-size__extra-large-xl"}),
    # Unambiguous names anywhere.
    ("Felina | Reusable Organic Cotton Face Mask | 4-Pack (Earth Tones, One Size)",
     {"size__one-size", "accessory-size__one-size"}),
    ("Contraband Sports Sport Mask (Blue 4pk, OSFA)", {"size__one-size", "accessory-size__one-size"}),
    ("Carter's Baby Bodysuit 3-6 Months", {"size__3-6-months"}),
])
def test_title_sizes(taxonomy: Taxonomy, title: str, expected: set[str]) -> None:
    assert _handles(taxonomy, title) == expected


@pytest.mark.parametrize("title", [
    "Size Matters: A Book About Big and Small",
    "Size-Adjustable Cloth Face Mask for Men & Women 4 Pcs",
    "Glop & Glam Cake Butter Hydrating Conditioner -Size 10.7 oz",
    "Starbucks Medium Roast Ground Coffee, 28-ounce bag",
    "Persil Liquid Laundry Detergent, ProClean Scent, 2X Concentrated, 110 Loads",
    "Purity Pool OS Out Spot Stain Remover",
    "BASE CAMP M Plus Dust Face Mask 1 Pack for Woodworking",
    "MyChelle Sun Shield Liquid SPF 50 Light/Medium, 1 Fl Oz",
    "Grandma's Secret Sneaker Cleaner Spray, 3 oz - Pack of 3",
    "Supra Skytop 2",
    "Nature Made Vitamin D3 1000 IU, 16 oz, 2 Pack",
    "UK 3 Pin Plug Adapter",
    "Colgate Slimsoft Toothbrush, Pack of 6",
    "Kellogg's Rice Krispies Toasted Rice Cereal, Large 34.4 Ounce Box - 2 Bags",
    "Levi's Men's 505 Jeans, Regular Fit, Dark Stonewash",
])
def test_titles_without_a_size(taxonomy: Taxonomy, title: str) -> None:
    assert _handles(taxonomy, title) == set()


def test_model_name_code_is_not_a_size(taxonomy: Taxonomy) -> None:
    # "Pelotas XL 18304" is a model; the size is the US one at the end.
    assert _handles(taxonomy, "Camper Men's Pelotas XL 18304, Dark Brown, 9 M US") == {"shoe-size__9"}


def test_list_items_count_in_titles_only(taxonomy: Taxonomy) -> None:
    text = "Comes in three colours, Medium, and a gift box"
    assert _handles(taxonomy, text, title=True) == {"size__medium-m", "shoe-size__medium-m",
                                                    "accessory-size__medium-m"}
    assert _handles(taxonomy, text, title=False) == set()
    # Sizes that say so on their own count anywhere.
    assert "size__extra-large-xl" in _handles(taxonomy, "The model wears size XL.", title=False)
    assert "shoe-size__8-5" in _handles(taxonomy, "Runs true to size; ordered 8.5 M US.", title=False)


def test_only_taxonomy_values(taxonomy: Taxonomy) -> None:
    values = set()
    for handle in SIZE_ATTRIBUTES:
        values |= set(taxonomy.attribute(handle).value_handles)
    for title in ("Nike Men's Air Max Running Shoe, Black, 61 EU", "Face Mask, Age 3-7", "Boots, 17\""):
        assert _handles(taxonomy, title) <= values
    assert _handles(taxonomy, "Nike Men's Air Max Running Shoe, Black, 61 EU") == set()  # no size 61
    found = find_sizes(taxonomy, "Sneaker, White, 7 M US")
    assert [(f.attribute, f.value, f.text) for f in found] == [("shoe-size", "shoe-size__7", "7 M US")]
    assert all(0 < f.confidence <= 1 for f in found)


def test_text_hits_take_sizes_from_the_size_parser(taxonomy: Taxonomy) -> None:
    hits = find_text_values(taxonomy, ProductInput(product_id="1", title="Persil Detergent, 2X Concentrated"))
    assert not [h for h in hits if h.attribute in SIZE_ATTRIBUTES]
    hits = find_text_values(taxonomy, ProductInput(product_id="2", title="Sperry Women's Angelfish, Black, 8 M US",
                                                   description="A boat shoe. Available in Medium and Wide."))
    sizes = {(h.attribute, h.value, h.source) for h in hits if h.attribute in SIZE_ATTRIBUTES}
    assert sizes == {("shoe-size", "shoe-size__8", "text")}
    assert {"color__black"} <= {h.value for h in hits}


@pytest.mark.parametrize(("gold", "expected"), [
    ("7.5 M US", {"7-5"}),  # shoe size 7.5 in width M, not the M of `size`
    ("15 M US", {"15"}),
    ("6 M US", {"6"}),
    ("Medium", {"medium-m"}),
    ("L/XL", {"large-l"}),
    ("One Size", {"one-size"}),
    ("Compact", {"compact"}),
])
def test_gold_size_strings(taxonomy: Taxonomy, gold: str, expected: set[str]) -> None:
    assert _gold_values(taxonomy, "size", [gold]) == expected


def test_gold_material_keeps_the_first_attribute_on_whole_matches(taxonomy: Taxonomy) -> None:
    # "Spandex" names a fabric value (by synonym) and a material value: family order decides, as before.
    assert _gold_values(taxonomy, "material", ["Spandex"]) == {"lycra"}
    assert _gold_values(taxonomy, "material", ["Cotton"]) == {"cotton"}


@pytest.mark.parametrize(("title", "shoe"), [
    ("Acme Men's Driving Moccasin, Brown, 9.5 M US", True),
    ("Acme Men's Wing-Tip Oxford,Black/White,12 D", True),
    ("Acme Women's Sandal, Tan, 8 B(M) US", True),
    ("Acme Women's Sandal EU38", False),  # European clothing sizes run 32-48 too
    ("Acme Kitten Pump Black Patent 8", False),  # a bare number is a size only in context, no proof of a shoe
    ("Acme Hoodie, Black, Size M", False),
    ("Vitamin D3 5000 IU, 2 Pack", False),
])
def test_a_shoe_size_with_its_width_or_system_says_footwear(taxonomy: Taxonomy, title: str, shoe: bool) -> None:
    assert names_a_shoe_size(taxonomy, title) is shoe


def test_a_title_with_a_shoe_size_is_filed_where_shoe_sizes_are(taxonomy: Taxonomy) -> None:
    """Title words alone file these under saddles, figure-8 climbing devices and banjos; the shoe size keeps
    the category among those the taxonomy sizes by shoe size, so the size is kept too."""
    from extractor.local import LocalExtractor

    titles = ["Acme Men's Catalina Slip-On,Saddle Tan,12 M US", "Acme Men's Battery Park Slip On,Black,8 D US",
              "Acme Women's 5-String Moccasin, Navy, 9.5 N US"]
    for title, ex in zip(titles, LocalExtractor(safety=False).extract([ProductInput(title=t) for t in titles]),
                         strict=True):
        assert ex.category is not None and "shoe-size" in taxonomy.category(ex.category.id).attribute_handles, title
        assert any(a.handle == "shoe-size" for a in ex.attributes), title
