"""Ties by product id on every engine: the first n hits are a prefix of one order."""

from __future__ import annotations

from indexer.engines.ordering import first_hits, ties_by_id
from indexer.engines.types import Hit


def test_runs_of_equal_scores_by_id_and_the_engine_direction_kept() -> None:
    hits = [Hit("c", 1.0), Hit("a", 1.0), Hit("b", 5.0), Hit("z", 0.0), Hit("y", 0.0)]  # engine order
    assert [h.product_id for h in ties_by_id(hits)] == ["a", "c", "b", "y", "z"]


def test_a_cut_through_a_run_of_ties_reads_the_whole_run() -> None:
    # The engine returns ties in an order of its own (here: reversed ids), and more hits than it was asked.
    ranking = [Hit(f"p{i:02d}", 2.0) for i in range(9, -1, -1)] + [Hit("q", 1.0)]
    asked: list[int] = []

    def fetch(n: int) -> list[Hit]:
        asked.append(n)
        return ranking[:n]

    assert [h.product_id for h in first_hits(fetch, 3)] == ["p00", "p01", "p02"]
    assert asked == [4, 8, 16]  # doubled until the run of 2.0 ended
    assert [h.product_id for h in first_hits(fetch, 11)][-1] == "q"
    assert first_hits(fetch, 0) == []
