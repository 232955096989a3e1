from __future__ import annotations

import pytest

from search_api.query.fusion import rrf
from search_api.query.parse import attribute_filter, category_filter, price_filter
from search_api.query.relax import close_match_order, relax_steps, relaxation_order


def _filters():
    return [
        category_filter("aa-1-13-13", "Hoodies", confidence=0.9),
        attribute_filter("color", "color__black", "Black", confidence=0.675),
        price_filter(lte=60, confidence=0.95),
        attribute_filter("material", "material__cotton", "Cotton", negated=True, confidence=0.9),
        attribute_filter("size", "size__m", "M", confidence=0.9, source="explicit"),
        attribute_filter("target-gender", "target-gender__male", "Male", confidence=0.9, source="session"),
    ]


def test_relaxation_order_guesses_first_explicit_never():
    order = [f.id for f in relaxation_order(_filters())]
    assert order == [
        "attr.color:color__black",  # 0.675: a guess, first whatever it names
        "attr.target-gender:target-gender__male",  # sure, from an earlier turn
        "not:attr.material:material__cotton",  # sure, an exclusion
        "price:lte:60",  # sure (0.95), a price bound
        "category:aa-1-13-13",  # sure (0.9), the category last: a higher confidence does not outrank it
    ]


def test_a_few_hundredths_of_confidence_do_not_put_the_category_before_the_gender():
    # "men's pants over $40": the taxonomy's "men's" (0.9 x 0.95 = 0.9025) and the store's own "Pants"
    # (0.9) are both sure readings; the kind is what the shopper wants and goes last.
    mens = attribute_filter("target-gender", "target-gender__male", "Male", confidence=0.9025)
    pants = category_filter("aa-1-12", "Pants", confidence=0.9)
    bound = price_filter(gte=40, confidence=0.95)
    assert [f.id for f in relaxation_order([mens, pants, bound])] == [mens.id, bound.id, pants.id]
    # Within a kind the less confident still goes first.
    black = attribute_filter("color", "color__black", "Black", confidence=0.85)
    assert [f.id for f in relaxation_order([mens, black])] == [black.id, mens.id]


def test_relaxation_gives_up_an_earlier_turn_first_and_close_matches_the_kind_last():
    # "black hoodie for men" then "under 40", nothing found: the latest turn is the refinement, so the
    # earlier turn's hoodies go before this turn's bound.
    hoodies = category_filter("aa-1-13-13", "Hoodies", confidence=0.9, source="session")
    under = price_filter(lte=40, confidence=0.95)
    assert [f.id for f in relaxation_order([hoodies, under])] == [hoodies.id, under.id]
    # "watch" then "for women", the results end on the page: the men's watches are nearer than women's
    # tees, so close matches give the gender up first, whichever turn said what.
    watches = category_filter("aa-6-11", "Watches", confidence=0.9, source="session")
    women = attribute_filter("target-gender", "target-gender__female", "Female", confidence=0.9025)
    assert [f.id for f in close_match_order([watches, women])] == [women.id, watches.id]
    assert [f.id for f in close_match_order([hoodies, under])] == [under.id, hoodies.id]
    # Both: guesses first, explicit filters never.
    guess = attribute_filter("color", "color__black", "Black", confidence=0.675)
    picked = attribute_filter("size", "size__m", "M", source="explicit")
    for order in (relaxation_order, close_match_order):
        assert [f.id for f in order([watches, picked, guess])] == [guess.id, watches.id]


def test_relax_steps_are_cumulative_and_keep_input_order():
    filters = _filters()
    steps = list(relax_steps(filters))
    assert len(steps) == 5
    kept, dropped = steps[0]
    assert [f.id for f in dropped] == ["attr.color:color__black"]
    assert [f.id for f in kept] == [f.id for f in filters if f.id != "attr.color:color__black"]
    kept, dropped = steps[-1]
    assert [f.id for f in kept] == ["attr.size:size__m"]
    assert len(dropped) == 5
    assert list(relax_steps([filters[4]])) == []


def test_rrf_scores_and_order():
    fused = rrf({"lexical": ["a", "b", "c"], "vector": ["b", "d", "a"]}, k=60)
    assert [d for d, _ in fused] == ["b", "a", "d", "c"]
    scores = dict(fused)
    assert scores["b"] == pytest.approx(1 / 62 + 1 / 61)
    assert scores["a"] == pytest.approx(1 / 61 + 1 / 63)
    assert scores["c"] == pytest.approx(1 / 63)


def test_rrf_ties_are_stable_and_weights_apply():
    assert [d for d, _ in rrf({"x": ["a", "b"], "y": ["b", "a"]})] == ["a", "b"]
    assert [d for d, _ in rrf({"x": ["p"], "y": ["q"]})] == ["p", "q"]
    assert [d for d, _ in rrf({"x": ["p"], "y": ["q"]}, weights={"x": 0.5})] == ["q", "p"]
    assert rrf({"x": ["p"], "y": ["q"]}, weights={"y": 0}) == [("p", 1 / 61)]
    assert rrf({"x": ["a", "a", "b"]}) == [("a", 1 / 61), ("b", 1 / 63)]
    assert rrf({}) == []


def test_rrf_rejects_bad_parameters():
    with pytest.raises(ValueError):
        rrf({"x": ["a"]}, k=0)
    with pytest.raises(ValueError):
        rrf({"x": ["a"]}, weights={"x": -1})
