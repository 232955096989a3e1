"""Exact parses of shopper queries against a small Luma-like store vocabulary and the real taxonomy."""

from __future__ import annotations

import pytest
from vocab_fixture import (
    BACKPACKS,
    BAGS,
    DUFFELS,
    HOODIES,
    JACKETS,
    PANTS,
    SHORTS,
    TANKS,
    TEES,
    WATCHES,
    WATER_BOTTLES,
)

from indexer.engines.types import Sort
from search_api.query.parse import MAX_QUERY_CHARS, parse_query

ASC = Sort("price")
DESC = Sort("price", descending=True)
NEWEST = Sort("created_at", descending=True)

# query -> (retrieval text, filter ids in text order, sort)
CASES: list[tuple[str, str, list[str], Sort | None]] = [
    (
        "black hoodie for men under $60, not cotton",
        "",
        [
            "attr.color:color__black",
            f"category:{HOODIES}",
            "attr.target-gender:target-gender__male",
            "price:lte:60",
            "not:attr.material:material__cotton",
        ],
        None,
    ),
    ("cheapest yoga pants", "", ["attr.activity:activity__yoga", f"category:{PANTS}"], ASC),
    ("$20-$40 water bottle", "", ["price:gte:20:lte:40", f"category:{WATER_BOTTLES}"], None),
    (
        "womens running shorts size M",
        "",
        [
            "attr.target-gender:target-gender__female",
            "attr.activity:activity__running",
            f"category:{SHORTS}",
            "attr.size:size__medium-m",
        ],
        None,
    ),
    ("anything but red", "", ["not:attr.color:color__red"], None),
    ("duffel bag", "", [f"category:{DUFFELS}"], None),
    (
        "show me grey mens tees",
        "",
        ["attr.color:color__gray", "attr.target-gender:target-gender__male", f"category:{TEES}"],
        None,
    ),
    (
        "navy blue women's running shorts",
        "",
        [
            "attr.color:color__navy",
            "attr.target-gender:target-gender__female",
            "attr.activity:activity__running",
            f"category:{SHORTS}",
        ],
        None,
    ),
    ("jacket without a hood", "", [f"category:{JACKETS}", "not:attr.style:style__hooded"], None),
    ("no black or blue", "", ["not:attr.color:color__black", "not:attr.color:color__blue"], None),
    ("non-cotton tank", "", ["not:attr.material:material__cotton", f"category:{TANKS}"], None),
    ("hoodie except red", "", [f"category:{HOODIES}", "not:attr.color:color__red"], None),
    ("I want a balck hoodie", "", ["attr.color:color__black", f"category:{HOODIES}"], None),
    ("hodie", "", [f"category:{HOODIES}"], None),
    ("between 20 and 40 dollars", "", ["price:gte:20:lte:40"], None),
    ("20 to 40 dollars jacket", "", ["price:gte:20:lte:40", f"category:{JACKETS}"], None),
    ("over 100", "", ["price:gte:100"], None),
    ("more than $75 watch", "", ["price:gte:75", f"category:{WATCHES}"], None),
    ("at most $30 bag", "", ["price:lte:30", f"category:{BAGS}"], None),
    ("max $30", "", ["price:lte:30"], None),
    ("below 40", "", ["price:lte:40"], None),
    ("less than 40 yoga", "", ["price:lte:40", "attr.activity:activity__yoga"], None),
    (
        "above $50 jacket for women",
        "",
        ["price:gte:50", f"category:{JACKETS}", "attr.target-gender:target-gender__female"],
        None,
    ),
    ("most expensive watch", "", [f"category:{WATCHES}"], DESC),
    ("newest jackets", "", [f"category:{JACKETS}"], NEWEST),
    ("lowest price backpack", "", [f"category:{BACKPACKS}"], ASC),
    ("cheap tee", "", [f"category:{TEES}"], ASC),
    ("cheap tee under 20", "", [f"category:{TEES}", "price:lte:20"], None),
    ("organic cotton tee", "", ["attr.material:material__organic-cotton", f"category:{TEES}"], None),
    ("size 32 pants", "", ["attr.size:size__32", f"category:{PANTS}"], None),
    ("XL hoodie", "", ["attr.size:size__extra-large-xl", f"category:{HOODIES}"], None),
    ("shorts M", "", [f"category:{SHORTS}", "attr.size:size__medium-m"], None),
    ("32 oz water bottle", "32 oz", [f"category:{WATER_BOTTLES}"], None),
    ("Luma backpack", "", ["vendor:Luma", f"category:{BACKPACKS}"], None),
    ("lavender tank", "", ["attr.color:color__lavender", f"category:{TANKS}"], None),
    ("kids hoodie", "", ["attr.age-group:age-group__kids", f"category:{HOODIES}"], None),
    ("full zip hoodie with pockets", "pockets", ["attr.style:style__full-zip", f"category:{HOODIES}"], None),
    (
        "red or blue hoodie",
        "",
        ["attr.color:color__red", "attr.color:color__blue", f"category:{HOODIES}"],
        None,
    ),
    ("striped shirt", "shirt", ["attr.pattern:pattern__striped"], None),  # the store sells no shirts
    ("orange hoodie", "orange", [f"category:{HOODIES}"], None),  # no orange in the store: stays text
    ("waterproof sneakers", "waterproof sneakers", [], None),
    ("new balance", "new balance", [], None),
    ("no show socks", "no show socks", [], None),
    ("yes", "yes", [], None),  # a value named "Yes" is never a filter
    ('"hoodie" : * ( AND', "", [f"category:{HOODIES}"], None),
    ("title:(foo OR bar*) AND -baz", "title foo bar baz", [], None),
    ("", "", [], None),
    ("   ", "", [], None),
]


@pytest.mark.parametrize(("query", "text", "ids", "sort"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_parse_query_exact(query, text, ids, sort, vocab, taxonomy):
    parsed = parse_query(query, vocab, taxonomy)
    assert parsed.text == text
    assert [f.id for f in parsed.filters] == ids
    assert parsed.sort == sort


def test_filters_carry_span_label_confidence_and_source(vocab, taxonomy):
    q = "black hoodie for men under $60, not cotton"
    parsed = parse_query(q, vocab, taxonomy)
    by_id = {f.id: f for f in parsed.filters}
    black = by_id["attr.color:color__black"]
    assert (black.label, black.span, black.field, black.op, black.values) == (
        "Color: Black",
        (0, 5),
        "attr.color",
        "eq",
        ["color__black"],
    )
    assert q[slice(*by_id[f"category:{HOODIES}"].span)] == "hoodie"
    assert by_id[f"category:{HOODIES}"].label == "Category: Hoodies"
    assert q[slice(*by_id["attr.target-gender:target-gender__male"].span)] == "for men"
    price = by_id["price:lte:60"]
    assert (price.label, price.lte, price.gte, q[slice(*price.span)]) == (
        "Under $60",
        60.0,
        None,
        "under $60",
    )
    cotton = by_id["not:attr.material:material__cotton"]
    assert (cotton.label, cotton.negated, q[slice(*cotton.span)]) == ("Not Cotton", True, "not cotton")
    assert all(f.source == "parsed" and 0 < f.confidence <= 1 for f in parsed.filters)


def test_misspelling_is_less_confident_than_exact(vocab, taxonomy):
    exact = parse_query("black hoodie", vocab, taxonomy).filters[0]
    typo = parse_query("balck hoodie", vocab, taxonomy).filters[0]
    assert exact.id == typo.id == "attr.color:color__black"
    assert typo.confidence < exact.confidence


def test_known_word_is_never_corrected(vocab, taxonomy):
    # "shirts" is one edit from "shorts" but is a word of the taxonomy: it stays text.
    parsed = parse_query("shirts", vocab, taxonomy)
    assert (parsed.text, parsed.filters) == ("shirts", [])


def test_price_labels(vocab, taxonomy):
    labels = {
        f.id: f.label
        for q in ("$20-$40", "over 100", "under 19.99", "under 1k")
        for f in parse_query(q, vocab, taxonomy).filters
    }
    assert labels == {
        "price:gte:20:lte:40": "$20 - $40",
        "price:gte:100": "Over $100",
        "price:lte:19.99": "Under $19.99",
        "price:lte:1000": "Under $1000",
    }


def test_long_query_is_cut_safely(vocab, taxonomy):
    query = ("black hoodie " * 500)[:5000]
    parsed = parse_query(query, vocab, taxonomy)
    assert [f.id for f in parsed.filters] == ["attr.color:color__black", f"category:{HOODIES}"]
    assert parsed.text == ""
    words = parse_query("lorem " * 1000, vocab, taxonomy).text.split()
    assert 0 < len(" ".join(words)) <= MAX_QUERY_CHARS and set(words) == {"lorem"}


def test_odd_characters_never_crash(vocab, taxonomy):
    for query in [
        '"',
        ":",
        "*",
        "(",
        ")",
        "AND",
        "OR NOT",
        "\\",
        "$",
        "$$$",
        "-",
        "--5",
        "1e309",
        "\x00",
        "🙂 hoodie",
        "İstanbul",
        "ß",
        "under $",
        "size",
        "size ?",
        "between and",
        "$-$",
        "x" * 5000,
        "9" * 600,
    ]:
        parsed = parse_query(query, vocab, taxonomy)
        assert isinstance(parsed.text, str)


def test_parse_without_taxonomy_uses_store_names(vocab):
    parsed = parse_query("black hoodies under 50", vocab, None)
    assert [f.id for f in parsed.filters] == [
        "attr.color:color__black",
        f"category:{HOODIES}",
        "price:lte:50",
    ]


def test_parse_is_deterministic(vocab, taxonomy):
    q = "womens running shorts size M under $40 not black"
    assert parse_query(q, vocab, taxonomy) == parse_query(q, vocab, taxonomy)


def test_misspelt_plural_name_is_corrected_as_typed(vocab, taxonomy):
    # "shrots" singularizes to "shrot", one swap from the sleeve length "Short"; as typed it is one swap
    # from the category name "Shorts", which the shopper meant.
    parsed = parse_query("mens shrots", vocab, taxonomy)
    assert f"category:{SHORTS}" in [f.id for f in parsed.filters]
    assert not any(f.field == "attr.sleeve-length-type" for f in parsed.filters)


def test_a_corrected_word_completes_a_phrase_as_the_correct_spelling_would(taxonomy):
    # "yoga pants" is a phrase the taxonomy reads as Leggings; "yoga pnats" corrected word by word would be
    # the activity Yoga (as text) and Pants. The correction is tried inside phrases first.
    from search_api.query.vocabulary import StoreVocabulary

    store = StoreVocabulary(attributes={"activity": {"activity__yoga": "Yoga"}},
                            categories={"aa-1": "Clothing", "aa-1-12": "Pants", "aa-1-12-8": "Leggings"})
    right = parse_query("yoga pants", store, taxonomy)
    typo = parse_query("yoga pnats", store, taxonomy)
    assert [f.values for f in typo.filters] == [f.values for f in right.filters] == [["aa-1-12-8"]]
    assert typo.text == right.text == ""
    assert typo.filters[0].confidence < right.filters[0].confidence  # a correction is less sure
    # A word that needs no correction keeps its own reading.
    assert [f.values for f in parse_query("pnats", store, taxonomy).filters] == [["aa-1-12"]]


def test_a_type_like_value_of_several_words_also_filters_on_the_kind_it_ends_in(taxonomy):
    # "Track Pants" is a style (it only ranks); it is a kind of Pants, so the Pants filter keeps the
    # "Compete Track Tote" out.
    from search_api.query.vocabulary import StoreVocabulary

    store = StoreVocabulary(attributes={"style": {"style__track_pants": "Track Pants"},
                                        "color": {"color__gray": "Gray"}},
                            categories={"aa-1": "Clothing", "aa-1-12": "Pants"})
    parsed = parse_query("track pants", store, taxonomy)
    assert [(f.field, f.values) for f in parsed.filters] == [("attr.style", ["style__track_pants"]),
                                                              ("category", ["aa-1-12"])]
    # Excluded, the style says nothing about the kind wanted.
    assert [f.field for f in parse_query("no track pants", store, taxonomy).filters] == ["attr.style"]
    # A value that is no kind ("Gray") adds nothing.
    assert [f.field for f in parse_query("gray", store, taxonomy).filters] == ["attr.color"]
