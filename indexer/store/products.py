"""Merchant products: batch upsert by content hash, reads, deletes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

from sqlalchemy import Connection, bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from indexer.models import Product
from indexer.store import schema
from indexer.store.base import StoreBase, chunks
from indexer.store.dialect import insert_ignore
from indexer.store.types import UpsertSummary, utcnow

P = schema.products


class ProductsMixin(StoreBase):
    def stores(self) -> list[str]:
        with self._read() as conn:
            return list(conn.scalars(select(schema.stores.c.name).order_by(schema.stores.c.name)))

    def store_exists(self, store: str) -> bool:
        with self._read() as conn:
            found = conn.scalar(select(schema.stores.c.name).where(schema.stores.c.name == store))
        return found is not None

    def ensure_store(self, store: str) -> None:
        with self._write() as conn:
            self._ensure_store(conn, store)

    def _ensure_store(self, conn: Connection, store: str) -> None:
        Product.model_validate({"store": store, "product_id": "x"})  # the store-name rule lives there
        conn.execute(insert_ignore(conn, schema.stores, ["name"]), {"name": store, "created_at": utcnow()})

    def upsert_products(self, products: list[Product], batch_size: int = 500) -> UpsertSummary:
        """Insert new products, update changed ones; an unchanged content hash writes nothing at all.

        Each batch is one transaction holding the product rows and their outbox rows."""
        latest: dict[tuple[str, str], Product] = {}
        for product in products:  # the last of duplicates wins
            latest.pop((product.store, product.product_id), None)
            latest[(product.store, product.product_id)] = product
        summary = UpsertSummary()
        by_store: dict[str, list[Product]] = {}
        for product in latest.values():
            by_store.setdefault(product.store, []).append(product)
        for store, items in by_store.items():
            for batch in chunks(items, batch_size):
                for attempt in range(3):  # a concurrent writer inserted one of ours first: re-read, retry
                    try:
                        with self._write() as conn:
                            self._ensure_store(conn, store)
                            part = self._upsert_batch(conn, store, batch)
                        break
                    except IntegrityError:
                        if attempt == 2:
                            raise
                summary.inserted += part.inserted
                summary.updated += part.updated
                summary.unchanged += part.unchanged
                summary.changed.extend(part.changed)
        return summary

    def _upsert_batch(self, conn: Connection, store: str, batch: list[Product]) -> UpsertSummary:
        ids = [p.product_id for p in batch]
        existing = dict(conn.execute(select(P.c.product_id, P.c.content_hash)
                                     .where(P.c.store == store, P.c.product_id.in_(ids))).all())
        now = utcnow()
        new_rows, changed_rows, touched = [], [], []
        for product in batch:
            digest = product.content_hash()
            old = existing.get(product.product_id)
            if old == digest:
                continue
            row = {"store": store, "product_id": product.product_id, "title": product.title,
                   "price": product.price, "data": product.model_dump_json(), "content_hash": digest,
                   "updated_at": now}
            if old is None:
                new_rows.append({**row, "created_at": now})
            else:
                changed_rows.append({**row, "b_store": store, "b_product_id": product.product_id})
            touched.append(product)
        if new_rows:
            conn.execute(insert(P), new_rows)
        if changed_rows:
            stmt = (update(P).where(P.c.store == bindparam("b_store"), P.c.product_id == bindparam("b_product_id"))
                    .values(title=bindparam("title"), price=bindparam("price"), data=bindparam("data"),
                            content_hash=bindparam("content_hash"), updated_at=bindparam("updated_at")))
            conn.execute(stmt, [{k: v for k, v in r.items() if k not in ("store", "product_id")}
                                for r in changed_rows])
            changed_ids = [r["product_id"] for r in changed_rows]
            for table in (schema.variants, schema.images):
                conn.execute(delete(table).where(table.c.store == store, table.c.product_id.in_(changed_ids)))
        self._insert_children(conn, touched)
        self._log_changes(conn, [(store, p.product_id, "upsert") for p in touched])
        return UpsertSummary(inserted=len(new_rows), updated=len(changed_rows),
                             unchanged=len(batch) - len(touched),
                             changed=[(store, p.product_id) for p in touched])

    @staticmethod
    def _insert_children(conn: Connection, products: list[Product]) -> None:
        variant_rows = [{"store": p.store, "product_id": p.product_id, "position": i, "sku": v.sku,
                         "options": json.dumps(v.options, sort_keys=True), "price": v.price, "image": v.image}
                        for p in products for i, v in enumerate(p.variants)]
        image_rows = [{"store": p.store, "product_id": p.product_id, "position": i, "uri": uri}
                      for p in products for i, uri in enumerate(p.images)]
        for table, rows in ((schema.variants, variant_rows), (schema.images, image_rows)):
            for batch in chunks(rows, 1000):
                conn.execute(insert(table), batch)

    def delete_product(self, store: str, product_id: str) -> bool:
        """Hard-delete one product (its variants and images too) and log a 'delete'."""
        with self._write() as conn:
            for table in (schema.variants, schema.images):
                conn.execute(delete(table).where(table.c.store == store, table.c.product_id == product_id))
            gone = conn.execute(delete(P).where(P.c.store == store, P.c.product_id == product_id)).rowcount
            if gone:
                self._log_changes(conn, [(store, product_id, "delete")])
        return bool(gone)

    def get_product(self, store: str, product_id: str) -> Product | None:
        with self._read() as conn:
            data = conn.scalar(select(P.c.data).where(P.c.store == store, P.c.product_id == product_id))
        return None if data is None else Product.model_validate_json(data)

    def get_products(self, store: str, product_ids: list[str]) -> dict[str, Product]:
        found: dict[str, Product] = {}
        with self._read() as conn:
            for batch in chunks(list(product_ids)):
                for pid, data in conn.execute(select(P.c.product_id, P.c.data)
                                              .where(P.c.store == store, P.c.product_id.in_(batch))):
                    found[pid] = Product.model_validate_json(data)
        return found

    def content_hash(self, store: str, product_id: str) -> str | None:
        with self._read() as conn:
            return conn.scalar(select(P.c.content_hash).where(P.c.store == store, P.c.product_id == product_id))

    def iter_products(self, store: str, batch_size: int = 500) -> Iterator[Product]:
        """All products of one store ordered by product_id; one short query per batch (keyset paging)."""
        after: str | None = None
        while True:
            query = select(P.c.product_id, P.c.data).where(P.c.store == store)
            if after is not None:
                query = query.where(P.c.product_id > after)
            with self._read() as conn:
                rows = conn.execute(query.order_by(P.c.product_id).limit(batch_size)).all()
            for _, data in rows:
                yield Product.model_validate_json(data)
            if len(rows) < batch_size:
                return
            after = rows[-1][0]

    def count_products(self, store: str, created_before: datetime | None = None) -> int:
        query = select(func.count()).select_from(P).where(P.c.store == store)
        if created_before is not None:
            query = query.where(P.c.created_at <= created_before)
        with self._read() as conn:
            return conn.scalar(query) or 0

    def product_ids_page(self, store: str, *, after: str | None, limit: int,
                         created_before: datetime | None = None) -> list[str]:
        """Product ids in id order after `after` (keyset paging), optionally only those created by a time."""
        query = select(P.c.product_id).where(P.c.store == store)
        if after is not None:
            query = query.where(P.c.product_id > after)
        if created_before is not None:
            query = query.where(P.c.created_at <= created_before)
        with self._read() as conn:
            return list(conn.scalars(query.order_by(P.c.product_id).limit(limit)))

    def log_upserts(self, store: str, product_ids: list[str]) -> None:
        """Append 'upsert' changes for existing products, so the engines re-apply them (a reindex)."""
        if not product_ids:
            return
        with self._write() as conn:
            present = []
            for batch in chunks(list(product_ids)):
                present.extend(conn.scalars(select(P.c.product_id)
                                            .where(P.c.store == store, P.c.product_id.in_(batch))))
            self._log_changes(conn, [(store, pid, "upsert") for pid in sorted(present)])

    def product_ids(self, store: str) -> list[str]:
        with self._read() as conn:
            return list(conn.scalars(select(P.c.product_id).where(P.c.store == store).order_by(P.c.product_id)))
