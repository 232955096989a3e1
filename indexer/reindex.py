"""Per-store reindex jobs as chains of chunks: plain functions, called by the Celery tasks and eager mode.

- One reindex per store at a time: a second request gets the job already queued or running.
- A job walks its store's products in id order, `size` at a time (keyset paging over the products that
  existed when the job was created). Each chunk claims (in the store, exactly once) and enqueues the next
  one *before* it works, so several workers can share a store's reindex, yet a store never has more than
  one chunk waiting in the queue: stores' chunks interleave round-robin in the `bulk` queue, and a store
  with 100,000 products cannot starve one with 50.
- A chunk's counts are added to the job exactly once (`finish_chunk`), so a redelivered chunk (its worker
  died) redoes its work idempotently without double counting.
- `recover_stale_jobs` re-enqueues the unfinished chunks of a job that made no progress for a while.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from indexer.photos.resolve import PhotoResolver
from indexer.realtime import BatchResult, extract_batch
from indexer.store.types import ChunkSpec, Job

log = logging.getLogger(__name__)

KIND = "reindex"


def start_reindex(catalog, store: str) -> tuple[Job, bool]:
    """The store's queued or running reindex, else a new queued one; `created` says which."""
    running = catalog.running_job(KIND, store)
    if running is not None:
        return running, False
    job = catalog.create_job(KIND, store)
    # Two requests racing past the check above each created a job: the oldest wins, the others step aside.
    winner = catalog.running_job(KIND, store, oldest=True)
    if winner is not None and winner.id != job.id:
        catalog.update_job(job.id, state="failed", error=f"superseded by job {winner.id}")
        return winner, False
    return job, True


def begin_reindex(catalog, job_id: str, *, chunk_size: int) -> ChunkSpec | None:
    """Mark the job running, estimate its total, and return its first chunk when this call claimed it."""
    job = catalog.get_job(job_id)
    if job is None or job.state in ("succeeded", "failed"):
        return None
    if job.state == "queued":
        total = catalog.count_products(job.store, created_before=_snapshot(job))
        job = catalog.update_job(job_id, state="running", total=total)
        if total == 0:
            catalog.update_job(job_id, state="succeeded")
            return None
    first = ChunkSpec(job_id=job_id, index=0, after=None, seen=0, size=chunk_size)
    return first if catalog.claim_chunk(first) else None


def run_chunk(catalog, extractor, chunk: ChunkSpec, *, enqueue: Callable[[ChunkSpec], None],
              attempts: int = 1, final_attempt: bool = True,
              on_batch: Callable[[BatchResult], None] | None = None,
              photos: PhotoResolver | None = None) -> Job | None:
    """Claim and enqueue the next chunk, extract this chunk's stale products, count it once."""
    job = catalog.get_job(chunk.job_id)
    if job is None or job.state in ("succeeded", "failed"):
        return job
    catalog.heartbeat(job.id)
    ids = catalog.product_ids_page(job.store, after=chunk.after, limit=chunk.size, created_before=_snapshot(job))
    if len(ids) == chunk.size:
        following = ChunkSpec(job_id=job.id, index=chunk.index + 1, after=ids[-1], seen=chunk.seen + len(ids),
                              size=chunk.size)
        if catalog.claim_chunk(following):
            enqueue(following)
    else:  # the last chunk: now the exact number of products this job enumerated is known
        catalog.update_job(job.id, total=chunk.seen + len(ids))
    result = extract_batch(catalog, extractor, job.store, ids, attempts=attempts, final_attempt=final_attempt,
                           reindex=True, photos=photos)
    if on_batch:
        on_batch(result)
    job, _ = catalog.finish_chunk(job.id, chunk.index, done=result.done, failed=result.failed)
    return _maybe_finish(catalog, job)


def _maybe_finish(catalog, job: Job | None) -> Job | None:
    if job is None or job.state != "running" or catalog.open_chunks(job.id):
        return job
    if job.done + job.failed >= job.total:
        return catalog.update_job(job.id, state="succeeded")
    return job


def run_inline(catalog, extractor, job_id: str, *, chunk_size: int,
               photos: PhotoResolver | None = None) -> Job | None:
    """The whole job in this process, chunk after chunk (eager mode, the CLI), with one photo resolver."""
    pending: list[ChunkSpec] = []
    first = begin_reindex(catalog, job_id, chunk_size=chunk_size)
    if first is not None:
        pending.append(first)
    while pending:
        run_chunk(catalog, extractor, pending.pop(0), enqueue=pending.append, photos=photos)
    return catalog.get_job(job_id)


def recover_stale_jobs(catalog, *, older_than_s: float, enqueue_chunk: Callable[[ChunkSpec], None],
                       enqueue_begin: Callable[[str], None]) -> list[str]:
    """Resume jobs whose worker died: re-enqueue their unfinished chunks (redoing one is harmless), or the
    job itself when it never started. Returns the ids of the jobs touched."""
    touched = []
    for job in catalog.stale_running_jobs(older_than_s):
        if job.kind != KIND:
            continue
        open_chunks = catalog.open_chunks(job.id)
        if not open_chunks:
            finished = _maybe_finish(catalog, job)
            if finished is not None and finished.state == "running":  # died before claiming its first chunk
                catalog.heartbeat(job.id)
                enqueue_begin(job.id)
        else:
            catalog.heartbeat(job.id)
            for chunk in open_chunks:
                enqueue_chunk(chunk)
        log.warning("resumed stale reindex job %s (%d open chunks)", job.id, len(open_chunks))
        touched.append(job.id)
    for job in catalog.stale_queued_jobs(older_than_s):
        if job.kind == KIND:
            catalog.heartbeat(job.id)
            enqueue_begin(job.id)
            touched.append(job.id)
    return touched


def _snapshot(job: Job):
    """The job's creation time as stored (naive UTC): products created later are not part of it."""
    return job.created_at.replace(tzinfo=None)
