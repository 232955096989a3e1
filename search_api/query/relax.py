"""Which filters to give up, in which order, when a search under all of them finds nothing."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from search_api.query.models import AppliedFilter

# Within one confidence tier: what an earlier turn said goes before what this turn said (the latest turn
# is the refinement: "black hoodie for men" then "under 40" keeps the bound), and an exclusion ("not
# cotton") before an attribute, before a price bound, before the category (what the shopper wants).
_SOURCE_RANK = {"session": 0, "parsed": 1}
# Confidences are coarse evidence levels (a store's own name 0.9, a taxonomy synonym 0.9 x 0.95, a price
# 0.95): a few hundredths between two readings the parser is sure of say nothing about which the shopper
# cares less for, so they must not put the category ("men's pants over $40": pants 0.9, men's 0.9025)
# before a gender or a price. Below this, a reading is a guess (a corrected misspelling 0.675, a bare
# "$50" 0.7, a lone "M" 0.6) and goes first whatever it names.
SURE = 0.8


def _kind_rank(f: AppliedFilter) -> int:
    if f.negated:
        return 0
    if f.field.startswith("attr.") or f.field in ("vendor", "tags", "product_type"):
        return 1
    if f.field == "price":
        return 2
    return 3


def relaxation_order(filters: Sequence[AppliedFilter]) -> list[AppliedFilter]:
    """The filters that may be dropped when the results are empty, first to drop first: the guesses
    (confidence below SURE) before the sure readings; within each, by source then kind (see above), then
    the less confident, then the later-mentioned first. Explicit filters (set by the shopper in the UI or
    the request body) are never dropped and do not appear."""
    return _ordered(filters, lambda f: (_SOURCE_RANK.get(f.source, 1), _kind_rank(f)))


def close_match_order(filters: Sequence[AppliedFilter]) -> list[AppliedFilter]:
    """The order in which to give filters up for close matches (the products after the last result):
    as `relaxation_order`, but the kind before the turn. The results already answer the latest turn, and
    a close match is the kind the shopper wants in a near form, whichever turn named it: "watch" then
    "for women" shows the men's watches next, not women's tees."""
    return _ordered(filters, lambda f: (_kind_rank(f), _SOURCE_RANK.get(f.source, 1)))


def _ordered(filters: Sequence[AppliedFilter], rank) -> list[AppliedFilter]:
    candidates = [(i, f) for i, f in enumerate(filters) if f.source != "explicit"]
    candidates.sort(key=lambda item: (item[1].confidence >= SURE, *rank(item[1]), item[1].confidence, -item[0]))
    return [f for _i, f in candidates]


def relax_steps(
    filters: Sequence[AppliedFilter],
) -> Iterator[tuple[list[AppliedFilter], list[AppliedFilter]]]:
    """(kept, dropped) for each step: step n drops the first n filters of `relaxation_order`. `kept` keeps
    the input order. The last step keeps only the explicit filters; nothing is yielded when no filter can
    be dropped."""
    order = relaxation_order(filters)
    for n in range(1, len(order) + 1):
        dropped_ids = {id(f) for f in order[:n]}
        kept = [f for f in filters if id(f) not in dropped_ids]
        yield kept, list(order[:n])
