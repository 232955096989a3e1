"""The catalog store: products, extractions, embeddings cache, change log, jobs, dead letters."""

from indexer.store.catalog import CatalogStore
from indexer.store.engine import current_revision, migrate
from indexer.store.types import Change, DeadLetter, Job, UpsertSummary

__all__ = ["CatalogStore", "Change", "DeadLetter", "Job", "UpsertSummary", "current_revision", "migrate"]
