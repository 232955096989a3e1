"""Loading, counts and lookups of the packaged taxonomy."""

from __future__ import annotations

import pytest

from taxonomy import Attribute, Category, Taxonomy, TaxonomyError, Value


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.load()


def test_load_is_cached(tax: Taxonomy) -> None:
    assert Taxonomy.load() is tax
    assert tax.version == "2025-01-unstable"


def test_exact_counts(tax: Taxonomy) -> None:
    assert len(tax.categories) == 10_595
    assert sum(1 for a in tax.attributes.values() if not a.extended) == 1_987
    assert sum(1 for a in tax.attributes.values() if a.extended) == 312
    assert len(tax.values) == 20_635
    assert sum(len(c.attribute_handles) for c in tax.categories.values()) == 40_255
    assert tax.stats() == {
        "categories": 10_595,
        "base_attributes": 1_987,
        "extended_attributes": 312,
        "values": 20_635,
        "category_attribute_links": 40_255,
    }


def test_levels_histogram(tax: Taxonomy) -> None:
    levels = [0] * 8
    for c in tax.categories.values():
        levels[c.level] += 1
    assert levels == [26, 211, 1_467, 3_724, 3_431, 1_300, 386, 50]


def test_category_lookup(tax: Taxonomy) -> None:
    tee = tax.category("aa-1-13-8")
    assert isinstance(tee, Category)
    assert tee.name == "T-Shirts"
    assert tee.gid == "gid://shopify/TaxonomyCategory/aa-1-13-8"
    assert tee.full_name == "Apparel & Accessories > Clothing > Clothing Tops > T-Shirts"
    assert tee.parent_id == "aa-1-13"
    assert tee.level == 3
    assert tee.children_ids == ()
    assert {"color", "fabric", "target-gender", "size"} <= set(tee.attribute_handles)
    assert tax.category_by_gid(tee.gid) is tee
    assert [c.id for c in tax.ancestors("aa-1-13-8")] == ["aa", "aa-1", "aa-1-13"]
    assert tax.ancestors("aa") == []
    assert tee in tax.children("aa-1-13")
    assert tax.category("aa").parent_id is None


def test_every_link_resolves(tax: Taxonomy) -> None:
    for c in tax.categories.values():
        for child in c.children_ids:
            assert tax.categories[child].parent_id == c.id
        for h in c.attribute_handles:
            assert h in tax.attributes
    for a in tax.attributes.values():
        for v in a.value_handles:
            assert a.handle in tax.values[v].attribute_handles


def test_full_names_match_published_list(tax: Taxonomy) -> None:
    # Spot checks against dist/en/categories.txt of the source release.
    assert (
        tax.category("ap-2-6-8").full_name
        == "Animals & Pet Supplies > Pet Supplies > Pet Apparel > Pet Hoodies"
    )
    assert tax.category("aa-8-1").full_name == "Apparel & Accessories > Shoes > Athletic Shoes"


def test_attribute_lookup_by_handle_friendly_id_and_gid(tax: Taxonomy) -> None:
    tg = tax.attribute("target-gender")
    assert isinstance(tg, Attribute)
    assert tax.attribute("target_gender") is tg
    assert tg.id == 837 and tg.gid == "gid://shopify/TaxonomyAttribute/837"
    assert tax.attribute(tg.gid) is tg
    assert not tg.extended and tg.values_from is None
    assert [tax.values[v].name for v in tg.value_handles] == ["Female", "Male", "Unisex", "Other"]
    color = tax.attribute("color")
    assert color.id == 1 and color.gid == "gid://shopify/TaxonomyAttribute/1"
    assert "color__black" in color.value_handles


def test_extended_attribute_resolves_values_from_base(tax: Taxonomy) -> None:
    frame = tax.attribute("frame-material")
    assert frame.extended and frame.id is None and frame.gid is None
    assert frame.friendly_id == "frame_material"
    base = tax.attribute(frame.values_from)
    assert base.handle == "furniture-fixture-material" and not base.extended
    assert frame.value_handles == base.value_handles and frame.value_handles
    wood = next(tax.values[v] for v in frame.value_handles if tax.values[v].name == "Wood")
    assert {"frame-material", "furniture-fixture-material"} <= set(wood.attribute_handles)
    footwear_color = tax.attribute("footwear-color")
    assert footwear_color.values_from == "color"


def test_colliding_extended_handles_stay_unique(tax: Taxonomy) -> None:
    base = tax.attribute("door-frame-application")
    ext = tax.attribute("door_frame_application")
    assert not base.extended and ext.extended
    assert ext.handle == "door-frame-application-extended"
    assert ext.value_handles == base.value_handles


def test_value_lookup(tax: Taxonomy) -> None:
    black = tax.value("color__black")
    assert isinstance(black, Value)
    assert black.id == 1 and black.name == "Black" and black.gid == "gid://shopify/TaxonomyValue/1"
    assert tax.value(1) is black and tax.value("1") is black and tax.value(black.gid) is black
    assert "color" in black.attribute_handles
    assert tax.value("target-gender__female").name == "Female"


@pytest.mark.parametrize(
    ("call", "key"),
    [
        (lambda t: t.category("zz-404"), "zz-404"),
        (lambda t: t.category_by_gid("gid://shopify/TaxonomyCategory/nope"), "nope"),
        (lambda t: t.attribute("no-such-attribute"), "no-such-attribute"),
        (lambda t: t.value("color__ultraviolet"), "color__ultraviolet"),
        (lambda t: t.value(99_999_999), "99999999"),
        (lambda t: t.ancestors("zz-1"), "zz-1"),
        (lambda t: t.children("zz-2"), "zz-2"),
        (lambda t: t.category_attributes("zz-3"), "zz-3"),
        (lambda t: t.json_schema("zz-4"), "zz-4"),
        (lambda t: t.match_value("no-such-attribute", "red"), "no-such-attribute"),
    ],
)
def test_unknown_ids_raise_taxonomy_error(tax: Taxonomy, call, key: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        call(tax)
    assert isinstance(info.value, KeyError)
    assert key in str(info.value)


def test_records_are_frozen(tax: Taxonomy) -> None:
    with pytest.raises(AttributeError):
        tax.category("aa").name = "x"  # type: ignore[misc]
