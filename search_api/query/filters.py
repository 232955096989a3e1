"""Applied filters (what the shopper sees as chips) and the engine filter they build.

The parsers (rules and LLM), the session merge and the search service build and combine filters here;
`search_api.query.parse` only reads shopper text.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable

from indexer.filters import Eq, Filter, In, Not, Range, and_all
from search_api.query.models import AppliedFilter, FilterSource, price_label

__all__ = ["attribute_filter", "category_filter", "exclude_field", "price_filter", "to_filter"]


def attribute_filter(
    handle: str,
    key: str,
    name: str,
    *,
    attribute_name: str | None = None,
    negated: bool = False,
    span: tuple[int, int] | None = None,
    confidence: float = 1.0,
    source: FilterSource = "parsed",
) -> AppliedFilter:
    label = f"Not {name}" if negated else f"{attribute_name or handle.replace('-', ' ').capitalize()}: {name}"
    return AppliedFilter(
        field=f"attr.{handle}",
        op="eq",
        values=[key],
        negated=negated,
        label=label,
        span=span,
        confidence=confidence,
        source=source,
    )


def category_filter(
    category_id: str,
    name: str,
    *,
    negated: bool = False,
    span: tuple[int, int] | None = None,
    confidence: float = 1.0,
    source: FilterSource = "parsed",
) -> AppliedFilter:
    label = f"Not {name}" if negated else f"Category: {name}"
    return AppliedFilter(
        field="category",
        op="eq",
        values=[category_id],
        negated=negated,
        label=label,
        span=span,
        confidence=confidence,
        source=source,
    )


def price_filter(
    gte: float | None = None,
    lte: float | None = None,
    *,
    span: tuple[int, int] | None = None,
    confidence: float = 1.0,
    source: FilterSource = "parsed",
) -> AppliedFilter:
    return AppliedFilter(
        field="price",
        op="range",
        gte=gte,
        lte=lte,
        label=price_label(gte, lte),
        span=span,
        confidence=confidence,
        source=source,
    )


def to_filter(filters: Iterable[AppliedFilter]) -> Filter | None:
    """The engine filter for a list of applied filters.

    Positive values on one field are OR'ed (one `In`), fields are AND'ed, negated values become one
    `Not(In)` per field, and price bounds intersect into one `Range` (a negated range becomes `Not`).
    Field order follows first appearance, so equal inputs build equal trees.
    """
    positive: OrderedDict[str, list[str]] = OrderedDict()
    negative: OrderedDict[str, list[str]] = OrderedDict()
    ranges: OrderedDict[str, list[float | None]] = OrderedDict()
    negated_ranges: list[Filter] = []
    order: list[tuple[str, str]] = []
    for f in filters:
        if f.op == "range":
            if f.negated:
                negated_ranges.append(Not(filter=Range(field=f.field, gte=f.gte, lte=f.lte)))
                continue
            if f.field not in ranges:
                ranges[f.field] = [None, None]
                order.append(("range", f.field))
            bounds = ranges[f.field]
            if f.gte is not None:
                bounds[0] = f.gte if bounds[0] is None else max(bounds[0], f.gte)
            if f.lte is not None:
                bounds[1] = f.lte if bounds[1] is None else min(bounds[1], f.lte)
            continue
        target = negative if f.negated else positive
        if f.field not in target:
            target[f.field] = []
            order.append(("neg" if f.negated else "pos", f.field))
        for v in f.values:
            if v not in target[f.field]:
                target[f.field].append(v)
    parts: list[Filter | None] = []
    for kind, fld in order:
        if kind == "range":
            gte, lte = ranges[fld]
            parts.append(Range(field=fld, gte=gte, lte=lte))
        else:
            values = (negative if kind == "neg" else positive)[fld]
            node = _values_node(fld, values)
            parts.append(Not(filter=node) if kind == "neg" else node)
    parts.extend(negated_ranges)
    return and_all(parts)


def _values_node(fld: str, values: list[str]) -> Filter:
    if fld == "flagged":
        return Eq(field=fld, value=values[0].lower() in ("true", "1", "yes"))
    if len(values) == 1:
        return Eq(field=fld, value=values[0])
    return In(field=fld, values=tuple(values))


def exclude_field(filters: Iterable[AppliedFilter], field: str) -> list[AppliedFilter]:
    """The filters without those on `field` (positive and negated): the filter under which the facet of
    `field` is counted, so a shopper sees the other values they could switch to or add (disjunctive
    facets)."""
    return [f for f in filters if f.field != field]
