"""Extraction and indexing steps shared by the CLI, the Celery tasks and the API (no HTTP here)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from indexer.conversions import extraction_input

log = logging.getLogger(__name__)


def extract_products(catalog, store: str, product_ids: Sequence[str], extractor, taxonomy, *,
                     batch_size: int = 64, progress: Callable[[int], None] | None = None) -> int:
    """Extract the given products whose stored extraction is missing or stale; returns how many ran.

    Each batch's extractions are written with their outbox rows, so a crash loses at most the batch
    in flight and a re-run picks up where it stopped."""
    done = 0
    for start in range(0, len(product_ids), batch_size):
        chunk = [p for p in (catalog.get_product(store, pid) for pid in product_ids[start:start + batch_size])
                 if p is not None]
        extractions = extractor.extract([extraction_input(p) for p in chunk])
        for product, extraction in zip(chunk, extractions, strict=True):
            catalog.put_extraction(store, product.product_id, product.content_hash(), extraction)
        done += len(chunk)
        if progress:
            progress(len(chunk))
    return done


def stale_product_ids(catalog, store: str, extractor, taxonomy) -> list[str]:
    return catalog.stale_products(store, extractor.name, extractor.version, taxonomy.version)
