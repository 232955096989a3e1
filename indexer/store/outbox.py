"""The ordered change log (outbox) and the positions of its consumers."""

from __future__ import annotations

from sqlalchemy import func, select

from indexer.store import schema
from indexer.store.base import StoreBase
from indexer.store.dialect import insert_or_update
from indexer.store.types import Change, utcnow

O = schema.outbox  # noqa: E741
S = schema.sync_state


class OutboxMixin(StoreBase):
    def changes_after(self, seq: int, limit: int = 1000) -> list[Change]:
        query = (select(O.c.seq, O.c.store, O.c.product_id, O.c.op).where(O.c.seq > seq)
                 .order_by(O.c.seq).limit(limit))
        with self._read() as conn:
            return [Change(seq=r.seq, store=r.store, product_id=r.product_id, op=r.op)
                    for r in conn.execute(query)]

    def max_seq(self) -> int:
        with self._read() as conn:
            return int(conn.scalar(select(func.coalesce(func.max(O.c.seq), 0))) or 0)

    def product_change_seq(self, store: str, product_id: str) -> int | None:
        """The sequence number of the product's latest change-log row, if it has any."""
        query = select(func.max(O.c.seq)).where(O.c.store == store, O.c.product_id == product_id)
        with self._read() as conn:
            seq = conn.scalar(query)
        return None if seq is None else int(seq)

    def get_sync_position(self, name: str) -> int:
        with self._read() as conn:
            return int(conn.scalar(select(S.c.seq).where(S.c.name == name)) or 0)

    def set_sync_position(self, name: str, seq: int) -> None:
        with self._write() as conn:
            conn.execute(insert_or_update(conn, S, ["name"], ["seq", "updated_at"]),
                         {"name": name, "seq": int(seq), "updated_at": utcnow()})
