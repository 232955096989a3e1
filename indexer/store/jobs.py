"""Jobs with progress counters (atomic increments) and dead letters of products that kept failing."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import Row, case, func, insert, select, update

from indexer.store import schema
from indexer.store.base import StoreBase
from indexer.store.dialect import insert_ignore, insert_or_update
from indexer.store.types import ChunkSpec, DeadLetter, Job, JobState, as_utc, utcnow

J = schema.jobs
D = schema.dead_letters
C = schema.job_chunks
TERMINAL = ("succeeded", "failed")


def _job(row: Row) -> Job:
    values = dict(row._mapping)
    for name in ("created_at", "started_at", "finished_at", "heartbeat_at"):
        values[name] = as_utc(values[name])
    return Job(**values)


class JobsMixin(StoreBase):
    def create_job(self, kind: str, store: str | None, total: int = 0) -> Job:
        job_id = str(uuid.uuid4())
        with self._write() as conn:
            conn.execute(insert(J), {"id": job_id, "kind": kind, "store": store, "state": "queued",
                                     "total": total, "done": 0, "failed": 0, "created_at": utcnow()})
        job = self.get_job(job_id)
        assert job is not None
        return job

    def get_job(self, job_id: str) -> Job | None:
        with self._read() as conn:
            row = conn.execute(select(J).where(J.c.id == job_id)).first()
        return None if row is None else _job(row)

    def running_job(self, kind: str, store: str | None, *, oldest: bool = False) -> Job | None:
        """The newest (with `oldest`, the oldest; ties by id) queued or running job of this kind for this
        store, if any."""
        query = select(J).where(J.c.kind == kind, J.c.state.in_(("queued", "running")))
        query = query.where(J.c.store.is_(None) if store is None else J.c.store == store)
        order = (J.c.created_at.asc(), J.c.id.asc()) if oldest else (J.c.created_at.desc(),)
        with self._read() as conn:
            row = conn.execute(query.order_by(*order).limit(1)).first()
        return None if row is None else _job(row)

    def update_job(self, job_id: str, *, done_delta: int = 0, failed_delta: int = 0,
                   state: JobState | None = None, total: int | None = None,
                   error: str | None = None) -> Job | None:
        """Atomic in the database (`done = done + n`), so concurrent workers never lose counts."""
        now = utcnow()
        values: dict = {"done": J.c.done + done_delta, "failed": J.c.failed + failed_delta, "heartbeat_at": now}
        if total is not None:
            values["total"] = total
        if error is not None:
            values["error"] = error
        if state is not None:
            values["state"] = state
            if state == "running":
                values["started_at"] = func.coalesce(J.c.started_at, now)
                values["finished_at"] = None
            elif state in TERMINAL:
                values["started_at"] = func.coalesce(J.c.started_at, now)
                values["finished_at"] = now
        with self._write() as conn:
            conn.execute(update(J).where(J.c.id == job_id).values(**values))
        return self.get_job(job_id)

    def heartbeat(self, job_id: str) -> None:
        with self._write() as conn:
            conn.execute(update(J).where(J.c.id == job_id).values(heartbeat_at=utcnow()))

    def stale_running_jobs(self, older_than_s: float) -> list[Job]:
        """Running jobs whose last sign of life (heartbeat, else start) is older than `older_than_s`."""
        return self._stale_jobs("running", J.c.started_at, older_than_s)

    def stale_queued_jobs(self, older_than_s: float) -> list[Job]:
        """Jobs still `queued` (never started) with no sign of life for `older_than_s`: their message was lost."""
        return self._stale_jobs("queued", J.c.created_at, older_than_s)

    def _stale_jobs(self, state: str, born: Any, older_than_s: float) -> list[Job]:
        cutoff = utcnow() - timedelta(seconds=older_than_s)
        last_seen = case((J.c.heartbeat_at.is_not(None), J.c.heartbeat_at), else_=born)
        query = select(J).where(J.c.state == state, last_seen < cutoff).order_by(J.c.created_at)
        with self._read() as conn:
            return [_job(r) for r in conn.execute(query)]

    def claim_chunk(self, spec: ChunkSpec) -> bool:
        """Record a chunk of a job; True for the one caller that created it (and so must enqueue it)."""
        with self._write() as conn:
            result = conn.execute(insert_ignore(conn, C, ["job_id", "idx"]),
                                  {"job_id": spec.job_id, "idx": spec.index, "after": spec.after, "seen": spec.seen,
                                   "size": spec.size, "state": "queued", "done": 0, "failed": 0,
                                   "created_at": utcnow(), "starts": 0})
        return bool(result.rowcount)

    def finish_chunk(self, job_id: str, index: int, *, done: int, failed: int) -> tuple[Job | None, bool]:
        """Mark a chunk done and add its counts to the job, once: a redelivered chunk adds nothing.

        Returns the job and whether this call was the one that counted."""
        with self._write() as conn:
            counted = conn.execute(update(C).where(C.c.job_id == job_id, C.c.idx == index, C.c.state != "done")
                                   .values(state="done", done=done, failed=failed)).rowcount
            if counted:
                conn.execute(update(J).where(J.c.id == job_id).values(
                    done=J.c.done + done, failed=J.c.failed + failed, heartbeat_at=utcnow()))
        return self.get_job(job_id), bool(counted)

    def start_chunk(self, job_id: str, index: int) -> int:
        """A run of the chunk begins (its first beat): how many runs it has had, this one included; 0 when the
        chunk is done (a redelivered or requeued copy: nothing to do)."""
        where = (C.c.job_id == job_id, C.c.idx == index)
        with self._write() as conn:
            begun = conn.execute(update(C).where(*where, C.c.state != "done")
                                 .values(state="running", heartbeat_at=utcnow(), starts=C.c.starts + 1)).rowcount
            return int(conn.scalar(select(C.c.starts).where(*where))) if begun else 0

    def chunk_heartbeat(self, job_id: str, index: int) -> None:
        """The chunk's worker is alive (and so is its job)."""
        now = utcnow()
        with self._write() as conn:
            conn.execute(update(C).where(C.c.job_id == job_id, C.c.idx == index, C.c.state == "running")
                         .values(heartbeat_at=now))
            conn.execute(update(J).where(J.c.id == job_id, J.c.state == "running").values(heartbeat_at=now))

    def chunk_state(self, job_id: str, index: int) -> tuple[str, int] | None:
        """(state, starts) of a claimed chunk, None when it was never claimed."""
        with self._read() as conn:
            row = conn.execute(select(C.c.state, C.c.starts).where(C.c.job_id == job_id, C.c.idx == index)).first()
        return None if row is None else (row.state, row.starts)

    def unclaim_chunk(self, spec: ChunkSpec) -> None:
        """Undo a claim whose message could not be sent (the broker was away), so the retry claims it again."""
        with self._write() as conn:
            conn.execute(C.delete().where(C.c.job_id == spec.job_id, C.c.idx == spec.index, C.c.state == "queued",
                                          C.c.starts == 0))

    def silent_chunks(self, silent_for_s: float) -> list[tuple[ChunkSpec, int]]:
        """Running chunks of running jobs whose worker has not beaten for `silent_for_s`, with their run counts."""
        cutoff = utcnow() - timedelta(seconds=silent_for_s)
        query = (select(C).join(J, J.c.id == C.c.job_id)
                 .where(J.c.state == "running", C.c.state == "running", C.c.heartbeat_at < cutoff)
                 .order_by(C.c.job_id, C.c.idx))
        with self._read() as conn:
            return [(ChunkSpec(job_id=r.job_id, index=r.idx, after=r.after, seen=r.seen, size=r.size), r.starts)
                    for r in conn.execute(query)]

    def requeue_chunk(self, job_id: str, index: int, silent_for_s: float, *, undo: bool = False) -> bool:
        """Put a silent running chunk back to `queued`: True for the one caller that did (it sends the message).
        `undo`: the message could not be sent; the chunk is running-and-silent again, for the next sweep."""
        where = [C.c.job_id == job_id, C.c.idx == index]
        if undo:
            where.append(C.c.state == "queued")
            values: dict = {"state": "running"}
        else:
            where += [C.c.state == "running", C.c.heartbeat_at < utcnow() - timedelta(seconds=silent_for_s)]
            values = {"state": "queued", "heartbeat_at": utcnow()}
        with self._write() as conn:
            return bool(conn.execute(update(C).where(*where).values(**values)).rowcount)

    def open_chunks(self, job_id: str) -> list[ChunkSpec]:
        """Chunks of the job that were claimed but not finished, in order."""
        query = select(C).where(C.c.job_id == job_id, C.c.state != "done").order_by(C.c.idx)
        with self._read() as conn:
            return [ChunkSpec(job_id=r.job_id, index=r.idx, after=r.after, seen=r.seen, size=r.size)
                    for r in conn.execute(query)]

    def record_dead_letter(self, store: str, product_id: str, error: str, attempts: int) -> None:
        with self._write() as conn:
            conn.execute(insert_or_update(conn, D, ["store", "product_id"], ["error", "attempts", "last_at"]),
                         {"store": store, "product_id": product_id, "error": error, "attempts": attempts,
                          "last_at": utcnow()})

    def dead_letters(self, store: str) -> list[DeadLetter]:
        query = select(D).where(D.c.store == store).order_by(D.c.last_at.desc(), D.c.product_id)
        with self._read() as conn:
            return [DeadLetter(**{**r._mapping, "last_at": as_utc(r.last_at)}) for r in conn.execute(query)]

    def clear_dead_letter(self, store: str, product_id: str) -> bool:
        with self._write() as conn:
            return bool(conn.execute(D.delete().where(D.c.store == store, D.c.product_id == product_id)).rowcount)
