"""Which filters to give up for close matches: the products shown after the last result when the results end
inside a page ("brown hoodie" finds three brown hoodies; the other hoodies follow, marked as close matches).

Unlike relaxation (`relax.py`), which runs when the filters leave nothing and replaces the results, close
matches never change the results, `total` or paging: they are a separate list, and only ever widen what the
shopper asked for in ways a shopper accepts as "nearly". So an exclusion ("not cotton", "without zipper") is
never given up, nor is an explicit filter: showing cotton to a shopper who ruled it out is not close.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

from search_api.query.models import AppliedFilter
from search_api.query.relax import close_match_order

Widen = Callable[[AppliedFilter], AppliedFilter | None]  # a filter's nearer form (similar colours), or None


def single_steps(filters: Sequence[AppliedFilter], order: Sequence[AppliedFilter], widen: Widen = lambda f: None,
                 ) -> Iterator[tuple[list[AppliedFilter], list[AppliedFilter]]]:
    """(filters, given up) giving up one filter at a time, in `order`: its wider form first when `widen` has
    one ("brown" admitting orange and beige), then the filter dropped. The filters keep the input order.
    Relaxation (nothing found) and close matches both take these steps, each in its own order."""
    for single in order:
        wider = widen(single)
        if wider is not None:
            yield [wider if f is single else f for f in filters], [single]
        yield [f for f in filters if f is not single], [single]


def close_match_steps(filters: Sequence[AppliedFilter], widen: Widen = lambda f: None,
                      ) -> Iterator[tuple[list[AppliedFilter], list[AppliedFilter]]]:
    """(filters, given up) for each attempt, nearest first: `single_steps` in `close_match_order` (the
    guesses first, then an attribute before a price bound before the category, whichever turn said it),
    then the first two, three, ... of that order dropped together. The filters keep the input order;
    nothing is yielded when no filter may be given up."""
    order = [f for f in close_match_order(filters) if not f.negated]
    yield from single_steps(filters, order, widen)
    for n in range(2, len(order) + 1):
        ids = {id(f) for f in order[:n]}
        yield [f for f in filters if id(f) not in ids], order[:n]
