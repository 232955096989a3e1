"""Review-queue decisions: per proposed value of one product version, accepted or rejected."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from indexer.store import schema
from indexer.store.base import StoreBase, chunks
from indexer.store.dialect import insert_or_update
from indexer.store.types import as_utc, utcnow

R = schema.review_decisions
KEY = ["store", "product_id", "attribute", "value", "content_hash"]


@dataclass(frozen=True)
class ReviewDecision:
    store: str
    product_id: str
    attribute: str  # taxonomy attribute handle, or "category"
    value: str  # value handle, or category id
    decision: str  # accept | reject
    content_hash: str
    decided_at: datetime | None = None


class ReviewsMixin(StoreBase):
    def record_review_decisions(self, decisions: list[ReviewDecision]) -> int:
        """Keep decisions in one transaction; deciding the same proposal again keeps the latest decision."""
        now = utcnow()
        rows = [{"store": d.store, "product_id": d.product_id, "attribute": d.attribute, "value": d.value,
                 "decision": d.decision, "content_hash": d.content_hash, "decided_at": now} for d in decisions]
        if not rows:
            return 0
        with self._write() as conn:
            for batch in chunks(rows):
                conn.execute(insert_or_update(conn, R, KEY, ["decision", "decided_at"]), batch)
        return len(rows)

    def review_decisions(self, store: str, product_ids: list[str] | None = None) -> list[ReviewDecision]:
        """The store's decisions (of these products only, when given), oldest first."""
        query = select(R).where(R.c.store == store).order_by(R.c.decided_at, R.c.id)
        with self._read() as conn:
            if product_ids is None:
                rows = list(conn.execute(query))
            else:
                rows = [r for batch in chunks(list(dict.fromkeys(product_ids)))
                        for r in conn.execute(query.where(R.c.product_id.in_(batch)))]
        return [ReviewDecision(store=r.store, product_id=r.product_id, attribute=r.attribute, value=r.value,
                               decision=r.decision, content_hash=r.content_hash, decided_at=as_utc(r.decided_at))
                for r in rows]
