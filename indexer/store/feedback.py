"""Merchant feedback: per suggested value, whether the merchant accepted, edited or rejected it."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, model_validator
from sqlalchemy import func, insert, select

from indexer.store import schema
from indexer.store.base import StoreBase, chunks
from indexer.store.types import as_utc, utcnow

F = schema.merchant_feedback
CATEGORY = "category"  # the attribute name of a decision on the suggested category
FeedbackDecision = Literal["accepted", "edited", "rejected"]


class FeedbackItem(BaseModel):
    """One decision on one suggested value: an attribute value handle ("color__black") or, for
    attribute "category", a taxonomy category id. Accepted keeps the value, edited names the merchant's
    value, rejected has none."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    attribute: str
    suggested_value: str
    final_value: str | None = None
    decision: FeedbackDecision

    @model_validator(mode="after")
    def _consistent(self) -> FeedbackItem:
        if self.decision == "accepted" and self.final_value not in (None, self.suggested_value):
            raise ValueError("an accepted value keeps the suggested value (final_value is the suggested one)")
        if self.decision == "edited" and (self.final_value is None or self.final_value == self.suggested_value):
            raise ValueError("an edited value needs a final_value other than the suggested one")
        if self.decision == "rejected" and self.final_value is not None:
            raise ValueError("a rejected value has no final_value")
        return self

    @property
    def final(self) -> str | None:
        """The value the merchant kept: the suggested one when accepted."""
        return self.suggested_value if self.decision == "accepted" else self.final_value


class FeedbackRecord(FeedbackItem):
    id: int
    submission_id: str
    store: str
    product_id: str | None
    extractor: str
    extractor_version: str
    created_at: datetime


class FeedbackMixin(StoreBase):
    def record_feedback(self, store: str, items: Sequence[FeedbackItem], *, product_id: str | None,
                        extractor: str, extractor_version: str) -> str:
        """Keep one submission's decisions, all or none; returns its submission id."""
        submission = uuid.uuid4().hex
        now = utcnow()
        rows = [{"submission_id": submission, "store": store, "product_id": product_id, "attribute": item.attribute,
                 "suggested_value": item.suggested_value, "final_value": item.final,
                 "decision": item.decision, "extractor": extractor, "extractor_version": extractor_version,
                 "created_at": now} for item in items]
        with self._write() as conn:
            for batch in chunks(rows):
                conn.execute(insert(F), batch)
        return submission

    def feedback(self, store: str, product_id: str | None = None) -> list[FeedbackRecord]:
        """The store's decisions (of one product, with `product_id`), oldest first."""
        query = select(F).where(F.c.store == store)
        if product_id is not None:
            query = query.where(F.c.product_id == product_id)
        with self._read() as conn:
            return [FeedbackRecord(**{**row._mapping, "created_at": as_utc(row.created_at)})
                    for row in conn.execute(query.order_by(F.c.id))]

    def feedback_counts(self, store: str, extractor_version: str | None = None) -> dict[str, dict[str, int]]:
        """attribute -> decision -> count, over the store's decisions (of one extractor version, if given)."""
        query = (select(F.c.attribute, F.c.decision, func.count()).where(F.c.store == store)
                 .group_by(F.c.attribute, F.c.decision))
        if extractor_version is not None:
            query = query.where(F.c.extractor_version == extractor_version)
        counts: dict[str, dict[str, int]] = {}
        with self._read() as conn:
            for attribute, decision, count in conn.execute(query):
                counts.setdefault(attribute, {})[decision] = int(count)
        return counts

    def confirmed_values(self, store: str) -> dict[str, dict[str, list[str]]]:
        """product id -> attribute (or "category") -> the values the merchant kept (accepted or edited to) in
        their latest submission that decided on that attribute; listings never saved are left out."""
        return self._latest_decided(store, F.c.final_value, ("accepted", "edited"), with_category=True)

    def rejected_values(self, store: str) -> dict[str, dict[str, list[str]]]:
        """product id -> attribute -> the suggested values the merchant turned down (rejected, or edited to
        another value) in their latest submission that decided on that attribute: negative labels. Listings
        never saved are left out, and so is the category."""
        return self._latest_decided(store, F.c.suggested_value, ("rejected", "edited"), with_category=False)

    def _latest_decided(self, store: str, value, decisions: tuple[str, ...],
                        with_category: bool) -> dict[str, dict[str, list[str]]]:
        """product id -> attribute -> `value` of the decisions in `decisions` of the latest submission that
        decided on that attribute of that product, in decision order, each value once."""
        scope = [F.c.store == store, F.c.product_id.is_not(None)]
        if not with_category:
            scope.append(F.c.attribute != CATEGORY)
        latest = (select(F.c.product_id, F.c.attribute, func.max(F.c.id).label("last"))
                  .where(*scope).group_by(F.c.product_id, F.c.attribute).subquery())
        last_submission = (select(latest.c.product_id, latest.c.attribute, F.c.submission_id)
                           .join(F, F.c.id == latest.c.last).subquery())
        query = (select(F.c.product_id, F.c.attribute, value)
                 .join(last_submission, (last_submission.c.product_id == F.c.product_id)
                       & (last_submission.c.attribute == F.c.attribute)
                       & (last_submission.c.submission_id == F.c.submission_id))
                 .where(F.c.store == store, F.c.decision.in_(decisions))
                 .order_by(F.c.id))
        out: dict[str, dict[str, list[str]]] = {}
        with self._read() as conn:
            for product_id, attribute, found in conn.execute(query):
                values = out.setdefault(product_id, {}).setdefault(attribute, [])
                if found not in values:
                    values.append(found)
        return out
