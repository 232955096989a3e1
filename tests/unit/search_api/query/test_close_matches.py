from __future__ import annotations

from search_api.query.close_matches import close_match_steps
from search_api.query.models import AppliedFilter

COLOR = AppliedFilter(field="attr.color", values=["color__brown"], label="Color: Brown", confidence=0.9)
HOODIES = AppliedFilter(field="category", values=["aa-1-13-13"], label="Hoodies", confidence=0.9)
PRICE = AppliedFilter(field="price", op="range", lte=40.0, label="Under $40", confidence=0.9)
NOT_COTTON = AppliedFilter(field="attr.fabric", values=["fabric__cotton"], negated=True, label="Not cotton")
PICKED = AppliedFilter(field="attr.size", values=["size__m"], label="Size: M", source="explicit")


def _labels(steps):
    return [([f.label for f in kept], [f.label for f in dropped]) for kept, dropped in steps]


def test_singles_first_in_relaxation_order_then_together():
    steps = _labels(close_match_steps([HOODIES, COLOR, PRICE]))
    assert steps == [
        (["Hoodies", "Under $40"], ["Color: Brown"]),  # an attribute first,
        (["Hoodies", "Color: Brown"], ["Under $40"]),  # then a price bound,
        (["Color: Brown", "Under $40"], ["Hoodies"]),  # the kind last
        (["Hoodies"], ["Color: Brown", "Under $40"]),
        ([], ["Color: Brown", "Under $40", "Hoodies"]),
    ]


def test_an_exclusion_or_an_explicit_filter_is_never_given_up():
    steps = list(close_match_steps([NOT_COTTON, PICKED, COLOR]))
    assert _labels(steps) == [(["Not cotton", "Size: M"], ["Color: Brown"])]
    assert list(close_match_steps([NOT_COTTON, PICKED])) == []


def test_no_filters_no_steps():
    assert list(close_match_steps([])) == []


def test_a_filter_with_a_nearer_form_tries_it_before_it_is_dropped():
    near = AppliedFilter(field="attr.color", op="in", values=["color__brown", "color__orange"], label="Brownish")
    steps = _labels(close_match_steps([HOODIES, COLOR], widen=lambda f: near if f is COLOR else None))
    assert steps[:3] == [(["Hoodies", "Brownish"], ["Color: Brown"]), (["Hoodies"], ["Color: Brown"]),
                         (["Color: Brown"], ["Hoodies"])]
