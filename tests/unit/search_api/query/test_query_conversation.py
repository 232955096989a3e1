from __future__ import annotations

from vocab_fixture import BACKPACKS, HOODIES, SHORTS

from indexer.engines.types import Sort
from search_api.query.conversation import merge_turn
from search_api.query.parse import parse_query


def _run(turns, vocab, taxonomy):
    filters, text, sort = [], "", None
    out = []
    for q in turns:
        filters, text, sort = merge_turn(
            filters, parse_query(q, vocab, taxonomy), q, previous_text=text, previous_sort=sort
        )
        out.append(([f.id for f in filters], text, sort, filters))
    return out


def test_follow_ups_refine(vocab, taxonomy):
    steps = _run(
        ["black hoodie for men", "under 40", "actually in blue", "show women's instead"], vocab, taxonomy
    )
    male, female = "attr.target-gender:target-gender__male", "attr.target-gender:target-gender__female"
    assert steps[0][0] == ["attr.color:color__black", f"category:{HOODIES}", male]
    assert steps[1][0] == ["attr.color:color__black", f"category:{HOODIES}", male, "price:lte:40"]
    assert steps[2][0] == [f"category:{HOODIES}", male, "price:lte:40", "attr.color:color__blue"]
    assert steps[3][0] == [f"category:{HOODIES}", "price:lte:40", "attr.color:color__blue", female]
    last = {f.id: f for f in steps[3][3]}
    assert last[female].source == "parsed" and last[female].span is not None
    assert {last[i].source for i in last if i != female} == {"session"}
    assert all(last[i].span is None for i in last if i != female)


def test_also_adds_a_value_and_drops_remove_fields(vocab, taxonomy):
    steps = _run(
        ["black hoodie under 40", "also red", "remove the price limit", "any color"], vocab, taxonomy
    )
    assert steps[1][0] == [
        "attr.color:color__black",
        f"category:{HOODIES}",
        "price:lte:40",
        "attr.color:color__red",
    ]
    assert steps[2][0] == ["attr.color:color__black", f"category:{HOODIES}", "attr.color:color__red"]
    assert steps[3][0] == [f"category:{HOODIES}"]
    assert steps[3][1] == ""


def test_text_and_sort_carry_over(vocab, taxonomy):
    steps = _run(["hoodie with zip pockets", "cheapest", "in black"], vocab, taxonomy)
    assert steps[0][1] == "zip pockets"
    assert steps[1][1:3] == ("zip pockets", Sort("price"))
    assert steps[2][1:3] == ("zip pockets", Sort("price"))
    assert steps[2][0] == [f"category:{HOODIES}", "attr.color:color__black"]


def test_new_category_with_own_text_starts_fresh(vocab, taxonomy):
    steps = _run(["black hoodie for men under 40", "waterproof running shorts with pockets"], vocab, taxonomy)
    assert steps[1][0] == ["attr.activity:activity__running", f"category:{SHORTS}"]
    assert steps[1][1] == "waterproof pockets"


def test_new_category_alone_replaces_the_category(vocab, taxonomy):
    steps = _run(["black hoodie under 40", "shorts instead"], vocab, taxonomy)
    assert steps[1][0] == ["attr.color:color__black", "price:lte:40", f"category:{SHORTS}"]


def test_start_over(vocab, taxonomy):
    steps = _run(["black hoodie", "start over, backpack"], vocab, taxonomy)
    assert steps[1][:3] == ([f"category:{BACKPACKS}"], "", None)


def test_negation_replaces_the_same_positive_value(vocab, taxonomy):
    steps = _run(["black or blue hoodie", "not black"], vocab, taxonomy)
    assert steps[1][0] == ["attr.color:color__blue", f"category:{HOODIES}", "not:attr.color:color__black"]


def test_price_bounds_combine_or_replace(vocab, taxonomy):
    assert _run(["hoodie under 40", "over 20"], vocab, taxonomy)[1][0] == [
        f"category:{HOODIES}",
        "price:lte:40",
        "price:gte:20",
    ]
    assert _run(["hoodie under 40", "over 100"], vocab, taxonomy)[1][0] == [
        f"category:{HOODIES}",
        "price:gte:100",
    ]
    assert _run(["hoodie under 40", "under 30"], vocab, taxonomy)[1][0] == [
        f"category:{HOODIES}",
        "price:lte:30",
    ]
