"""One product's extraction, for the realtime queue and for reindex chunks: idempotent, no HTTP, no engines.

Workers write the extraction and its change-log row to the store; the process owning the engines applies it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

from extractor.base import ExtractorUnavailable
from indexer.conversions import build_document, extraction_input
from indexer.embedding_cache import embed_cached
from indexer.importers.common import is_url
from indexer.photos.resolve import PhotoResolver, record_failures

if TYPE_CHECKING:
    from indexer.models import Product

log = logging.getLogger(__name__)

Outcome = Literal["missing", "skipped", "extracted", "dead_letter"]


def transient_errors() -> tuple[type[BaseException], ...]:
    """Errors worth retrying with backoff: the database, the model server or the network blinked."""
    from sqlalchemy.exc import OperationalError

    return (OperationalError, ExtractorUnavailable, ConnectionError, TimeoutError)


def is_transient(exc: BaseException) -> bool:
    return isinstance(exc, transient_errors())


def poison_reason(product, extraction) -> str | None:
    """A product whose own image files cannot be decoded is 'poisoned': it keeps its partial (text) extraction,
    but the merchant must fix it, so it goes to the dead letters. Remote images (not fetched offline) are not
    poison."""
    unreadable = [note for note in extraction.image_notes if note.issue == "unreadable"
                  and note.image < len(product.images)
                  and not is_url(str(product.images[note.image]))]
    if not unreadable:
        return None
    return "; ".join(f"image {n.image}: {n.detail or 'unreadable'}" for n in unreadable)[:2000]


@dataclass
class BatchResult:
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    extract_seconds: float = 0.0

    @property
    def failed(self) -> int:
        return sum(1 for o in self.outcomes.values() if o == "dead_letter")

    @property
    def done(self) -> int:
        return len(self.outcomes) - self.failed


def extract_batch(catalog, extractor, store: str, product_ids: Sequence[str], *, attempts: int = 1,
                  final_attempt: bool = True, reindex: bool = False,
                  photos: PhotoResolver | None = None, embedder=None) -> BatchResult:
    """Extract the given products where their stored extraction is missing or stale.

    - unchanged content with a valid extraction: skipped (with `reindex`, an upsert is logged so the engines
      re-apply it);
    - a transient error (database, model server) is raised for the caller's retry, unless `final_attempt`;
    - any other error, or a transient one on the final attempt, dead-letters the product (per product: the
      batch is retried one by one to find the culprit) and the rest go on.

    Remote photos of the stale products are fetched first (`photos`: the run's resolver, else one from the
    settings); a photo that could not be fetched is an 'unreadable' note on the extraction, and the next run
    tries it again (see indexer.photos.resolve). `embedder`: the product vectors' (see `embed_products`)."""
    from taxonomy import Taxonomy

    taxonomy_version = Taxonomy.load().version
    result = BatchResult()
    products = catalog.get_products(store, list(product_ids))
    # Products with no extraction of their current content by this extractor version (one query).
    needs_extraction = set(catalog.stale_products(store, extractor.name, extractor.version, taxonomy_version,
                                                  product_ids=list(product_ids)))
    stale = []
    touched = []
    for pid in product_ids:
        product = products.get(pid)
        if product is None:
            result.outcomes[pid] = "missing"
        elif pid not in needs_extraction:
            result.outcomes[pid] = "skipped"
            touched.append(pid)
        else:
            stale.append(product)
    if reindex and touched:
        catalog.log_upserts(store, touched)
    if not stale:
        return result

    if photos is None:
        from indexer.settings import get_settings

        photos = PhotoResolver.from_settings(get_settings())
    # The extractor reads cached files for the URLs (it never goes online); the run's counts are photos.report.
    inputs = dict(zip([p.product_id for p in stale], photos.localize([extraction_input(p) for p in stale]),
                      strict=True))
    embed_products(catalog, stale, embedder)
    started = time.perf_counter()
    retry_later: BaseException | None = None  # a transient failure of some products, raised once the rest are in
    try:
        extractions = extractor.extract([inputs[p.product_id] for p in stale])
        pairs = list(zip(stale, extractions, strict=True))
    except Exception as exc:
        # No server at all: every product would fail alike, so the whole batch waits for the retry.
        if isinstance(exc, ExtractorUnavailable) and not final_attempt:
            raise
        log.warning("batch extraction failed (%s); retrying %d products one by one", exc, len(stale))
        pairs = []
        for product in stale:
            try:
                pairs.append((product, extractor.extract([inputs[product.product_id]])[0]))
            except Exception as one_exc:  # noqa: BLE001 - recorded, the rest go on
                if is_transient(one_exc) and not final_attempt:
                    # A product the model server did not answer in time (or a blink): the others are stored
                    # below, so the retry redoes only what is still stale.
                    retry_later = retry_later or one_exc
                    continue
                catalog.record_dead_letter(store, product.product_id,
                                           f"{type(one_exc).__name__}: {one_exc}"[:2000], attempts)
                result.outcomes[product.product_id] = "dead_letter"
    result.extract_seconds = time.perf_counter() - started
    pairs = [(product, record_failures(extraction, photos.failures(product.images)))
             for product, extraction in pairs]
    catalog.put_extractions(store, [(product.product_id, product.content_hash(), extraction)
                                    for product, extraction in pairs])
    for product, extraction in pairs:
        reason = poison_reason(product, extraction)
        if reason:
            catalog.record_dead_letter(store, product.product_id, reason, attempts)
            result.outcomes[product.product_id] = "dead_letter"
        else:
            result.outcomes[product.product_id] = "extracted"
    if retry_later is not None:
        raise retry_later
    return result


def embed_products(catalog, products: Sequence[Product], embedder=None) -> int:
    """Embed the products' vectors into the store's cache before they are extracted, and before their
    change-log rows are written: the engine owner's sync then only reads vectors, so a big reindex does not
    queue a merchant's edit behind thousands of embeddings (DESIGN.md section 2: workers extract and embed).

    The vector is of merchant data only (`IndexDocument.embedding_text`), so it is known before extraction,
    and the local extractor's category query is that same text: the vectors read from the store's cache
    (a product the sync indexed before it was extracted, one changed back) are handed to the embedder, so
    the extractor reads them too instead of running the model again. Returns how many were computed.
    `embedder`: the shared one by default; `catalog index` passes a `BatchEmbedder`."""
    from extractor.embeddings import get_text_embedder
    from taxonomy import Taxonomy

    if not products:
        return 0
    taxonomy, embedder = Taxonomy.load(), embedder or get_text_embedder()
    texts = [build_document(product, None, taxonomy).embedding_text() for product in products]
    vectors, computed = embed_cached(catalog, embedder, texts)
    embedder.remember(texts, vectors)
    return computed


def delete_one(catalog, store: str, product_id: str) -> bool:
    """Delete a product (logs the delete for the engines) and its dead letter; safe to repeat."""
    gone = catalog.delete_product(store, product_id)
    catalog.clear_dead_letter(store, product_id)
    return gone
