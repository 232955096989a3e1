"""Deep pages from growing windows: how many hits to ask each retriever for, and when the fused order is
settled deep enough to cut a page from it.

A fixed candidate window (the first 100 of each retriever) made every result past it unreachable while
`total` counted it. The window now starts where it always did (page 1 costs what it did), then grows to
the rank window and doubles from there, up to MAX_WINDOW, until the fused order is settled past the page
(`fusion.rrf_prefix`) or every retriever has given all it has. The retrievers are callables, so this
stays pure and engine-neutral.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from indexer.engines.types import MAX_WINDOW, Hit
from search_api.query.fusion import Ranking, rrf_prefix

# Places of each ranking that fusion scores (see `rrf_prefix`; Elasticsearch's rank_window_size, whose default
# is the page size): products past every window follow in vector order. It is the first candidate window
# (SearchConfig.candidates), so page 1 is settled by its first read however little the retrievers agree.
# At 500, two searches in five of an 80,000-product store read both retrievers 500 deep to settle page 1
# (HNSW at ef 500: 8-14 ms), for a top 10 that was the same list in 271 of 321 shopper queries, the same
# first result in 320, and the same judged nDCG@10 on the fixture to four decimals (benchmarks/NOTES.md 11).
RANK_WINDOW = 100


@dataclass(frozen=True)
class Retrieved:
    """One retriever's first hits (best first, ties by product id). `total` is its own count of matches
    when it counts them (lexical), `exact` False when that count is a lower bound."""

    hits: list[Hit]
    complete: bool  # these are all the hits it has
    total: int | None = None
    exact: bool = True


Retriever = Callable[[int], Retrieved]  # the first n hits


@dataclass(frozen=True)
class FusedPage:
    ids: list[str]  # best first; the first `settled` hold their final places
    scores: dict[str, float]
    settled: int
    complete: bool  # every retriever gave all it has: `ids` is the whole result set
    total: int | None = None  # the single retriever's count (None when several were fused)
    exact: bool = True


def first_window(first: int, want: int) -> int:
    """Page 1 asks for `first` hits as before; a deep page asks for twice its depth, so that the fused
    order is usually settled past the page on the first try."""
    return min(MAX_WINDOW, max(first, 2 * want))


def fuse(got: Mapping[str, Retrieved], *, k: int, weights: Mapping[str, float],
         rest: str | None = None) -> FusedPage:
    """One retriever's order as it is (its own scores: BM25, cosine, a sort value); several by RRF over
    their first RANK_WINDOW places, then ranking `rest` (the one that ranks every product) past them."""
    if len(got) == 1:
        (only,) = got.values()
        ids = [h.product_id for h in only.hits]
        return FusedPage(ids, {h.product_id: h.score for h in only.hits}, len(ids), only.complete,
                         only.total, only.exact)
    fused = rrf_prefix({name: Ranking([h.product_id for h in r.hits], r.complete) for name, r in got.items()},
                       k=k, weights=weights, depth=RANK_WINDOW, rest=rest)
    # Nothing more to read: `rest` gave all it has, the others all they have or their window.
    complete = all(r.complete or (name != rest and len(r.hits) >= RANK_WINDOW) for name, r in got.items())
    return FusedPage(fused.ids, fused.scores, fused.settled, complete)


def fetch_fused(retrievers: Mapping[str, Retriever], want: int, *, first: int, k: int,
                weights: Mapping[str, float], rest: str | None = None) -> FusedPage:
    """Fused results settled at least `want` deep, unless the window reached MAX_WINDOW first (then the
    order past the settled head is the best known: only pages near MAX_OFFSET of a store larger than the
    window can meet it)."""
    n = first_window(first, want)
    while True:
        # Past its rank window only `rest` is read further (and a single retriever, which pages as it is).
        reads = {name: n if name == rest or len(retrievers) == 1 else min(n, RANK_WINDOW) for name in retrievers}
        page = fuse({name: fetch(reads[name]) for name, fetch in retrievers.items()}, k=k, weights=weights,
                    rest=rest)
        if page.settled >= want or page.complete or n >= MAX_WINDOW:
            return page
        # Unsettled after the first window: the retrievers disagree, and reading their whole rank windows
        # settles every scored place at once (cheaper than the reads on the way there).
        n = RANK_WINDOW if n < RANK_WINDOW else min(MAX_WINDOW, 2 * n)
