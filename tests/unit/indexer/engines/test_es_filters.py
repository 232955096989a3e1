"""Pure Elasticsearch request builders: mapping, filter translation, text query, sorts, facets."""

from __future__ import annotations

import time

import pytest

from indexer.documents import AttributeValue, IndexDocument
from indexer.engines.lexical.base import FIELD_BOOSTS
from indexer.engines.lexical.elasticsearch import ElasticsearchLexicalEngine, es_document
from indexer.engines.lexical.es_filters import (
    facet_agg,
    index_mapping,
    index_settings,
    lucene_regex_escape,
    scoped_filter,
    search_query,
    sort_clause,
    text_query,
    to_query,
)
from indexer.engines.types import EngineError, Sort
from indexer.filters import And, Eq, FilterError, In, Not, Or, Range


def test_mapping_is_strict_and_covers_every_indexed_field() -> None:
    mapping = index_mapping()
    assert mapping["dynamic"] == "strict"
    props = mapping["properties"]
    for name in FIELD_BOOSTS:
        assert props[name] == {"type": "text", "analyzer": "catalog_en"}
    for name in ("store", "product_id", "category", "attrs", "vendor_kw", "tags_kw", "product_type_kw",
                 "flagged"):
        assert props[name] == {"type": "keyword"}
    assert props["price"]["type"] == "double" and props["created_at"]["type"] == "double"
    doc = IndexDocument(store="s", product_id="p", title="t", tags=["a"], category_path=["aa", "aa-1"],
                        attributes=[AttributeValue(handle="color", value="color__black", name="Black")])
    assert set(es_document(doc)) <= set(props)  # a strict mapping accepts every document we build
    assert "catalog_en" in index_settings()["analysis"]["analyzer"]


def test_document_body_uses_shared_keyword_encoding() -> None:
    doc = IndexDocument(store="s", product_id="p", title="t", category_path=["aa", "aa-1"], flagged=True,
                        attributes=[AttributeValue(handle="color", value="color__black", name="Black")])
    body = es_document(doc)
    assert body["category"] == ["aa", "aa-1"] and body["attrs"] == ["color=color__black"]
    assert body["flagged"] == ["true"] and body["store"] == "s" and body["product_id"] == "p"
    assert body["price"] is None and body["vendor_kw"] == []


@pytest.mark.parametrize(("node", "expected"), [
    (Eq(field="attr.color", value="color__black"), {"term": {"attrs": "color=color__black"}}),
    (Eq(field="category", value="aa-1"), {"term": {"category": "aa-1"}}),
    (Eq(field="vendor", value="Acme"), {"term": {"vendor_kw": "Acme"}}),
    (Eq(field="flagged", value=False), {"term": {"flagged": "false"}}),
    (In(field="tags", values=("a", "b")), {"terms": {"tags_kw": ["a", "b"]}}),
    (Range(gte=10, lt=20), {"range": {"price": {"gte": 10.0, "lt": 20.0}}}),
    (Not(filter=Eq(field="product_type", value="x")),
     {"bool": {"must_not": [{"term": {"product_type_kw": "x"}}]}}),
    (And(all=()), {"match_all": {}}),
])
def test_filter_translation(node: object, expected: dict) -> None:
    assert to_query(node) == expected  # type: ignore[arg-type]


def test_nested_logic() -> None:
    node = And(all=(Or(any=(Eq(field="category", value="aa"), Range(lte=5))),
                    Not(filter=In(field="attr.size", values=("size__m",)))))
    assert to_query(node) == {"bool": {"filter": [
        {"bool": {"should": [{"term": {"category": "aa"}}, {"range": {"price": {"lte": 5.0}}}],
                  "minimum_should_match": 1}},
        {"bool": {"must_not": [{"terms": {"attrs": ["size=size__m"]}}]}}]}}


def test_store_is_always_a_filter() -> None:
    assert scoped_filter("s", None) == [{"term": {"store": "s"}}]
    assert scoped_filter("s", Eq(field="vendor", value="A"))[0] == {"term": {"store": "s"}}
    assert search_query("s", "", None) == {"bool": {"filter": [{"term": {"store": "s"}}]}}


def test_unknown_fields_and_mixed_types_raise_filter_error() -> None:
    with pytest.raises(FilterError):
        to_query(Eq.model_construct(field="colour", value="x"))
    with pytest.raises(FilterError):
        to_query(Eq(field="flagged", value="yes"))
    with pytest.raises(FilterError):
        to_query(Eq(field="vendor", value=True))
    with pytest.raises(FilterError):
        to_query(Range.model_construct(field="created_at", gte=1.0))
    with pytest.raises(FilterError):
        to_query("not a node")  # type: ignore[arg-type]


def test_text_query_is_multi_match_with_boosts() -> None:
    q = text_query('black "hoodie" AND title:x*')
    assert q is not None and "multi_match" in q  # never query_string: syntax stays plain text
    assert q["multi_match"]["query"] == 'black "hoodie" AND title:x*'
    assert "title^3" in q["multi_match"]["fields"] and "description^0.5" in q["multi_match"]["fields"]
    assert text_query("   ") is None
    assert search_query("s", "hat", None)["bool"]["must"] == [q and text_query("hat")]


def test_plain_text_query_is_an_unboosted_multi_match() -> None:
    from indexer.engines.lexical.base import PLAIN

    q = text_query("rain jacket", PLAIN)
    assert q is not None
    assert sorted(q["multi_match"]["fields"]) == ["attributes_text^1", "category_name^1", "description^1",
                                                  "title^1"]
    assert q["multi_match"]["tie_breaker"] == 0.0 and q["multi_match"]["type"] == "best_fields"
    assert search_query("s", "rain", None, PLAIN)["bool"]["must"] == [text_query("rain", PLAIN)]


def test_sort_puts_missing_last() -> None:
    # relevance, then product id: equal scores never come in shard order
    assert sort_clause(None) == [{"_score": {"order": "desc"}}, {"product_id": {"order": "asc"}}]
    assert sort_clause(Sort(field="price", descending=True))[0] == {  # type: ignore[index]
        "price": {"order": "desc", "missing": "_last"}}


def test_facet_aggregations() -> None:
    agg, prefix = facet_agg("attr.target-gender", 10)
    assert prefix == "target-gender=" and agg["terms"]["field"] == "attrs"
    assert agg["terms"]["include"] == "target-gender=.*" and agg["terms"]["size"] == 10
    agg, prefix = facet_agg("category", 5)
    assert prefix == "" and "include" not in agg["terms"]
    assert lucene_regex_escape("a.b+c") == "a\\.b\\+c"


def test_unreachable_server_is_a_clear_engine_error() -> None:
    start = time.monotonic()
    with pytest.raises(EngineError, match="unreachable"):
        ElasticsearchLexicalEngine("http://127.0.0.1:9")
    assert time.monotonic() - start < 10
