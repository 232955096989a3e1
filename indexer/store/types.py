"""Return types of the catalog store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

JobState = Literal["queued", "running", "succeeded", "failed"]
ChangeOp = Literal["upsert", "delete"]


def utcnow() -> datetime:
    """Naive UTC, as stored in the database (SQLite keeps no zone)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_utc(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


class UpsertSummary(BaseModel):
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    # (store, product_id) of every inserted or updated product, in input order.
    changed: list[tuple[str, str]] = Field(default_factory=list)


class Change(BaseModel):
    model_config = ConfigDict(frozen=True)

    seq: int
    store: str
    product_id: str
    op: ChangeOp


class Job(BaseModel):
    id: str
    kind: str
    store: str | None
    state: JobState
    total: int = 0
    done: int = 0
    failed: int = 0
    created_at: datetime
    started_at: datetime | None = None
    finished_at: datetime | None = None
    heartbeat_at: datetime | None = None
    error: str | None = None


class ChunkSpec(BaseModel):
    """One chunk of a reindex job: up to `size` product ids after `after` (keyset), `seen` enumerated before."""

    job_id: str
    index: int
    after: str | None = None
    seen: int = 0
    size: int


class DeadLetter(BaseModel):
    store: str
    product_id: str
    error: str
    attempts: int
    last_at: datetime
