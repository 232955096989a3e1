"""Occasion and superlative words as the store's values, clothing words as its category, question words
dropped, value aliases (issue 17)."""

from __future__ import annotations

from search_api.query.parse import parse_query
from search_api.query.phrasing import drop_filler, read_phrasing
from search_api.query.vocabulary import StoreVocabulary

VOCAB = StoreVocabulary(
    attributes={"climate": {"climate__wintry": "Wintry", "climate__cold": "Cold", "climate__warm": "Warm",
                            "climate__rainy": "Rainy"},
                "style": {"style__lightweight": "Lightweight", "style__full_zip": "Full zip",
                          "style__insulated": "Insulated"},
                "color": {"color__black": "Black"}},
    categories={"aa": "Apparel & Accessories", "aa-1": "Clothing", "aa-1-10": "Outerwear"},
)


def test_an_occasion_ranks_by_the_store_values_it_means() -> None:
    parsed = parse_query("clothes for running in winter", VOCAB)
    assert [(f.field, f.values) for f in parsed.filters] == [("category", ["aa-1"])]
    assert parsed.text.split() == ["running", "winter", "Wintry", "Cold"]


def test_warm_means_for_the_cold_unless_it_is_the_weather() -> None:
    warm = parse_query("something warm for hiking in the rain", VOCAB)
    assert not any(f.field == "attr.climate" for f in warm.filters)  # not the Warm climate
    assert {"Insulated", "Cold", "Wintry", "Rainy"} <= set(warm.text.split())
    assert "something" not in warm.text.split() and "warm" not in warm.text.split()
    weather = parse_query("shorts for warm weather", VOCAB)
    assert [f.values for f in weather.filters if f.field == "attr.climate"] == [["climate__warm"]]


def test_values_the_store_lacks_add_nothing() -> None:
    bare = StoreVocabulary(attributes={"color": {"color__black": "Black"}}, categories={})
    found = read_phrasing("lightest jacket for winter", bare)
    assert found.words == [] and found.categories == []
    assert read_phrasing("lightest jacket", VOCAB).words == ["Lightweight"]
    assert read_phrasing("light blue jacket", VOCAB).words == []  # a colour, not a weight


def test_question_words_leave_the_ranking_text() -> None:
    assert drop_filler("do you have waterproof jackets") == "waterproof jackets"
    assert drop_filler("what backpacks do you have") == "backpacks"
    assert drop_filler("best rated tee") == "tee"
    assert drop_filler("no show socks") == "no show socks"
    assert drop_filler("cool windy days") == "cool windy"  # when, not what
    assert drop_filler("cold morning walk") == "cold walk"
    assert drop_filler("a watch i can wear in the pool") == "a watch wear in the pool"
    assert drop_filler("a good bag") == "a bag"


def test_swimming_ranks_by_water_resistance() -> None:
    water = StoreVocabulary(attributes={"clothing-features": {"cf__wr": "Water resistant"},
                                        "features": {"f__wp": "Waterproof"}})
    assert read_phrasing("a watch i can wear in the pool", water).words == ["Water resistant", "Waterproof"]
    assert read_phrasing("a watch for the office", water).words == []


def test_an_alias_is_negated_like_the_value() -> None:
    parsed = parse_query("jacket without zipper", VOCAB)
    assert [(f.field, f.values, f.negated) for f in parsed.filters] == [("attr.style", ["style__full_zip"], True)]


def test_price_comparisons() -> None:
    over = parse_query("watches pricier than $50", VOCAB)
    under = parse_query("tees less expensive than 25 dollars", VOCAB)
    assert [(f.gte, f.lte) for f in over.filters] == [(50.0, None)]
    assert [(f.gte, f.lte) for f in under.filters] == [(None, 25.0)]


def test_home_is_a_place_of_use_only_in_its_phrases() -> None:
    gym = StoreVocabulary(attributes={"activity": {"activity__gym": "Gym"}},
                          categories={"hg": "Home & Garden"})
    assert read_phrasing("yoga at home", gym).spans == [(5, 12)]
    assert read_phrasing("home workout gear", gym).words == ["Gym"]
    assert read_phrasing("home decor", gym).spans == [] and read_phrasing("home decor", gym).words == []


TOPS = StoreVocabulary(
    attributes={"target-gender": {"target-gender__male": "Male"}},
    categories={"aa-1": "Clothing", "aa-1-13": "Clothing Tops", "aa-1-13-9": "Tank Tops",
                "aa-1-1-6": "Sports Bras"},
)


def _categories(parsed) -> list[str]:
    return [v for f in parsed.filters if f.field == "category" for v in f.values]


def test_a_top_is_the_store_clothing_tops_and_a_longer_kind_wins() -> None:
    assert _categories(parse_query("workout top", TOPS)) == ["aa-1-13"]
    assert _categories(parse_query("tops no black", TOPS)) == ["aa-1-13"]
    assert _categories(parse_query("tank top", TOPS)) == ["aa-1-13-9"]
    assert _categories(parse_query("bra top", TOPS)) == ["aa-1-1-6"]
    # A store without such a category: the word stays text.
    bare = StoreVocabulary(categories={"aa-1": "Clothing"})
    assert _categories(parse_query("workout top", bare)) == [] and "top" in parse_query("workout top", bare).text


def test_top_rated_is_praise_not_a_kind() -> None:
    for q in ("top rated tee", "top-rated tee", "best rated tee"):
        parsed = parse_query(q, TOPS)
        assert _categories(parsed) == [] and parsed.text == "tee", q


def test_sleeveless_on_a_top_is_a_tank_with_the_words_between_kept() -> None:
    parsed = parse_query("sleeveless workout top for a guy", TOPS)
    assert _categories(parsed) == ["aa-1-13-9"]
    assert "workout" in parsed.text.split() and "sleeveless" not in parsed.text
    assert _categories(parse_query("sleeveless shirt", TOPS)) == ["aa-1-13-9"]
    # Sleeveless on anything else names no kind.
    assert _categories(parse_query("sleeveless dress", TOPS)) == []


def test_cold_weather_ranks_by_both_cold_climates() -> None:
    assert read_phrasing("outfit for a cold morning walk", VOCAB).words == ["Wintry"]  # "Cold" is named already
    assert read_phrasing("a jacket for colder days", VOCAB).words == ["Wintry", "Cold"]
