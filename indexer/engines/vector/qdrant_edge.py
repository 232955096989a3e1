"""Embedded vector engine on Qdrant Edge (qdrant-edge-py): one in-process shard in a directory.

Qdrant Edge locks its directory (its WAL) exclusively: a second `EdgeShard.load` of the same path,
from this or another process, fails with `failed to open WAL ... WouldBlock`. The caller must own the
directory (EngineOwnerLock) and open this engine once per process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import qdrant_edge as q

from extractor.embeddings import DIM
from indexer.documents import IndexDocument, point_id
from indexer.engines.ordering import first_hits
from indexer.engines.types import EngineError, Hit
from indexer.engines.vector.qdrant_filters import (
    FLOAT_PAYLOAD_KEYS,
    KEYWORD_PAYLOAD_KEYS,
    checked_points,
    edge_models,
    point_payload,
    query_vector,
    scoped_filter,
)
from indexer.filters import Filter

UPSERT_BATCH = 512
SCROLL_PAGE = 1000
# Payload indexes: filters and the store scope use them instead of scanning payloads.
PAYLOAD_INDEXES = {**{key: q.PayloadSchemaType.Keyword for key in KEYWORD_PAYLOAD_KEYS},
                   **{key: q.PayloadSchemaType.Float for key in FLOAT_PAYLOAD_KEYS}}
_MODELS = edge_models()


def _config(dim: int) -> q.EdgeConfig:
    return q.EdgeConfig(vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine),
                        # Payload in RAM: filters and the product_id of each hit are read per query.
                        payload_memory=q.Memory.Cached,
                        # One search thread: a query holds the GIL while the shard searches, so the shard's
                        # own threads (one per segment) only add hand-offs; the serving process's other
                        # requests get the other core instead (at 100k: 2.5 -> 1.8 CPU-ms a query).
                        max_search_threads=1)


class QdrantEdgeVectorEngine:
    """VectorEngine on a Qdrant Edge shard in `path` (created on first use), cosine distance."""

    def __init__(self, path: Path, dim: int = DIM) -> None:
        self.path = Path(path)
        self.dim = dim
        self._write_lock = threading.Lock()
        self._dirty = False
        try:
            if (self.path / "edge_config.json").exists():
                # Passing the config checks it against the shard on disk (a dimension change fails).
                self._shard = q.EdgeShard.load(str(self.path), _config(dim))
            else:
                self.path.mkdir(parents=True, exist_ok=True)
                self._shard = q.EdgeShard.create(str(self.path), _config(dim))
        except Exception as exc:  # qdrant-edge raises a bare Exception ("Service runtime error: ...")
            if "WouldBlock" in str(exc):
                raise EngineError(f"Qdrant Edge shard {self.path} is open in another process "
                                  f"(only one process may own the embedded engines): {exc}") from exc
            raise EngineError(f"cannot open Qdrant Edge shard {self.path} (dim={dim}): {exc}") from exc
        self._ensure_payload_indexes()

    def _ensure_payload_indexes(self) -> None:
        present = set(self._shard.info().payload_schema)
        for key, schema in PAYLOAD_INDEXES.items():
            if key not in present:
                self._shard.update(q.UpdateOperation.create_field_index(key, schema))

    # --- writes --------------------------------------------------------------------------------

    def upsert(self, docs: Sequence[IndexDocument], vectors: Sequence[Sequence[float]]) -> None:
        points = [q.Point(doc.point_id(), vector, point_payload(doc))
                  for doc, vector in checked_points(docs, vectors, self.dim)]
        with self._write_lock:
            for start in range(0, len(points), UPSERT_BATCH):
                self._shard.update(q.UpdateOperation.upsert_points(points[start:start + UPSERT_BATCH]))
            self._dirty = True

    def delete(self, store: str, product_ids: Sequence[str]) -> None:
        if not product_ids:
            return
        with self._write_lock:
            self._shard.update(q.UpdateOperation.delete_points([point_id(store, p) for p in product_ids]))
            self._dirty = True

    def commit(self) -> None:
        with self._write_lock:
            if not self._dirty:
                return
            self._shard.flush()
            # Runs the optimizers in-process until none is planned: builds HNSW once the segment passes
            # the indexing threshold (small shards stay on exact brute force, which is fast there) and
            # vacuums deletes. Cheap when nothing is planned, so calling it per commit is fine.
            self._shard.optimize()
            self._dirty = False

    def clear(self) -> None:
        with self._write_lock:
            self._shard.update(q.UpdateOperation.delete_points_by_filter(q.Filter()))
            self._shard.flush()
            self._shard.optimize()
            self._dirty = False

    def close(self) -> None:
        with self._write_lock:
            shard = getattr(self, "_shard", None)
            if shard is None:
                return
            shard.flush()
            shard.close()  # releases the directory lock
            self._shard = None

    # --- reads ---------------------------------------------------------------------------------

    def search(self, store: str, vector: Sequence[float], filter: Filter | None = None, *,
               limit: int = 10) -> list[Hit]:
        nearest, flt = q.Query.Nearest(query_vector(vector, self.dim)), scoped_filter(store, filter, _MODELS)

        def fetch(n: int) -> list[Hit]:
            request = q.QueryRequest(limit=n, query=nearest, filter=flt, with_vector=False,
                                     with_payload=q.PayloadSelector.Include(["product_id"]))
            return [Hit(product_id=p.payload["product_id"], score=float(p.score)) for p in self._shard.query(request)]

        # Equal scores (products with the same text embed alike) by product id, as on every engine.
        return first_hits(fetch, limit)

    def count(self, store: str, filter: Filter | None = None) -> int:
        flt = scoped_filter(store, filter, _MODELS)
        return int(self._shard.count(q.CountRequest(exact=True, filter=flt)))

    def ids(self, store: str) -> set[str]:
        found: set[str] = set()
        offset = None
        flt = scoped_filter(store, None, _MODELS)
        while True:
            records, offset = self._shard.scroll(q.ScrollRequest(
                offset=offset, limit=SCROLL_PAGE, filter=flt,
                with_payload=q.PayloadSelector.Include(["product_id"]), with_vector=False))
            found.update(r.payload["product_id"] for r in records)
            if offset is None:
                return found
