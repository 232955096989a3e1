"""One order for every engine: best first, and hits of equal score (or equal sort value) by product id.

Engines break ties their own way (tantivy by segment and document address, Qdrant by internal point
id, Elasticsearch by shard), so a page cut through a run of equal scores would differ between
engines, between index rebuilds, and between two windows of the same query: paging would repeat or
skip products. The search service pages by growing a window from the top, so each engine's first n
hits must be a prefix of one fixed order. Elasticsearch sorts by product id natively; the others use
`first_hits` below.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from itertools import groupby

from indexer.engines.types import Hit


def ties_by_id(hits: Sequence[Hit]) -> list[Hit]:
    """`hits` (in engine order) with each run of equal scores ordered by product id. Only consecutive
    runs are regrouped, so the engine's own direction (ascending, descending, missing values last) stays."""
    if len({h.score for h in hits}) == len(hits):
        return list(hits)  # no two alike (most vector and BM25 windows): nothing to regroup
    return [h for _, run in groupby(hits, key=lambda h: h.score) for h in sorted(run, key=lambda h: h.product_id)]


def first_hits(fetch: Callable[[int], Sequence[Hit]], want: int) -> list[Hit]:
    """The first `want` hits in engine order with ties by product id. `fetch(n)` gives the engine's first
    n hits, ties in any order; one more than wanted shows whether the run of the last wanted score goes on
    past the cut, and the fetch doubles until that run is complete (or the engine has no more)."""
    if want <= 0:
        return []
    n = want + 1
    while True:
        hits = list(fetch(n))
        if len(hits) < n or hits[-1].score != hits[want - 1].score:
            return ties_by_id(hits)[:want]
        n *= 2
