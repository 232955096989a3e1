"""Helpers of the fault tests: a reindex sent to real workers, progress read through outages, and the exactness
check every fault test ends with (both engines hold exactly the catalog's products, once)."""

from __future__ import annotations

import time

from celery import Celery

from indexer.reindex import start_reindex

# The model server (tests/stubs/openai_stub.py in the test process) answers each call after this long, so a
# chunk of 4 products takes a measurable fraction of a second and a kill lands inside one.
ANSWER_DELAY_S = 0.1
HANG_MARKER = "HANGS-THE-MODEL-SERVER"


def stub_env(stub, **extra: str) -> dict[str, str]:
    """Worker settings for extraction by the openai backend against `stub`, with the recovery defaults."""
    return {"EXTRACTOR_BACKEND": "openai", "EXTRACTOR_URL": stub.url, "EXTRACTOR_MODEL": stub.model,
            "REINDEX_CHUNK_SIZE": "4", "JOB_STALE_AFTER": "300", "CELERY_VISIBILITY_TIMEOUT": "600",
            "WORKER_THREADS": "1", **extra}


def send_reindex(stack, store: str) -> str:
    with stack.catalog() as catalog:
        job, created = start_reindex(catalog, store)
    assert created
    client = Celery(broker=stack.broker)
    client.send_task("indexer.tasks.reindex.reindex_store", args=[job.id], queue="bulk")
    client.close()
    return job.id


_readers: dict[str, object] = {}


def reader(stack):
    """One catalog store per stack for polling progress, opened without the migration step (opening a store
    migrates under a write lock; ten polls a second would queue the workers' writes behind it)."""
    from indexer.store import CatalogStore

    url = stack.settings.sqlalchemy_url
    if url not in _readers:
        _readers[url] = CatalogStore.open(url, migrate_schema=False)
    return _readers[url]


def read_job(stack, job_id: str):
    """The job, or None while the catalog store cannot be read (a database restart)."""
    try:
        return reader(stack).get_job(job_id)
    except Exception:  # noqa: BLE001 - the outage under test
        return None


def running_chunks(stack, job_id: str) -> dict[int, int]:
    """index -> runs begun, of the job's chunks running now."""
    from sqlalchemy import select

    from indexer.store import schema

    chunks = schema.job_chunks
    with reader(stack).engine.connect() as conn:
        rows = conn.execute(select(chunks.c.idx, chunks.c.starts)
                            .where(chunks.c.job_id == job_id, chunks.c.state == "running"))
        return {row.idx: row.starts for row in rows}


def chunk_starts(stack, job_id: str, index: int) -> int:
    state = reader(stack).chunk_state(job_id, index)
    return 0 if state is None else state[1]


def wait_job(stack, job_id: str, timeout: float):
    """Wait for the job to end; returns (job, seconds waited)."""
    started = time.monotonic()
    deadline = started + timeout
    while time.monotonic() < deadline:
        job = read_job(stack, job_id)
        if job is not None and job.state in ("succeeded", "failed"):
            return job, time.monotonic() - started
        time.sleep(0.2)
    job = read_job(stack, job_id)
    raise AssertionError(f"job not finished after {timeout:.0f}s: {job}\n--- worker logs ---\n"
                         + "\n".join(stack.log(name) for name in ("victim", "worker", "survivor")))


def wait_ready(stack, *names: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    for name in names:
        while "ready." not in stack.log(name):
            assert time.monotonic() < deadline, f"worker {name} not ready:\n{stack.log(name)}"
            time.sleep(0.2)


def progress(stack, job_id: str) -> int:
    job = read_job(stack, job_id)
    return 0 if job is None else job.done


def assert_extracted(stack, store: str, *, expect_failed: int = 0) -> None:
    """Every product of the store has its current extraction, but the `expect_failed` dead letters."""
    with stack.catalog() as catalog:
        letters = {d.product_id for d in catalog.dead_letters(store)}
        assert len(letters) == expect_failed, letters
        missing = [pid for pid in set(catalog.product_ids(store)) - letters
                   if catalog.latest_extraction(store, pid) is None]
    assert missing == [], f"{len(missing)} products never extracted"


def assert_engines_exact(stack, store: str) -> None:
    """Once the change log is applied, both engines hold exactly the catalog's product ids, each once (the count
    equals the size of the id set). Opens the engines: no `serve` may run on this CATALOG_HOME now."""
    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    with stack.catalog() as catalog:
        expected = set(catalog.product_ids(store))
        with open_engines(stack.settings) as engines:
            IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder()).run_until_idle()
            assert engines.lexical.ids(store) == expected and engines.vector.ids(store) == expected
            assert engines.lexical.count(store) == len(expected) == engines.vector.count(store)
