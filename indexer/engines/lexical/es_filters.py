"""Pure Elasticsearch request builders: the index mapping, neutral filter -> query DSL (operator-table
style), the boosted text query, sorts and facet aggregations. No I/O, so all of it is unit-tested
without a cluster, and the field names mirror the tantivy schema so both engines agree."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from indexer.engines.keywords import facet_key, term
from indexer.engines.lexical.base import ANALYZER, BOOSTED, FIELD_BOOSTS, KEYWORD_FIELDS, TextMatch
from indexer.engines.types import MAX_WINDOW, Sort
from indexer.engines.vocabulary import VOCABULARY_FIELD
from indexer.filters import And, Eq, Filter, FilterError, In, Not, Or, Range, check_field

FACET_SHARD_SIZE = 1000  # terms per shard before merging: exact counts for catalog-sized facets

Query = dict[str, Any]


def index_settings() -> dict[str, Any]:
    """Analysis matching tantivy's catalog_en: lowercase, ASCII folding, English stopwords, Snowball
    (Porter2) English stemming, so "Hoodies" finds "hoodie" on both engines. The result window reaches
    the deepest page the API serves (the default 10,000 stops short of offset 10,000 + a page)."""
    return {"max_result_window": MAX_WINDOW, "analysis": {"analyzer": {ANALYZER: {
        "type": "custom", "tokenizer": "standard",
        "filter": ["lowercase", "asciifolding", "catalog_stop", "catalog_stem"]}},
        "filter": {"catalog_stop": {"type": "stop", "stopwords": "_english_"},
                   "catalog_stem": {"type": "snowball", "language": "English"}}}}


def index_mapping() -> dict[str, Any]:
    """Strict mapping: a typo in a field name fails the bulk request instead of creating a new field."""
    properties: dict[str, Any] = {name: {"type": "text", "analyzer": ANALYZER} for name in FIELD_BOOSTS}
    properties.update({name: {"type": "keyword"} for name in KEYWORD_FIELDS.values()})
    properties[VOCABULARY_FIELD] = {"type": "keyword"}
    properties["price"] = {"type": "double"}
    properties["created_at"] = {"type": "double"}
    return {"dynamic": "strict", "properties": properties}


# --- filters -------------------------------------------------------------------------------------

def _eq(node: Eq) -> Query:
    key, value = term(node.field, node.value)
    return {"term": {KEYWORD_FIELDS[key]: value}}


def _in(node: In) -> Query:
    encoded = [term(node.field, v) for v in node.values]
    return {"terms": {KEYWORD_FIELDS[encoded[0][0]]: [v for _, v in encoded]}}


def _range(node: Range) -> Query:
    field = check_field(node.field, numeric=True)  # numeric filter fields are mapped fields of the same name
    bounds = {op: getattr(node, op) for op in ("gte", "gt", "lte", "lt") if getattr(node, op) is not None}
    # A document without a price has no value, and ES range never matches a missing value.
    return {"range": {field: bounds}}


def _and(node: And) -> Query:
    return {"bool": {"filter": [to_query(c) for c in node.all]}} if node.all else {"match_all": {}}


def _or(node: Or) -> Query:
    return {"bool": {"should": [to_query(c) for c in node.any], "minimum_should_match": 1}}


def _not(node: Not) -> Query:
    # An ES bool with only must_not starts from every document (unlike tantivy).
    return {"bool": {"must_not": [to_query(node.filter)]}}


OPERATORS: dict[type, Callable[[Any], Query]] = {Eq: _eq, In: _in, Range: _range, And: _and, Or: _or,
                                                 Not: _not}


def to_query(node: Filter) -> Query:
    translate = OPERATORS.get(type(node))
    if translate is None:
        raise FilterError(f"unknown filter node {node!r}")
    return translate(node)


def scoped_filter(store: str, node: Filter | None) -> list[Query]:
    """`bool.filter` clauses: the store is always one, whatever the filter says. Filter context never
    scores, so BM25 ranks by text only."""
    clauses: list[Query] = [{"term": {"store": store}}]
    if node is not None:
        clauses.append(to_query(node))
    return clauses


# --- text, sort, aggregations --------------------------------------------------------------------

def text_query(text: str, match: TextMatch = BOOSTED) -> Query | None:
    """multi_match over the text fields of `match`, or None for blank text (browse).

    `multi_match` takes the text as plain words through the analyzer: quotes, colons, `*`, AND are not
    syntax there (only query_string/simple_query_string interpret them).
    """
    if not text.strip():
        return None
    return {"multi_match": {"query": text, "type": "best_fields", "operator": "or",
                            "tie_breaker": match.tie_breaker,
                            "fields": [f"{name}^{boost:g}" for name, boost in match.boosts.items()]}}


def search_query(store: str, text: str, node: Filter | None, match: TextMatch = BOOSTED) -> Query:
    query: Query = {"bool": {"filter": scoped_filter(store, node)}}
    text_q = text_query(text, match)
    if text_q is not None:
        query["bool"]["must"] = [text_q]
    return query


def sort_clause(sort: Sort | None) -> list[Any]:
    """Relevance (or the field), then product id: equal scores would otherwise come in shard order, and
    pages cut through them would differ from tantivy's and between requests (engines/ordering.py)."""
    if sort is None:
        return [{"_score": {"order": "desc"}}, {"product_id": {"order": "asc"}}]
    # Missing values (no price) last in both directions, like tantivy.
    return [{sort.field: {"order": "desc" if sort.descending else "asc", "missing": "_last"}},
            {"product_id": {"order": "asc"}}]


def lucene_regex_escape(text: str) -> str:
    """Escape Lucene regexp syntax (used by terms `include`)."""
    special = set('.?+*|{}[]()"\\#@&<>~')
    return "".join(f"\\{ch}" if ch in special else ch for ch in text)


def facet_agg(field: str, size: int) -> tuple[Query, str]:
    """(terms aggregation, value prefix to strip) for a facet over a neutral field."""
    key, prefix = facet_key(field)
    terms: dict[str, Any] = {"field": KEYWORD_FIELDS[key], "size": size,
                             "shard_size": max(FACET_SHARD_SIZE, size * 10),
                             "order": [{"_count": "desc"}, {"_key": "asc"}]}
    if prefix:
        terms["include"] = lucene_regex_escape(prefix) + ".*"
    return {"terms": terms}, prefix
