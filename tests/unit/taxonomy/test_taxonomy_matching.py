"""Free text to taxonomy values: match_value and find_values."""

from __future__ import annotations

import pytest

from taxonomy import FoundValue, Taxonomy, ValueMatch


@pytest.fixture(scope="module")
def tax() -> Taxonomy:
    return Taxonomy.load()


def top(tax: Taxonomy, attribute: str, text: str) -> str | None:
    matches = tax.match_value(attribute, text)
    return matches[0].name if matches else None


@pytest.mark.parametrize(
    ("attribute", "text", "expected"),
    [
        ("color", "grey", "Gray"),
        ("color", "Gray", "Gray"),
        ("color", "GREY", "Gray"),
        ("color", "navy blue", "Navy"),
        ("color", "Navy", "Navy"),
        ("color", "blacks", "Black"),
        ("color", "rose gold", "Rose gold"),
        ("target-gender", "mens", "Male"),
        ("target-gender", "men's", "Male"),
        ("target-gender", "for men", "Male"),
        ("target-gender", "man", "Male"),
        ("target-gender", "womens", "Female"),
        ("target-gender", "Women's", "Female"),
        ("target-gender", "ladies", "Female"),
        ("target_gender", "boys", "Male"),
        ("age-group", "kids", "Kids"),
        ("age-group", "boys", "Kids"),
        ("age-group", "girls", "Kids"),
        ("age-group", "toddler", "Toddlers"),
        ("fabric", "spandex", "Lycra"),
        ("material", "PVC", "Polyvinyl chloride (PVC)"),
        ("size", "XL", "Extra large (XL)"),
        ("size", "32", "32"),
        ("pattern", "stripes", "Striped"),
        ("neckline", "crewneck", "Crew"),
        ("footwear-color", "grey", "Gray"),  # extended attribute, synonyms of its base
        ("frame-material", "wood", "Wood"),
    ],
)
def test_match_value(tax: Taxonomy, attribute: str, text: str, expected: str) -> None:
    assert top(tax, attribute, text) == expected


def test_match_value_shape_and_confidence(tax: Taxonomy) -> None:
    exact = tax.match_value("color", "black")
    assert exact == [ValueMatch("color", "color__black", 1, "Black", 1.0)]
    partial = tax.match_value("color", "dark navy")
    assert partial[0].name == "Navy" and 0 < partial[0].confidence < exact[0].confidence
    two = tax.match_value("color", "black and white")
    assert {m.name for m in two} == {"Black", "White"}
    for m in two:
        assert 0 < m.confidence <= 1


def test_match_value_no_match(tax: Taxonomy) -> None:
    assert tax.match_value("color", "") == []
    assert tax.match_value("color", "   ") == []
    assert tax.match_value("color", "bored") == []
    assert tax.match_value("target-gender", "waterproof") == []


def by_attr(found: list[FoundValue], attribute: str) -> list[FoundValue]:
    return [f for f in found if f.attribute_handle == attribute]


def test_find_values_spans(tax: Taxonomy) -> None:
    text = "Men's navy blue crew neck tee in organic cotton, long sleeve, size XL"
    found = tax.find_values(text)
    for f in found:
        assert text[f.start : f.end] == f.text
        assert 0 < f.confidence <= 1
    color = by_attr(found, "color")
    assert [(c.name, c.text) for c in color] == [("Navy", "navy blue")]  # longest match, no extra Blue
    assert [(g.name, g.text) for g in by_attr(found, "target-gender")] == [("Male", "Men's")]
    assert [n.name for n in by_attr(found, "neckline")] == ["Crew"]
    assert [f.name for f in by_attr(found, "fabric")] == ["Cotton"]
    assert [f.name for f in by_attr(found, "sleeve-length-type")] == ["Long"]
    assert [f.text for f in by_attr(found, "size")] == ["size XL"]


def test_find_values_word_boundaries(tax: Taxonomy) -> None:
    assert tax.find_values("I was bored with titanium and a redwood table", attributes=["color"]) == []
    found = tax.find_values("a red, tan and gold titanium case", attributes=["color"])
    assert [(f.name, f.text) for f in found] == [("Red", "red"), ("Beige", "tan"), ("Gold", "gold")]


def test_find_values_shared_value_reported_per_attribute(tax: Taxonomy) -> None:
    found = tax.find_values("soft cotton")
    attrs = {f.attribute_handle for f in found if f.name == "Cotton"}
    assert {"fabric", "material"} <= attrs
    assert len({(f.start, f.end) for f in found}) == 1


def test_find_values_restricted_attributes(tax: Taxonomy) -> None:
    found = tax.find_values("black cotton hoodie for women", attributes={"color", "target_gender"})
    assert [(f.attribute_handle, f.name) for f in found] == [("color", "Black"), ("target-gender", "Female")]
    # An attribute outside the default whitelist can be asked for explicitly.
    act = tax.find_values("great for running and yoga", attributes=["activity"])
    assert [f.name for f in act] == ["Running", "Yoga"]
    assert tax.find_values("black", attributes=[]) == []


def test_find_values_ignores_ambiguous_numbers_and_words(tax: Taxonomy) -> None:
    found = tax.find_values("black hoodie under $60, 2 pockets, a long day")
    assert [(f.attribute_handle, f.name) for f in found] == [("color", "Black")]


def test_find_values_empty_and_large_text(tax: Taxonomy) -> None:
    assert tax.find_values("") == []
    assert tax.find_values("   ...  ") == []
    chunk = "A comfortable everyday shirt in grey with navy blue stripes for men. "
    text = chunk * (100_000 // len(chunk) + 1)
    assert len(text) >= 100_000
    found = tax.find_values(text, attributes=["color"])
    repeats = text.count(chunk)
    assert len(found) == 2 * repeats
    assert {f.name for f in found} == {"Gray", "Navy"}
    last = found[-1]
    assert text[last.start : last.end] == last.text == "navy blue"
