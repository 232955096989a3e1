from __future__ import annotations

import pytest

from search_api.query.fusion import rrf
from search_api.query.parse import attribute_filter, category_filter, price_filter
from search_api.query.relax import relax_steps, relaxation_order


def _filters():
    return [
        category_filter("aa-1-13-13", "Hoodies", confidence=0.9),
        attribute_filter("color", "color__black", "Black", confidence=0.675),
        price_filter(lte=60, confidence=0.95),
        attribute_filter("material", "material__cotton", "Cotton", negated=True, confidence=0.9),
        attribute_filter("size", "size__m", "M", confidence=0.9, source="explicit"),
        attribute_filter("target-gender", "target-gender__male", "Male", confidence=0.9, source="session"),
    ]


def test_relaxation_order_least_confident_first_explicit_never():
    order = [f.id for f in relaxation_order(_filters())]
    assert order == [
        "attr.color:color__black",  # 0.675
        "attr.target-gender:target-gender__male",  # 0.9, from an earlier turn
        "not:attr.material:material__cotton",  # 0.9, an exclusion
        "category:aa-1-13-13",  # 0.9, the category last among equals
        "price:lte:60",  # 0.95
    ]


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
