"""Bulk tasks: a store's reindex as a chain of chunks on the `bulk` queue (see `indexer.reindex`)."""

from __future__ import annotations

from indexer.reindex import begin_reindex, recover_stale_jobs, requeue_silent_chunks, run_chunk, run_inline
from indexer.store.types import ChunkSpec
from indexer.tasks.app import RETRY, app, is_eager
from indexer.tasks.context import get_context
from indexer.tasks.metrics import observe_batch


def _enqueue_chunk(chunk: ChunkSpec) -> None:
    reindex_chunk.apply_async(args=[chunk.model_dump()])


def heartbeat_interval(settings) -> float:
    """Five beats per CHUNK_STALE_AFTER: a chunk is requeued only after several missed beats in a row."""
    return max(0.2, settings.chunk_stale_after_s / 5)


def _job_extractor(ctx, job_id: str):
    """The extractor for the job's store (with its trained heads, as `extract_and_index` uses)."""
    job = ctx.catalog.get_job(job_id)
    return ctx.extractor if job is None else ctx.extractor_for(job.store)


@app.task(bind=True, **RETRY)
def reindex_store(self, job_id: str) -> str | None:
    ctx = get_context()
    if is_eager():  # inline: a loop, not one nested call per chunk
        job = run_inline(ctx.catalog, _job_extractor(ctx, job_id), job_id, chunk_size=ctx.settings.reindex_chunk_size,
                         photos=ctx.photos())
        return None if job is None else job.state
    first = begin_reindex(ctx.catalog, job_id, chunk_size=ctx.settings.reindex_chunk_size)
    if first is not None:
        _enqueue_chunk(first)
    return "running"


@app.task(bind=True, **RETRY)
def reindex_chunk(self, chunk: dict) -> str | None:
    ctx = get_context()
    spec = ChunkSpec.model_validate(chunk)
    job = run_chunk(ctx.catalog, _job_extractor(ctx, spec.job_id), spec, enqueue=_enqueue_chunk,
                    attempts=self.request.retries + 1, final_attempt=self.request.retries >= self.max_retries,
                    on_batch=lambda result: observe_batch(result, "reindex"), photos=ctx.photos(),
                    heartbeat_s=heartbeat_interval(ctx.settings))
    return None if job is None else job.state


@app.task(acks_late=True)
def recover_jobs() -> list[str]:
    """Resume reindex jobs whose worker died (run periodically by every worker)."""
    ctx = get_context()
    return recover_stale_jobs(ctx.catalog, older_than_s=ctx.settings.job_stale_after_s,
                              enqueue_chunk=_enqueue_chunk,
                              enqueue_begin=lambda job_id: reindex_store.apply_async(args=[job_id]))


@app.task(acks_late=True)
def requeue_silent() -> list[str]:
    """Requeue reindex chunks whose worker stopped beating (run every few seconds by every worker)."""
    ctx = get_context()
    sent = requeue_silent_chunks(ctx.catalog, silent_for_s=ctx.settings.chunk_stale_after_s,
                                 max_starts=ctx.settings.chunk_max_starts, enqueue_chunk=_enqueue_chunk)
    return [f"{chunk.job_id}/{chunk.index}" for chunk in sent]
