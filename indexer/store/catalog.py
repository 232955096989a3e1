"""CatalogStore: the source of truth (products, extractions, embeddings, change log, jobs)."""

from __future__ import annotations

from indexer.store.embeddings import EmbeddingsMixin
from indexer.store.engine import make_engine, migrate
from indexer.store.extractions import ExtractionsMixin
from indexer.store.feedback import FeedbackMixin
from indexer.store.jobs import JobsMixin
from indexer.store.keys import KeysMixin
from indexer.store.outbox import OutboxMixin
from indexer.store.products import ProductsMixin
from indexer.store.reviews import ReviewsMixin


class CatalogStore(ProductsMixin, ExtractionsMixin, EmbeddingsMixin, OutboxMixin, JobsMixin, FeedbackMixin,
                   ReviewsMixin, KeysMixin):
    """Plain methods over SQLAlchemy Core; SQLite file by default, PostgreSQL via its URL.

    Every product or extraction change and its outbox row commit in one transaction."""

    @classmethod
    def open(cls, url: str, *, migrate_schema: bool = True) -> CatalogStore:
        """Connect and bring the schema to the newest migration (safe from concurrent processes)."""
        engine = make_engine(url)
        if migrate_schema:
            try:
                migrate(engine)
            except Exception:
                engine.dispose()
                raise
        return cls(engine)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> CatalogStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
