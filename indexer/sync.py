"""Apply the store's change log to both engines, in order, idempotently (DESIGN.md section 2).

The position is recorded only after both engines took a batch, so a crash anywhere replays the
batch; replaying is safe because engine writes are upserts/deletes keyed by (store, product_id).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from indexer.conversions import build_document
from indexer.documents import IndexDocument
from indexer.embedding_cache import embed_cached
from indexer.models import Product

log = logging.getLogger(__name__)

SYNC_NAME = "engines"
# Changes applied per batch. Each batch reaches the text index before its vectors are computed (`_write`), so a
# burst of up to this many changes is found by its words about a second after it lands; the next batch waits for
# this one's vectors.
BATCH_SIZE = 1024
# Changes past a batch that reach the text index before the batch's embedding starts (see `_write`).
LEXICAL_LEAD = 4096


@dataclass
class SyncReport:
    applied: int = 0  # change-log rows consumed
    upserted: int = 0
    deleted: int = 0
    embedded: int = 0  # vectors computed (not served from the cache)
    position: int = 0


class IndexSync:
    def __init__(self, catalog, engines, taxonomy, embedder, *, batch_size: int = BATCH_SIZE,
                 between_engines: Callable[[], None] | None = None) -> None:
        self.catalog = catalog
        self.lexical = engines.lexical
        self.vector = engines.vector
        self.taxonomy = taxonomy
        self.embedder = embedder
        self.batch_size = batch_size
        # Test hook: runs after the lexical write and before the embedding and vector write of each batch.
        self._between_engines = between_engines
        self._listeners: list[Callable[[list[IndexDocument], list[tuple[str, str]]], None]] = []
        # The changes (low, high] that the text index already has, ahead of their batches (see `_write`): in
        # memory only, so a restart writes its first batch to the text index again, which is safe.
        self._text_has = (0, 0)

    def add_listener(self, listener: Callable[[list[IndexDocument], list[tuple[str, str]]], None]) -> None:
        """Called after the lexical engine took a batch (before its vectors): the serving process keeps its
        display cache as the text index has it."""
        self._listeners.append(listener)

    def pending(self) -> int:
        return max(0, self.catalog.max_seq() - self.catalog.get_sync_position(SYNC_NAME))

    def run_once(self) -> SyncReport:
        """Apply one batch of changes; an empty report means the engines are up to date. An index the engine
        dropped on open (another schema version) is rebuilt first: the log position says it had everything."""
        if self.lexical.recreated:
            report = self.rebuild()
            self.lexical.recreated = False
            return report
        report = SyncReport(position=self.catalog.get_sync_position(SYNC_NAME))
        changes = self.catalog.changes_after(report.position, self.batch_size)
        if not changes:
            return report
        docs, deletes = self._documents(changes)
        report.embedded = self._write(docs, deletes, first=changes[0].seq, after=changes[-1].seq)
        report.applied = len(changes)
        report.upserted = len(docs)
        report.deleted = len(deletes)
        report.position = changes[-1].seq
        self.catalog.set_sync_position(SYNC_NAME, report.position)
        return report

    def _documents(self, changes) -> tuple[list[IndexDocument], list[tuple[str, str]]]:
        """The documents to upsert and the (store, product) pairs to delete that these changes come to."""
        # Only the last change per product matters within a batch; order across products doesn't.
        last: dict[tuple[str, str], str] = {}
        for change in changes:
            last[(change.store, change.product_id)] = change.op
        upserts = [key for key, op in last.items() if op == "upsert"]
        deletes = [key for key, op in last.items() if op == "delete"]

        ids_by_store: dict[str, list[str]] = {}
        for store, product_id in upserts:
            ids_by_store.setdefault(store, []).append(product_id)
        found = {(store, pid): product for store, ids in ids_by_store.items()
                 for pid, product in self.catalog.get_products(store, ids).items()}
        docs = self.build_many([found[key] for key in upserts if key in found])
        # Not found: deleted after this change was logged; its delete follows in the log.
        deletes.extend(key for key in upserts if key not in found)
        return docs, deletes

    def run_until_idle(self, progress: Callable[[int], None] | None = None) -> SyncReport:
        total = SyncReport(position=self.catalog.get_sync_position(SYNC_NAME))
        while True:
            report = self.run_once()
            if report.applied == 0:
                return total
            total.applied += report.applied
            total.upserted += report.upserted
            total.deleted += report.deleted
            total.embedded += report.embedded
            total.position = report.position
            if progress:
                progress(report.applied)

    def rebuild(self, stores: Iterable[str] | None = None) -> SyncReport:
        """Rebuild both indexes from the store alone: no extraction, embeddings from the cache."""
        report = SyncReport()
        # Take the position first: changes logged during the rebuild are replayed after it.
        position = self.catalog.max_seq()
        self._text_has = (0, 0)
        self.lexical.clear()
        self.vector.clear()
        for store in (stores if stores is not None else self.catalog.stores()):
            batch: list[Product] = []
            for product in self.catalog.iter_products(store):
                batch.append(product)
                if len(batch) >= self.batch_size:
                    report.embedded += self._write(self.build_many(batch), [])
                    report.upserted += len(batch)
                    batch = []
            if batch:
                report.embedded += self._write(self.build_many(batch), [])
                report.upserted += len(batch)
        self.catalog.set_sync_position(SYNC_NAME, position)
        report.position = position
        return report

    def document(self, store: str, product_id: str) -> IndexDocument | None:
        product = self.catalog.get_product(store, product_id)
        return None if product is None else self.build(product)

    def build(self, product) -> IndexDocument:
        extraction = self.catalog.latest_extraction(product.store, product.product_id)
        return build_document(product, extraction, self.taxonomy)

    def build_many(self, products: list[Product]) -> list[IndexDocument]:
        """`build` for many products, in their order: one extraction query per store (and chunk of ids)."""
        ids_by_store: dict[str, list[str]] = {}
        for product in products:
            ids_by_store.setdefault(product.store, []).append(product.product_id)
        extractions = {(store, pid): extraction for store, ids in ids_by_store.items()
                       for pid, extraction in self.catalog.latest_extractions(store, ids).items()}
        return [build_document(p, extractions.get((p.store, p.product_id)), self.taxonomy) for p in products]

    def _write(self, docs: list[IndexDocument], deletes: list[tuple[str, str]], first: int | None = None,
               after: int | None = None) -> int:
        """The lexical engine first, then the vectors: a change is found by its words as soon as the text index
        commits, while its vector is computed (1,000 changed products: MiniLM takes 10-20 s on two cores; the
        text index, a second). Until then a changed product keeps its old vector, and a new one has none (the
        search lists every product under its filters, so it still shows: SearchService._with_every_filtered).

        `first`, `after`: the batch's first and last change. The changes already logged past it (a burst still
        being written when the batch was read) go to the text index too before the embedding starts, up to
        LEXICAL_LEAD past the batch; their own batch then writes only their vectors, and only that moves the
        position. A product changed again since has a later change in the log, which a later write takes. So a
        backlog (an import, a batch index) reaches the text index once, not once per batch it was ahead of."""
        if first is None or after is None:  # a rebuild: no log to read ahead in
            self._lexical(docs, deletes)
        else:
            low, high = self._text_has
            if not (low < first and after <= high):
                self._lexical(docs, deletes)
                low, high = first - 1, after
            # The lead is topped up by about a batch for each batch it was ahead of.
            ahead = self.catalog.changes_after(high, LEXICAL_LEAD if high == after else self.batch_size)
            if ahead:
                self._lexical(*self._documents(ahead))
                high = ahead[-1].seq
            self._text_has = (low, high)
        if self._between_engines:
            self._between_engines()
        vectors, computed = embed_cached(self.catalog, self.embedder, [d.embedding_text() for d in docs])
        if docs:
            self.vector.upsert(docs, vectors)
        for store, ids in _by_store(deletes).items():
            self.vector.delete(store, ids)
        self.vector.commit()
        return computed

    def _lexical(self, docs: list[IndexDocument], deletes: list[tuple[str, str]]) -> None:
        if docs:
            self.lexical.upsert(docs)
        for store, ids in _by_store(deletes).items():
            self.lexical.delete(store, ids)
        self.lexical.commit()
        # The display documents follow the text index: a result found by its new words shows them.
        for listener in self._listeners:
            listener(docs, deletes)


def _by_store(pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for store, product_id in pairs:
        out.setdefault(store, []).append(product_id)
    return out
