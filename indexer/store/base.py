"""Connection handling shared by the store's parts: read and write transactions, change logging."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, insert, text

from indexer.store import schema
from indexer.store.engine import OUTBOX_LOCK_KEY, WRITE_OPTION
from indexer.store.types import utcnow

CHUNK = 500  # rows per IN (...) list / executemany batch


def chunks(items: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


class StoreBase:
    engine: Engine

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._write_engine = engine.execution_options(**{WRITE_OPTION: True})

    @contextmanager
    def _read(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    @contextmanager
    def _write(self) -> Iterator[Connection]:
        """One write transaction (BEGIN IMMEDIATE on SQLite): everything in it commits or nothing does."""
        with self._write_engine.begin() as conn:
            yield conn

    def _log_changes(self, conn: Connection, changes: Iterable[tuple[str, str, str]]) -> None:
        """Append (store, product_id, op) rows to the outbox inside the caller's transaction.

        Call it last in a transaction: on PostgreSQL it takes a transaction-scoped lock so that change-log
        rows commit in sequence order (a reader never sees seq N+1 before N commits); SQLite writers are
        serialised by BEGIN IMMEDIATE already."""
        now = utcnow()
        rows = [{"store": s, "product_id": p, "op": op, "created_at": now} for s, p, op in changes]
        if not rows:
            return
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": OUTBOX_LOCK_KEY})
        for batch in chunks(rows):
            conn.execute(insert(schema.outbox), batch)
