"""Reciprocal rank fusion of several ranked id lists (lexical, vector, ...)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence


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

