"""The vector engine contract (Qdrant Edge embedded, Qdrant server at scale)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from indexer.documents import IndexDocument
from indexer.engines.types import Hit
from indexer.filters import Filter


class VectorEngine(Protocol):
    dim: int

    def upsert(self, docs: Sequence[IndexDocument], vectors: Sequence[Sequence[float]]) -> None:
        """Insert or replace points keyed by (store, product_id), with the filterable payload."""

    def delete(self, store: str, product_ids: Sequence[str]) -> None: ...

    def commit(self) -> None:
        """Flush writes; after a bulk load, build the HNSW index once."""

    def search(self, store: str, vector: Sequence[float], filter: Filter | None = None, *,
               limit: int = 10) -> list[Hit]:
        """Cosine nearest neighbours under the filter, best first."""

    def count(self, store: str, filter: Filter | None = None) -> int: ...

    def ids(self, store: str) -> set[str]: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...
