"""The Elasticsearch adapter's calls, checked on an autospec'd client (the signatures are the real
client's, so a wrong keyword fails here) with canned responses. The contract suite covers behaviour
against a real cluster when ELASTICSEARCH_URL is set."""

from __future__ import annotations

from typing import Any
from unittest.mock import create_autospec

import pytest
from elasticsearch import Elasticsearch
from elasticsearch._sync.client.indices import IndicesClient  # not re-exported publicly

from indexer.documents import IndexDocument, point_id
from indexer.engines.lexical import elasticsearch as es_module
from indexer.engines.lexical.elasticsearch import ElasticsearchLexicalEngine
from indexer.engines.lexical.es_filters import index_mapping, index_settings, search_query
from indexer.engines.types import MAX_WINDOW, EngineError, FacetCount, Hit, Sort
from indexer.filters import Eq


@pytest.fixture()
def client() -> Any:
    es = create_autospec(Elasticsearch, instance=True)
    es.indices = create_autospec(IndicesClient, instance=True)
    es.indices.exists.return_value = False
    return es


def test_creates_missing_index_with_mapping(client: Any) -> None:
    ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.indices.create.assert_called_once_with(index="idx", settings=index_settings(),
                                                  mappings=index_mapping())


def test_search_request_and_response(client: Any) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.search.return_value = {"hits": {"total": {"value": 7}, "hits": [
        {"_score": None, "sort": [9.5, "p1"], "_source": {"product_id": "p1"}},
        {"_score": None, "sort": [None, "p2"], "_source": {"product_id": "p2"}}]}}
    flt = Eq(field="vendor", value="Acme")
    hits = engine.search("s", "black hoodie", flt, limit=2, offset=4, sort=Sort(field="price"))
    assert hits.total == 7 and hits.hits == [Hit("p1", 9.5), Hit("p2", 0.0)]
    kwargs = client.search.call_args.kwargs
    assert kwargs["query"] == search_query("s", "black hoodie", flt)
    assert kwargs["from_"] == 4 and kwargs["size"] == 2 and kwargs["sort"][0]["price"]["order"] == "asc"


def test_relevance_pages_break_ties_by_id_and_deep_counts_are_lower_bounds(client: Any) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.search.return_value = {"hits": {"total": {"value": 10_100, "relation": "gte"}, "hits": [
        {"_score": 1.5, "sort": [1.5, "p1"], "_source": {"product_id": "p1"}}]}}
    hits = engine.search("s", "hoodie", None, limit=1, offset=10_000)
    kwargs = client.search.call_args.kwargs
    assert kwargs["sort"] == [{"_score": {"order": "desc"}}, {"product_id": {"order": "asc"}}]
    assert kwargs["track_total_hits"] == MAX_WINDOW and not hits.exact and hits.total == 10_100
    assert index_settings()["max_result_window"] == MAX_WINDOW


def test_existing_index_gets_the_deep_result_window(client: Any) -> None:
    client.indices.exists.return_value = True
    ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.indices.create.assert_not_called()
    client.indices.put_settings.assert_called_once_with(index="idx", settings={"max_result_window": MAX_WINDOW})


def test_facets_strip_the_attribute_prefix(client: Any) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.search.return_value = {"aggregations": {"f": {"buckets": [
        {"key": "color=color__red", "doc_count": 2}, {"key": "color=color__black", "doc_count": 5}]}}}
    got = engine.facets("s", "", None, "attr.color")
    assert got == [FacetCount("color__black", 5), FacetCount("color__red", 2)]
    assert client.search.call_args.kwargs["aggs"]["f"]["terms"]["include"] == "color=.*"


def test_price_stats_and_count(client: Any) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.search.return_value = {"aggregations": {"p": {"count": 0, "min": None, "max": None}}}
    assert engine.price_stats("s", "", None) is None
    client.search.return_value = {"aggregations": {"p": {"count": 3, "min": 1.0, "max": 9.0}}}
    assert engine.price_stats("s", "", None) == (1.0, 9.0)
    client.count.return_value = {"count": 12}
    assert engine.count("s") == 12


def test_bulk_upsert_and_delete_use_point_ids(client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    sent: list[dict[str, Any]] = []

    def fake_bulk(_client: Any, actions: Any, **kw: Any) -> tuple[int, list[Any]]:
        sent.extend(actions)
        return len(sent), [{"delete": {"status": 404, "_id": "x"}}]  # deleting a missing doc is fine

    monkeypatch.setattr(es_module.helpers, "bulk", fake_bulk)
    engine.upsert([IndexDocument(store="s", product_id="p1", title="t")])
    engine.delete("s", ["p9"])
    assert [(a["_op_type"], a["_id"]) for a in sent] == [("index", point_id("s", "p1")),
                                                          ("delete", point_id("s", "p9"))]
    assert sent[0]["_source"]["store"] == "s"

    monkeypatch.setattr(es_module.helpers, "bulk",
                        lambda *a, **k: (0, [{"index": {"status": 400, "error": "mapper_parsing"}}]))
    with pytest.raises(EngineError, match="rejected"):
        engine.upsert([IndexDocument(store="s", product_id="p1", title="t")])


def test_vocabulary_terms_are_indexed_and_counted_per_store(client: Any) -> None:
    from indexer.documents import AttributeValue
    from indexer.engines.vocabulary import VOCABULARY_FIELD, vocabulary_terms

    client.indices.exists.return_value = True
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    # An index made before the vocabulary column gains it in place.
    client.indices.put_mapping.assert_called_once_with(index="idx", properties={VOCABULARY_FIELD: {"type": "keyword"}})
    assert index_mapping()["properties"][VOCABULARY_FIELD] == {"type": "keyword"}
    doc = IndexDocument(store="s", product_id="p1", title="Tee", vendor="Acme",
                        attributes=[AttributeValue(handle="color", value="color__black", name="Black")])
    assert es_module.es_document(doc)[VOCABULARY_FIELD] == vocabulary_terms(doc) != []
    client.search.return_value = {"aggregations": {"v": {"buckets": [{"key": "v\x1fAcme", "doc_count": 4}]}}}
    assert engine.vocabulary_counts("s") == [FacetCount("v\x1fAcme", 4)]
    kwargs = client.search.call_args.kwargs
    assert kwargs["size"] == 0 and kwargs["aggs"]["v"]["terms"]["field"] == VOCABULARY_FIELD
    assert kwargs["query"]["bool"]["filter"] == es_module.scoped_filter("s", None)


def test_facets_many_and_price_counts_are_one_request_each(client: Any) -> None:
    engine = ElasticsearchLexicalEngine("http://es", index="idx", client=client)
    client.search.return_value = {"aggregations": {
        "f0": {"buckets": [{"key": "aa", "doc_count": 3}]},
        "f1": {"buckets": [{"key": "color=color__red", "doc_count": 2}]}}}
    got = engine.facets_many("s", "tee", None, ["category", "attr.color"])
    assert got == {"category": [FacetCount("aa", 3)], "attr.color": [FacetCount("color__red", 2)]}
    assert client.search.call_count == 1 and set(client.search.call_args.kwargs["aggs"]) == {"f0", "f1"}
    client.search.return_value = {"aggregations": {"p": {"buckets": [{"doc_count": 4}, {"doc_count": 1}]}}}
    assert engine.price_counts("s", "", None, [(None, 25.0), (25.0, None)]) == [4, 1]
    assert client.search.call_args.kwargs["aggs"]["p"]["range"]["ranges"] == [{"to": 25.0}, {"from": 25.0}]
