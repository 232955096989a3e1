from __future__ import annotations

from search_api.query.models import AppliedFilter
from search_api.query.similar_colors import NEIGHBOURS, similar_colors, widen_color


def _name(value: str) -> str:
    return value.removeprefix("color__").title()


def test_neighbours_are_symmetric_and_basic():
    for value, near in NEIGHBOURS.items():
        assert value not in near
        assert all(value in NEIGHBOURS[n] for n in near)
    assert set(similar_colors("color__orange")) == {"color__red", "color__yellow", "color__brown"}
    assert set(similar_colors("color__white")) == {"color__gray", "color__beige"}
    assert similar_colors("color__multicolor") == () and similar_colors("size__m") == ()


def test_a_colour_filter_widens_to_its_neighbours_with_its_own_id_and_label():
    white = AppliedFilter(field="attr.color", values=["color__white"], label="Color: White", confidence=0.9)
    wider = widen_color(white, _name)
    assert wider.values == ["color__white", "color__gray", "color__beige"] and wider.op == "in"
    assert wider.label == "Color: White or similar (Gray, Beige)"
    assert wider.id != white.id and wider.id == AppliedFilter(field="attr.color", op="in", values=wider.values).id


def test_other_filters_and_exclusions_do_not_widen():
    assert widen_color(AppliedFilter(field="attr.color", values=["color__red"], negated=True), _name) is None
    assert widen_color(AppliedFilter(field="attr.fabric", values=["fabric__cotton"]), _name) is None
    assert widen_color(AppliedFilter(field="attr.color", values=["color__multicolor"]), _name) is None
