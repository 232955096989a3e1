"""Reciprocal rank fusion of several ranked id lists (lexical, vector, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass


def rrf(
    rankings: Mapping[str, Sequence[str]], *, k: int = 60, weights: Mapping[str, float] | None = None
) -> list[tuple[str, float]]:
    """Fuse rankings by reciprocal rank: score(d) = sum over rankings r of weight_r / (k + rank_r(d)),
    ranks starting at 1. A ranking that lists an id twice counts its first place only.

    Ties keep a stable order: the better best rank first, then the id seen first (rankings in mapping
    order, each from the top), so the same inputs always give the same order.
    Weights default to 1.0 per ranking; a weight of 0 ignores that ranking.
    """
    if k <= 0:
        raise ValueError(f"k must be positive, got {k}")
    weights = weights or {}
    for name, w in weights.items():
        if w < 0:
            raise ValueError(f"weight of ranking {name!r} must be >= 0, got {w}")
    scores: dict[str, float] = {}
    best_rank: dict[str, int] = {}
    first_seen: dict[str, int] = {}
    for name, ranking in rankings.items():
        weight = float(weights.get(name, 1.0))
        seen: set[str] = set()
        for rank, doc_id in enumerate(ranking, start=1):
            if doc_id in seen:
                continue
            seen.add(doc_id)
            if weight == 0.0:
                continue
            scores[doc_id] = scores.get(doc_id, 0.0) + weight / (k + rank)
            if rank < best_rank.get(doc_id, rank + 1):
                best_rank[doc_id] = rank
            first_seen.setdefault(doc_id, len(first_seen))
    ordered = sorted(scores, key=lambda d: (-scores[d], best_rank[d], first_seen[d]))
    return [(d, scores[d]) for d in ordered]



@dataclass(frozen=True)
class Ranking:
    """The first ids of one retriever's order; `complete` when they are all it has (it returned fewer
    than it was asked for)."""

    ids: Sequence[str]
    complete: bool


@dataclass(frozen=True)
class Fused:
    ids: list[str]  # best first, by the scores known from the prefixes
    scores: dict[str, float]
    settled: int  # the first `settled` ids hold the places that fusing the complete rankings gives them


def rrf_prefix(rankings: Mapping[str, Ranking], *, k: int = 60, weights: Mapping[str, float] | None = None,
               depth: int | None = None, rest: str | None = None) -> Fused:
    """`rrf` over prefixes of the rankings, and how much of the fused order no longer prefix can change.

    Paging grows the prefixes with the page's depth. Fusing prefixes of different lengths would give
    different orders (an id past one prefix lacks that ranking's share), so pages cut from them would
    repeat or skip ids. Instead only the settled head is trusted: an id whose every share is known and
    whose score beats the most that any other id could still reach; an id missing from an incomplete
    ranking can reach at most weight / (k + its length + 1) more from it. A longer prefix then gives
    the same head, and complete rankings settle everything.

    With `depth`, only the first `depth` places of each ranking count (Elasticsearch's rank_window_size):
    settling then never needs more than `depth` of each, however little the rankings agree, and the ids
    past every window follow, unscored, in the order of ranking `rest`."""
    weights = weights or {}
    cut = {name: list(r.ids[:depth] if depth is not None else r.ids) for name, r in rankings.items()}
    closed = {name: r.complete or (depth is not None and len(r.ids) >= depth) for name, r in rankings.items()}
    fused = rrf(cut, k=k, weights=weights)
    scores = dict(fused)
    # What an id not yet in each open ranking may still get from it.
    open_share = {name: float(weights.get(name, 1.0)) / (k + len(cut[name]) + 1)
                  for name in rankings if not closed[name] and weights.get(name, 1.0) > 0}
    members = {name: set(cut[name]) for name in open_share}
    missing = {d: [name for name in open_share if d not in members[name]] for d in scores}
    bound = sum(open_share.values())  # the most an id in no prefix can score
    for d, names in missing.items():
        if names:
            bound = max(bound, scores[d] + sum(open_share[name] for name in names))
    settled = 0
    for d, score in fused:
        if missing[d] or score <= bound:
            break
        settled += 1
    ids = [d for d, _ in fused]
    if rest in rankings and depth is not None:
        beyond = [d for d in dict.fromkeys(rankings[rest].ids[depth:]) if d not in scores]
        if settled == len(ids) and all(closed.values()):
            settled += len(beyond)  # the scored ids are final, and so is `rest`'s order after them
        scores.update(dict.fromkeys(beyond, 0.0))
        ids += beyond
    return Fused(ids=ids, scores=scores, settled=settled)
