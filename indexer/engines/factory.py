"""Pick and open the engines from settings, the way QdrantClient.__init__ picks local or remote.

ELASTICSEARCH_URL set -> Elasticsearch, else tantivy under CATALOG_HOME/index/tantivy.
QDRANT_URL set        -> Qdrant server, else Qdrant Edge under CATALOG_HOME/index/qdrant.
Any embedded engine takes the engine owner lock first (one owning process, DESIGN.md section 2).
Open once per process (the app lifespan or the CLI command) and `close()` at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from extractor.embeddings import DIM
from indexer.engines.lexical.base import LexicalEngine
from indexer.engines.lock import EngineOwnerLock
from indexer.engines.vector.base import VectorEngine
from indexer.settings import Settings


@dataclass
class Engines:
    lexical: LexicalEngine
    vector: VectorEngine
    lock: EngineOwnerLock | None  # held while embedded engines are open; None when all are scale-out

    @property
    def embedded(self) -> bool:
        return self.lock is not None

    def close(self) -> None:
        """Close both engines, then release the owner lock (in that order: the lock guards the files)."""
        try:
            self.lexical.close()
        finally:
            try:
                self.vector.close()
            finally:
                if self.lock is not None:
                    self.lock.release()

    def __enter__(self) -> Engines:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def index_dir(catalog_home: Path) -> Path:
    return Path(catalog_home) / "index"


def open_engines(settings: Settings, *, dim: int = DIM) -> Engines:
    embedded = not settings.elasticsearch_url or not settings.qdrant_url
    lock = EngineOwnerLock(settings.catalog_home).acquire() if embedded else None
    lexical: LexicalEngine | None = None
    try:
        lexical = open_lexical(settings)
        vector = open_vector(settings, dim=dim)
    except BaseException:
        if lexical is not None:
            lexical.close()
        if lock is not None:
            lock.release()
        raise
    return Engines(lexical=lexical, vector=vector, lock=lock)


def open_lexical(settings: Settings) -> LexicalEngine:
    """The lexical engine alone; the caller must hold the owner lock when it is embedded."""
    if settings.elasticsearch_url:
        from indexer.engines.lexical.elasticsearch import ElasticsearchLexicalEngine

        return ElasticsearchLexicalEngine(settings.elasticsearch_url)
    from indexer.engines.lexical.tantivy import TantivyLexicalEngine

    return TantivyLexicalEngine(index_dir(settings.catalog_home) / "tantivy")


def open_vector(settings: Settings, *, dim: int = DIM) -> VectorEngine:
    """The vector engine alone; the caller must hold the owner lock when it is embedded."""
    if settings.qdrant_url:
        from indexer.engines.vector.qdrant_server import QdrantServerVectorEngine

        return QdrantServerVectorEngine(settings.qdrant_url, dim=dim)
    from indexer.engines.vector.qdrant_edge import QdrantEdgeVectorEngine

    return QdrantEdgeVectorEngine(index_dir(settings.catalog_home) / "qdrant", dim=dim)
