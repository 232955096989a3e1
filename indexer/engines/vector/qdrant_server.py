"""Scale-out vector engine on a Qdrant server (qdrant-client). One collection holds every store; the
store is a tenant keyword index that every request filters on. Filters come from `qdrant_filters`,
the same translation Qdrant Edge uses, built with qdrant-client's models."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from qdrant_client import QdrantClient
from qdrant_client import models as m

from extractor.embeddings import DIM
from indexer.documents import IndexDocument, point_id
from indexer.engines.ordering import first_hits
from indexer.engines.types import EngineError, Hit
from indexer.engines.vector.qdrant_filters import (
    FLOAT_PAYLOAD_KEYS,
    KEYWORD_PAYLOAD_KEYS,
    checked_points,
    client_models,
    point_payload,
    query_vector,
    scoped_filter,
)
from indexer.filters import Filter

DEFAULT_COLLECTION = "catalog_products"
UPSERT_BATCH = 256
SCROLL_PAGE = 1000
TIMEOUT_S = 10
PAYLOAD_INDEXES: dict[str, Any] = {
    **{key: m.PayloadSchemaType.KEYWORD for key in KEYWORD_PAYLOAD_KEYS},
    **{key: m.PayloadSchemaType.FLOAT for key in FLOAT_PAYLOAD_KEYS},
    # is_tenant: Qdrant co-locates each store's points, so per-store queries read less.
    "store": m.KeywordIndexParams(type=m.KeywordIndexType.KEYWORD, is_tenant=True),
}
_MODELS = client_models()


class QdrantServerVectorEngine:
    """VectorEngine on a Qdrant collection (created with cosine distance and payload indexes when
    missing). `client` lets tests pass `QdrantClient(":memory:")` (qdrant-client's local mode)."""

    def __init__(self, url: str, dim: int = DIM, *, collection: str = DEFAULT_COLLECTION,
                 client: QdrantClient | None = None) -> None:
        self.url = url
        self.dim = dim
        self.collection = collection
        # check_compatibility=False: qdrant-client checks in a background thread and only warns, even when
        # the server is down; we connect synchronously below and fail with a clear EngineError instead.
        self._client = client or QdrantClient(url=url, timeout=TIMEOUT_S, check_compatibility=False)
        try:
            if self._client.collection_exists(collection):
                self._check_dim()
            else:
                self._client.create_collection(
                    collection, vectors_config=m.VectorParams(size=dim, distance=m.Distance.COSINE))
                for key, schema in PAYLOAD_INDEXES.items():
                    self._client.create_payload_index(collection, key, field_schema=schema, wait=True)
        except EngineError:
            self._client.close()
            raise
        except Exception as exc:  # httpx/grpc errors, ResponseHandlingException, UnexpectedResponse
            self._client.close()
            raise EngineError(f"Qdrant at {url} is unreachable or refused collection {collection!r} "
                              f"(QDRANT_URL): {exc}") from exc

    def _check_dim(self) -> None:
        vectors = self._client.get_collection(self.collection).config.params.vectors
        size = vectors.size if isinstance(vectors, m.VectorParams) else None
        if size != self.dim:
            raise EngineError(f"Qdrant collection {self.collection!r} holds vectors of size {size}, "
                              f"expected {self.dim}: rebuild it")

    def _call(self, what: str, fn: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except (ValueError, TypeError):
            raise
        except Exception as exc:
            raise EngineError(f"Qdrant {what} failed on {self.url}/{self.collection}: {exc}") from exc

    # --- writes --------------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDocument], vectors: Sequence[Sequence[float]]) -> None:
        points = [m.PointStruct(id=doc.point_id(), vector=vector, payload=point_payload(doc))
                  for doc, vector in checked_points(docs, vectors, self.dim)]
        for start in range(0, len(points), UPSERT_BATCH):
            # wait=True: the sync records a sequence number as applied only once Qdrant has it.
            batch = points[start:start + UPSERT_BATCH]
            self._call("upsert", self._client.upsert, self.collection, points=batch, wait=True)

    def delete(self, store: str, product_ids: Sequence[str]) -> None:
        if not product_ids:
            return
        self._call("delete", self._client.delete, self.collection,
                   points_selector=m.PointIdsList(points=[point_id(store, p) for p in product_ids]),
                   wait=True)

    def commit(self) -> None:
        """Nothing to do: writes are acknowledged with wait=True and the server builds HNSW itself."""

    def clear(self) -> None:
        self._call("clear", self._client.delete, self.collection,
                   points_selector=m.FilterSelector(filter=m.Filter()), wait=True)

    def close(self) -> None:
        self._client.close()

    def drop_collection(self) -> None:
        self._call("drop", self._client.delete_collection, self.collection)

    # --- reads ---------------------------------------------------------------------------------

    def search(self, store: str, vector: Sequence[float], filter: Filter | None = None, *,
               limit: int = 10) -> list[Hit]:
        query, flt = query_vector(vector, self.dim), scoped_filter(store, filter, _MODELS)

        def fetch(n: int) -> list[Hit]:
            res = self._call("search", self._client.query_points, self.collection, query=query, query_filter=flt,
                             limit=n, with_payload=["product_id"], with_vectors=False)
            return [Hit(product_id=p.payload["product_id"], score=float(p.score)) for p in res.points]

        # Equal scores by product id, as on every engine (engines/ordering.py).
        return first_hits(fetch, limit)

    def count(self, store: str, filter: Filter | None = None) -> int:
        res = self._call("count", self._client.count, self.collection,
                         count_filter=scoped_filter(store, filter, _MODELS), exact=True)
        return int(res.count)

    def ids(self, store: str) -> set[str]:
        found: set[str] = set()
        offset = None
        flt = scoped_filter(store, None, _MODELS)
        while True:
            records, offset = self._call("scroll", self._client.scroll, self.collection, scroll_filter=flt,
                                         limit=SCROLL_PAGE, offset=offset, with_payload=["product_id"],
                                         with_vectors=False)
            found.update(r.payload["product_id"] for r in records)
            if offset is None:
                return found
