"""Neutral filter -> tantivy query, operator-table style (one small function per node kind).

Filters never score: the caller wraps the result in a zero const-score query, so BM25 ranks by
text only, exactly as Elasticsearch's `bool.filter` does.
"""

from __future__ import annotations

from collections.abc import Callable

import tantivy

from indexer.engines.keywords import term
from indexer.engines.lexical.base import KEYWORD_FIELDS
from indexer.filters import And, Eq, Filter, FilterError, In, Not, Or, Range, check_field

Translator = Callable[[object, tantivy.Schema], tantivy.Query]


def term_query(schema: tantivy.Schema, key: str, value: str) -> tantivy.Query:
    # index_option "basic": keyword fields are indexed without positions or frequencies.
    return tantivy.Query.term_query(schema, KEYWORD_FIELDS[key], value, index_option="basic")


def _eq(node: Eq, schema: tantivy.Schema) -> tantivy.Query:
    key, value = term(node.field, node.value)
    return term_query(schema, key, value)


def _in(node: In, schema: tantivy.Schema) -> tantivy.Query:
    encoded = [term(node.field, v) for v in node.values]
    field = KEYWORD_FIELDS[encoded[0][0]]
    return tantivy.Query.term_set_query(schema, field, [v for _, v in encoded])


def _range(node: Range, schema: tantivy.Schema) -> tantivy.Query:
    field = check_field(node.field, numeric=True)  # numeric filter fields are schema fields of the same name
    # tantivy takes one lower and one upper bound; when both gt and gte are given the tighter wins,
    # which is what the reference evaluator (all bounds must hold) means.
    lower, include_lower = _tighter_lower(node.gte, node.gt)
    upper, include_upper = _tighter_upper(node.lte, node.lt)
    # Documents without a price have no value in the field, so they never match a range.
    return tantivy.Query.range_query(schema, field, tantivy.FieldType.Float, lower, upper,
                                     include_lower=include_lower, include_upper=include_upper)


def _tighter_lower(gte: float | None, gt: float | None) -> tuple[float | None, bool]:
    if gt is not None and (gte is None or gt >= gte):
        return float(gt), False
    return (None, True) if gte is None else (float(gte), True)


def _tighter_upper(lte: float | None, lt: float | None) -> tuple[float | None, bool]:
    if lt is not None and (lte is None or lt <= lte):
        return float(lt), False
    return (None, True) if lte is None else (float(lte), True)


def _and(node: And, schema: tantivy.Schema) -> tantivy.Query:
    if not node.all:
        return tantivy.Query.all_query()
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, to_query(c, schema)) for c in node.all])


def _or(node: Or, schema: tantivy.Schema) -> tantivy.Query:
    # A boolean query made only of Should clauses needs at least one of them to match.
    return tantivy.Query.boolean_query([(tantivy.Occur.Should, to_query(c, schema)) for c in node.any])


def _not(node: Not, schema: tantivy.Schema) -> tantivy.Query:
    # A boolean query with only MustNot clauses matches nothing in tantivy: subtract from all docs.
    return tantivy.Query.boolean_query([(tantivy.Occur.Must, tantivy.Query.all_query()),
                                        (tantivy.Occur.MustNot, to_query(node.filter, schema))])


OPERATORS: dict[type, Translator] = {Eq: _eq, In: _in, Range: _range, And: _and, Or: _or, Not: _not}  # type: ignore[dict-item]


def to_query(node: Filter, schema: tantivy.Schema) -> tantivy.Query:
    translate = OPERATORS.get(type(node))
    if translate is None:
        raise FilterError(f"unknown filter node {node!r}")
    return translate(node, schema)


def scoped_filter(store: str, node: Filter | None, schema: tantivy.Schema) -> tantivy.Query:
    """Store scoping is always a Must clause, whatever the filter says."""
    clauses = [(tantivy.Occur.Must, term_query(schema, "store", store))]
    if node is not None:
        clauses.append((tantivy.Occur.Must, to_query(node, schema)))
    return tantivy.Query.boolean_query(clauses)
