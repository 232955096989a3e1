"""Per-store reindex jobs as chains of chunks: plain functions, called by the Celery tasks and eager mode.

- One reindex per store at a time: a second request gets the job already queued or running.
- A job walks its store's products in id order, `size` at a time (keyset paging over the products that
  existed when the job was created). Each chunk claims (in the store, exactly once) and enqueues the next
  one *before* it works, so several workers can share a store's reindex, yet a store never has more than
  one chunk waiting in the queue: stores' chunks interleave round-robin in the `bulk` queue, and a store
  with 100,000 products cannot starve one with 50.
- A chunk's counts are added to the job exactly once (`finish_chunk`), so a redelivered chunk (its worker
  died) redoes its work idempotently without double counting.
- A running chunk beats (`beating`) every few seconds. A chunk whose beats stopped lost its worker: any
  worker's sweep (`requeue_silent_chunks`) puts it back in the queue within seconds, without waiting for the
  broker to give the dead worker's message back (Redis does only after its visibility timeout). A chunk
  that is still beating is never requeued.
- `recover_stale_jobs` re-enqueues the unfinished chunks of a job that made no progress for a while (a lost
  message: nothing runs it and nothing beats).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

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
              photos: PhotoResolver | None = None, heartbeat_s: float | None = None) -> Job | None:
    """Claim and enqueue the next chunk, extract this chunk's stale products, count it once. `heartbeat_s`: beat
    that often while extracting (workers; the sweep requeues a chunk whose beats stop)."""
    job = catalog.get_job(chunk.job_id)
    if job is None or job.state in ("succeeded", "failed"):
        return job
    runs = catalog.start_chunk(job.id, chunk.index)
    if not runs:  # done already: this is a redelivered or requeued copy of its message
        return job
    catalog.heartbeat(job.id)
    ids = catalog.product_ids_page(job.store, after=chunk.after, limit=chunk.size, created_before=_snapshot(job))
    if len(ids) == chunk.size:
        following = ChunkSpec(job_id=job.id, index=chunk.index + 1, after=ids[-1], seen=chunk.seen + len(ids),
                              size=chunk.size)
        _hand_on(catalog, following, enqueue, rerun=runs > 1)
    else:  # the last chunk: now the exact number of products this job enumerated is known
        catalog.update_job(job.id, total=chunk.seen + len(ids))
    with beating(catalog, chunk, heartbeat_s):
        result = extract_batch(catalog, extractor, job.store, ids, attempts=attempts, final_attempt=final_attempt,
                               reindex=True, photos=photos)
    if on_batch:
        on_batch(result)
    job, _ = catalog.finish_chunk(job.id, chunk.index, done=result.done, failed=result.failed)
    return _maybe_finish(catalog, job)


def _hand_on(catalog, following: ChunkSpec, enqueue: Callable[[ChunkSpec], None], *, rerun: bool) -> None:
    """Claim the next chunk and send it. A claim whose message could not be sent is undone, so this chunk's
    retry claims it again. On a rerun (this chunk's worker died) the next chunk may have been claimed and never
    sent (the worker died in between): one that never started is sent again; at worst a copy of a message that
    is still waiting, which finds the chunk done and does nothing."""
    if catalog.claim_chunk(following):
        try:
            enqueue(following)
        except Exception:
            catalog.unclaim_chunk(following)
            raise
    elif rerun and catalog.chunk_state(following.job_id, following.index) == ("queued", 0):
        enqueue(following)


@contextmanager
def beating(catalog, chunk: ChunkSpec, every_s: float | None) -> Iterator[None]:
    """Beat for the chunk every `every_s` seconds from a thread while the block runs (extraction releases the
    GIL in its models, so the beats keep time under load). A beat that fails (the database blinked) is
    skipped: the next one tries again, and only a silence of several beats lets the sweep requeue the chunk."""
    if not every_s:
        yield
        return
    stop = threading.Event()

    def beat() -> None:
        while not stop.wait(every_s):
            try:
                catalog.chunk_heartbeat(chunk.job_id, chunk.index)
            except Exception as exc:  # noqa: BLE001 - logged; the next beat tries again
                log.warning("chunk %s/%d: heartbeat failed (%s)", chunk.job_id, chunk.index, exc)

    thread = threading.Thread(target=beat, name=f"chunk-beat-{chunk.index}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=every_s)


def requeue_silent_chunks(catalog, *, silent_for_s: float, max_starts: int,
                          enqueue_chunk: Callable[[ChunkSpec], None]) -> list[ChunkSpec]:
    """Send again the running chunks whose worker stopped beating `silent_for_s` ago (it died, or its task
    failed for good); each by exactly one sweeper. A chunk begun `max_starts` times fails its job instead: it
    kills its workers or keeps failing, and requeueing it forever would hide that. Returns the chunks sent."""
    sent = []
    for chunk, starts in catalog.silent_chunks(silent_for_s):
        if starts >= max_starts:
            catalog.update_job(chunk.job_id, state="failed",
                               error=f"chunk {chunk.index} (products after {chunk.after!r}) was begun {starts} "
                                     "times and never finished; see the workers' logs")
            log.error("reindex job %s failed: chunk %d begun %d times", chunk.job_id, chunk.index, starts)
            continue
        if not catalog.requeue_chunk(chunk.job_id, chunk.index, silent_for_s):
            continue  # another sweeper took it, or it beat again just now
        try:
            enqueue_chunk(chunk)
        except Exception:
            catalog.requeue_chunk(chunk.job_id, chunk.index, silent_for_s, undo=True)
            raise
        log.warning("requeued chunk %d of job %s: its worker stopped beating", chunk.index, chunk.job_id)
        sent.append(chunk)
    return sent


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
