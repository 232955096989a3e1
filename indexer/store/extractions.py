"""Extractions: derived data keyed by (content hash, extractor, extractor version, taxonomy version)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import and_, exists, select

from extractor.models import Extraction
from indexer.store import schema
from indexer.store.base import StoreBase, chunks
from indexer.store.dialect import insert_or_update
from indexer.store.types import utcnow

E = schema.extractions
P = schema.products


class ExtractionsMixin(StoreBase):
    def put_extraction(self, store: str, product_id: str, content_hash: str, extraction: Extraction) -> bool:
        """Keep an extraction of the product version `content_hash`.

        When that is still the product's current version, an outbox 'upsert' is written in the same
        transaction (the indexes must pick the extraction up); returns whether it was current."""
        return bool(self.put_extractions(store, [(product_id, content_hash, extraction)]))

    def put_extractions(self, store: str, items: Sequence[tuple[str, str, Extraction]]) -> set[str]:
        """`put_extraction` for a batch of (product id, content hash, extraction), in one transaction (a
        transaction a product was 2 ms of a batch index's time); returns the products whose version was
        current."""
        if not items:
            return set()
        now = utcnow()
        rows = [{"content_hash": content_hash, "extractor": extraction.extractor,
                 "extractor_version": extraction.extractor_version,
                 "taxonomy_version": extraction.taxonomy_version, "store": store, "product_id": product_id,
                 "data": extraction.model_dump_json(), "created_at": now}
                for product_id, content_hash, extraction in items]
        keys = ["content_hash", "extractor", "extractor_version", "taxonomy_version"]
        wanted = {product_id: content_hash for product_id, content_hash, _ in items}
        with self._write() as conn:
            conn.execute(insert_or_update(conn, E, keys, ["store", "product_id", "data", "created_at"]), rows)
            current: set[str] = set()
            for ids in chunks(list(wanted)):
                current.update(pid for pid, content_hash in conn.execute(
                    select(P.c.product_id, P.c.content_hash).where(P.c.store == store, P.c.product_id.in_(ids)))
                    if wanted[pid] == content_hash)
            self._log_changes(conn, [(store, pid, "upsert") for pid in wanted if pid in current])
        return current

    @staticmethod
    def _current_of(*columns):
        """Extractions of the products' current content (joined on content hash, store and product)."""
        return (select(*columns)
                .join(P, and_(P.c.content_hash == E.c.content_hash, P.c.store == E.c.store,
                              P.c.product_id == E.c.product_id)))

    def _current(self, store: str, product_id: str):
        return self._current_of(E.c.data).where(P.c.store == store, P.c.product_id == product_id)

    def get_extraction(self, store: str, product_id: str, extractor: str, extractor_version: str,
                       taxonomy_version: str) -> Extraction | None:
        """The extraction of the product's current content by this extractor version, if any."""
        query = self._current(store, product_id).where(
            E.c.extractor == extractor, E.c.extractor_version == extractor_version,
            E.c.taxonomy_version == taxonomy_version)
        with self._read() as conn:
            data = conn.scalar(query)
        return None if data is None else Extraction.model_validate_json(data)

    def latest_extraction(self, store: str, product_id: str) -> Extraction | None:
        """The most recent extraction of the product's current content, by any extractor."""
        query = self._current(store, product_id).order_by(E.c.created_at.desc(), E.c.id.desc()).limit(1)
        with self._read() as conn:
            data = conn.scalar(query)
        return None if data is None else Extraction.model_validate_json(data)

    def latest_extractions(self, store: str, product_ids: list[str]) -> dict[str, Extraction]:
        """`latest_extraction` for many products of one store in one query per chunk of ids; products
        without an extraction of their current content are absent from the result."""
        latest: dict[str, str] = {}
        with self._read() as conn:
            for batch in chunks(list(dict.fromkeys(product_ids))):
                query = (self._current_of(P.c.product_id, E.c.data)
                         .where(P.c.store == store, P.c.product_id.in_(batch))
                         .order_by(E.c.created_at.desc(), E.c.id.desc()))
                for pid, data in conn.execute(query):
                    latest.setdefault(pid, data)  # the first row per product is its most recent
        return {pid: Extraction.model_validate_json(data) for pid, data in latest.items()}

    def stale_products(self, store: str, extractor: str, extractor_version: str, taxonomy_version: str,
                       product_ids: list[str] | None = None) -> list[str]:
        """Product ids of the store with no extraction of their current content by this version, in id
        order; with `product_ids`, only among those (ids of products not in the store are left out)."""
        valid = exists().where(E.c.content_hash == P.c.content_hash, E.c.store == P.c.store,
                               E.c.product_id == P.c.product_id, E.c.extractor == extractor,
                               E.c.extractor_version == extractor_version,
                               E.c.taxonomy_version == taxonomy_version)
        query = select(P.c.product_id).where(P.c.store == store, ~valid).order_by(P.c.product_id)
        with self._read() as conn:
            if product_ids is None:
                return list(conn.scalars(query))
            stale: set[str] = set()
            for batch in chunks(list(dict.fromkeys(product_ids))):
                stale.update(conn.scalars(query.where(P.c.product_id.in_(batch))))
        return sorted(stale)
