"""Scale-out lexical + facets engine on Elasticsearch (official client). One index holds every store;
the store is a keyword field that every request filters on. Requests are built by `es_filters`.

The pinned client is elasticsearch-py 9, which speaks to Elasticsearch 9 servers (it sends
`compatible-with=9`, which 8.x servers refuse); use an elasticsearch<9 client against an 8.x cluster.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from elasticsearch import ApiError, Elasticsearch, TransportError, helpers

from indexer.documents import IndexDocument, point_id
from indexer.engines.keywords import keyword_values
from indexer.engines.lexical.base import BOOSTED, KEYWORD_FIELDS, TextMatch, facet_counts, price_ranges, text_values
from indexer.engines.lexical.es_filters import (
    facet_agg,
    index_mapping,
    index_settings,
    scoped_filter,
    search_query,
    sort_clause,
)
from indexer.engines.types import MAX_WINDOW, EngineError, FacetCount, Hit, Hits, Sort
from indexer.engines.vocabulary import MAX_TERMS, VOCABULARY_FIELD, vocabulary_terms
from indexer.filters import Filter

DEFAULT_INDEX = "catalog_products"
CONNECT_TIMEOUT_S = 5.0
BULK_CHUNK = 500


def es_document(doc: IndexDocument) -> dict[str, Any]:
    """The indexed body of a document: the same fields and values as the tantivy schema."""
    body: dict[str, Any] = {**text_values(doc), "price": doc.price, "created_at": doc.created_at}
    for key, values in keyword_values(doc).items():
        # an empty string is no value, as in tantivy (keeps facets free of "" buckets)
        body[KEYWORD_FIELDS[key]] = [v for v in values if v]
    body["store"], body["product_id"] = doc.store, doc.product_id  # scalars: read back from _source
    body[VOCABULARY_FIELD] = vocabulary_terms(doc)
    return body


class ElasticsearchLexicalEngine:
    """LexicalEngine on an Elasticsearch index (created with our mapping when missing)."""

    def __init__(self, url: str, *, index: str = DEFAULT_INDEX, client: Elasticsearch | None = None) -> None:
        self.url = url
        self.index = index
        self.recreated = False  # an existing index is kept as it is, never dropped on open
        # Fail fast on an unreachable server instead of retrying for minutes at startup.
        self._es = client or Elasticsearch(url, request_timeout=30, max_retries=2, retry_on_timeout=True)
        try:
            self._es.options(request_timeout=CONNECT_TIMEOUT_S, max_retries=0).info()
            if not self._es.indices.exists(index=index):
                self._es.indices.create(index=index, settings=index_settings(), mappings=index_mapping())
            else:
                # An index made before the result window reached the API's deepest page (a dynamic setting).
                self._es.indices.put_settings(index=index, settings={"max_result_window": MAX_WINDOW})
                # An index made before the vocabulary column: adding a keyword field is allowed in place
                # (its documents gain the terms as the sync rewrites them; `catalog index --rebuild` at once).
                self._es.indices.put_mapping(index=index, properties={VOCABULARY_FIELD: {"type": "keyword"}})
        except ApiError as exc:
            if getattr(exc, "error", "") == "resource_already_exists_exception":
                return  # created concurrently by another process: fine
            self._es.close()
            raise EngineError(f"Elasticsearch at {url} refused index {index!r}: {exc}") from exc
        except TransportError as exc:
            self._es.close()
            raise EngineError(f"Elasticsearch at {url} is unreachable (ELASTICSEARCH_URL): {exc}") from exc

    def _call(self, what: str, fn: Any, **kwargs: Any) -> Any:
        try:
            return fn(**kwargs)
        except (ApiError, TransportError) as exc:
            raise EngineError(f"Elasticsearch {what} failed on {self.url}/{self.index}: {exc}") from exc

    # --- writes --------------------------------------------------------------------------------

    def _bulk(self, actions: Iterator[dict[str, Any]]) -> None:
        try:
            _, errors = helpers.bulk(self._es, actions, chunk_size=BULK_CHUNK, raise_on_error=False,
                                     refresh=False)
        except TransportError as exc:
            raise EngineError(f"Elasticsearch bulk failed on {self.url}/{self.index}: {exc}") from exc
        # Deleting a product that is not indexed is fine (idempotent sync replays).
        real = [e for e in errors if not (e.get("delete", {}).get("status") == 404)]  # type: ignore[union-attr]
        if real:
            raise EngineError(f"Elasticsearch bulk rejected {len(real)} actions, first: {real[0]}")

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        # `_id` = point id (store + product id), so indexing the same product again replaces it.
        self._bulk({"_op_type": "index", "_index": self.index, "_id": d.point_id(), "_source": es_document(d)}
                   for d in docs)

    def delete(self, store: str, product_ids: Sequence[str]) -> None:
        self._bulk({"_op_type": "delete", "_index": self.index, "_id": point_id(store, p)}
                   for p in product_ids)

    def commit(self) -> None:
        self._call("refresh", self._es.indices.refresh, index=self.index)

    def clear(self) -> None:
        self._call("clear", self._es.delete_by_query, index=self.index, query={"match_all": {}},
                   conflicts="proceed", refresh=True)

    def close(self) -> None:
        self._es.close()

    def drop_index(self) -> None:
        """Delete the whole index (tests and full rebuilds)."""
        self._call("drop", self._es.indices.delete, index=self.index, ignore_unavailable=True)

    # --- reads ---------------------------------------------------------------------------------

    def search(self, store: str, text: str, filter: Filter | None = None, *, limit: int = 10,
               offset: int = 0, sort: Sort | None = None, match: TextMatch = BOOSTED) -> Hits:
        # Counting stops past the deepest page the API serves: beyond it an exact count costs a full pass
        # and changes nothing a shopper can reach; the total then says it is a lower bound.
        body: dict[str, Any] = {"query": search_query(store, text, filter, match), "from_": offset,
                                "size": max(limit, 0), "track_total_hits": MAX_WINDOW, "source": ["product_id"],
                                "sort": sort_clause(sort)}
        res = self._call("search", self._es.search, index=self.index, **body)
        hits = []
        for h in res["hits"]["hits"]:
            # With a sort, ES gives no score: report the sort value (0.0 when missing), like tantivy.
            score = h.get("_score")
            if score is None:
                value = (h.get("sort") or [None])[0]
                score = value if isinstance(value, int | float) else 0.0
            hits.append(Hit(product_id=h["_source"]["product_id"], score=float(score)))
        total = res["hits"]["total"]
        return Hits(total=int(total["value"]), hits=hits, exact=total.get("relation", "eq") == "eq")

    def facets(self, store: str, text: str, filter: Filter | None, field: str, *,
               size: int = 50) -> list[FacetCount]:
        agg, prefix = facet_agg(field, size)
        res = self._call("facets", self._es.search, index=self.index, query=search_query(store, text, filter),
                         size=0, track_total_hits=False, aggs={"f": agg})
        return facet_counts(res["aggregations"]["f"]["buckets"], prefix, size)

    def facets_many(self, store: str, text: str, filter: Filter | None, fields: Sequence[str], *,
                    size: int = 50) -> dict[str, list[FacetCount]]:
        """`facets` of several fields under one filter, in one request."""
        if not fields:
            return {}
        aggs, prefixes = {}, {}
        for i, fld in enumerate(fields):
            aggs[f"f{i}"], prefixes[fld] = facet_agg(fld, size)
        res = self._call("facets", self._es.search, index=self.index, query=search_query(store, text, filter),
                         size=0, track_total_hits=False, aggs=aggs)
        return {fld: facet_counts(res["aggregations"][f"f{i}"]["buckets"], prefixes[fld], size)
                for i, fld in enumerate(fields)}

    def price_counts(self, store: str, text: str, filter: Filter | None,
                     ranges: Sequence[tuple[float | None, float | None]]) -> list[int]:
        res = self._call("price counts", self._es.search, index=self.index, query=search_query(store, text, filter),
                         size=0, track_total_hits=False,
                         aggs={"p": {"range": {"field": "price", "ranges": price_ranges(ranges)}}})
        return [int(b["doc_count"]) for b in res["aggregations"]["p"]["buckets"]]

    def price_stats(self, store: str, text: str, filter: Filter | None) -> tuple[float, float] | None:
        res = self._call("price stats", self._es.search, index=self.index,
                         query=search_query(store, text, filter), size=0, track_total_hits=False,
                         aggs={"p": {"stats": {"field": "price"}}})
        stats = res["aggregations"]["p"]
        if not stats.get("count"):
            return None
        return float(stats["min"]), float(stats["max"])

    def vocabulary_counts(self, store: str) -> list[FacetCount]:
        res = self._call("vocabulary", self._es.search, index=self.index,
                         query={"bool": {"filter": scoped_filter(store, None)}}, size=0, track_total_hits=False,
                         aggs={"v": {"terms": {"field": VOCABULARY_FIELD, "size": MAX_TERMS}}})
        return [FacetCount(value=b["key"], count=int(b["doc_count"])) for b in res["aggregations"]["v"]["buckets"]]

    def count(self, store: str, filter: Filter | None = None) -> int:
        res = self._call("count", self._es.count, index=self.index,
                         query={"bool": {"filter": scoped_filter(store, filter)}})
        return int(res["count"])

    def ids(self, store: str) -> set[str]:
        try:
            return {h["_source"]["product_id"] for h in helpers.scan(
                self._es, index=self.index, query={"query": {"bool": {"filter": scoped_filter(store, None)}},
                                                   "_source": ["product_id"]})}
        except (ApiError, TransportError) as exc:
            raise EngineError(f"Elasticsearch scan failed on {self.url}/{self.index}: {exc}") from exc

    def stores(self) -> set[str]:
        res = self._call("stores", self._es.search, index=self.index, size=0, track_total_hits=False,
                         aggs={"s": {"terms": {"field": "store", "size": 10_000}}})
        return {b["key"] for b in res["aggregations"]["s"]["buckets"]}
