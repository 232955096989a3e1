"""Reindex jobs and realtime extraction as plain functions over a real SQLite catalog store."""

from __future__ import annotations

from collections import deque
from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import OperationalError

from extractor.models import Extraction, ImageNote
from indexer.models import Product
from indexer.realtime import extract_batch
from indexer.reindex import (
    begin_reindex,
    recover_stale_jobs,
    requeue_silent_chunks,
    run_chunk,
    run_inline,
    start_reindex,
)
from indexer.store import CatalogStore, schema
from indexer.store.types import utcnow
from taxonomy import Taxonomy


class FakeExtractor:
    name = "fake"
    version = "1"

    def __init__(self, fail: set[str] | None = None, transient: set[str] | None = None,
                 unreadable: set[str] | None = None) -> None:
        self.fail, self.transient, self.unreadable = fail or set(), transient or set(), unreadable or set()
        self.calls: list[str] = []
        self.taxonomy_version = Taxonomy.load().version

    def extract(self, products):
        for p in products:
            if p.product_id in self.transient:
                raise OperationalError("SELECT 1", {}, Exception("database went away"))
            if p.product_id in self.fail:
                raise RuntimeError(f"model crashed on {p.product_id}")
        self.calls.extend(p.product_id for p in products)
        return [Extraction(extractor=self.name, extractor_version=self.version,
                           taxonomy_version=self.taxonomy_version,
                           image_notes=[ImageNote(image=0, issue="unreadable", detail="truncated")]
                           if p.product_id in self.unreadable else [])
                for p in products]


@pytest.fixture
def catalog(tmp_path):
    store = CatalogStore.open(f"sqlite:///{tmp_path / 'c.db'}")
    yield store
    store.close()


def add(catalog, store: str, n: int, images: list[str] | None = None) -> list[str]:
    ids = [f"p{i:04d}" for i in range(n)]
    catalog.upsert_products([Product(store=store, product_id=pid, title=f"thing {pid}", images=images or [])
                             for pid in ids])
    return ids


def test_reindex_extracts_everything_once_and_a_rerun_only_reapplies(catalog):
    ids = add(catalog, "a", 23)
    extractor = FakeExtractor()
    job, created = start_reindex(catalog, "a")
    assert created and job.state == "queued"
    job = run_inline(catalog, extractor, job.id, chunk_size=5)
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", 23, 23, 0)
    assert job.started_at and job.finished_at
    assert sorted(extractor.calls) == ids
    assert catalog.stale_products("a", "fake", "1", extractor.taxonomy_version) == []

    seq = catalog.max_seq()
    again, created = start_reindex(catalog, "a")
    assert created and again.id != job.id
    again = run_inline(catalog, extractor, again.id, chunk_size=5)
    assert (again.state, again.done) == ("succeeded", 23)
    assert len(extractor.calls) == 23  # unchanged content: no extraction
    assert catalog.max_seq() - seq == 23  # but every product is re-applied to the engines


def test_one_reindex_per_store_at_a_time(catalog):
    add(catalog, "a", 3)
    add(catalog, "b", 3)
    first, created = start_reindex(catalog, "a")
    second, created_again = start_reindex(catalog, "a")
    other, other_created = start_reindex(catalog, "b")
    assert created and not created_again and second.id == first.id
    assert other_created and other.id != first.id


def test_empty_store_succeeds_at_once(catalog):
    catalog.ensure_store("empty")
    job, _ = start_reindex(catalog, "empty")
    assert run_inline(catalog, FakeExtractor(), job.id, chunk_size=5).state == "succeeded"


def test_a_small_store_is_not_starved_by_a_big_one(catalog):
    add(catalog, "big", 200)
    add(catalog, "small", 6)
    extractor = FakeExtractor()
    queue: deque = deque()  # one FIFO queue, like `bulk`
    big, _ = start_reindex(catalog, "big")
    small, _ = start_reindex(catalog, "small")
    for job in (big, small):  # the big store asked first
        queue.append(begin_reindex(catalog, job.id, chunk_size=5))
    executed = 0
    while queue:
        chunk = queue.popleft()
        run_chunk(catalog, extractor, chunk, enqueue=queue.append)
        executed += 1
        waiting = [c.job_id for c in queue]
        assert waiting.count(big.id) <= 1  # a store never has more than one chunk waiting
        if catalog.get_job(small.id).state == "succeeded":
            break
    assert executed <= 4  # 2 chunks of the small store, interleaved with the big one's
    assert catalog.get_job(big.id).state == "running"


def test_a_redelivered_chunk_is_counted_once(catalog):
    add(catalog, "a", 10)
    extractor = FakeExtractor()
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)
    queued: list = []
    run_chunk(catalog, extractor, first, enqueue=queued.append)
    run_chunk(catalog, extractor, first, enqueue=queued.append)  # the message came back after a crash
    assert len(queued) == 1  # the next chunk was enqueued once
    while queued:
        run_chunk(catalog, extractor, queued.pop(0), enqueue=queued.append)
    job = catalog.get_job(job.id)
    assert (job.state, job.done, job.total) == ("succeeded", 10, 10)


def test_failing_products_go_to_dead_letters_and_the_rest_index(catalog):
    add(catalog, "a", 8, images=["/nonexistent.jpg"])
    extractor = FakeExtractor(fail={"p0003"}, unreadable={"p0005"})
    job, _ = start_reindex(catalog, "a")
    job = run_inline(catalog, extractor, job.id, chunk_size=3)
    assert (job.state, job.done, job.failed) == ("succeeded", 6, 2)
    letters = {d.product_id: d for d in catalog.dead_letters("a")}
    assert set(letters) == {"p0003", "p0005"}
    assert "model crashed" in letters["p0003"].error and "truncated" in letters["p0005"].error
    # The poisoned product keeps its partial extraction; the crashing one has none and stays stale.
    assert catalog.stale_products("a", "fake", "1", extractor.taxonomy_version) == ["p0003"]


def test_transient_errors_raise_for_a_retry_then_dead_letter_on_the_last_attempt(catalog):
    add(catalog, "a", 3)
    extractor = FakeExtractor(transient={"p0001"})
    with pytest.raises(OperationalError):
        extract_batch(catalog, extractor, "a", ["p0000", "p0001", "p0002"], attempts=1, final_attempt=False)
    assert catalog.dead_letters("a") == []
    # The others went on: stored before the error was raised, so the retry redoes only the failing one.
    assert catalog.stale_products("a", "fake", "1", extractor.taxonomy_version) == ["p0001"]
    result = extract_batch(catalog, extractor, "a", ["p0000", "p0001", "p0002"], attempts=4, final_attempt=True)
    assert result.outcomes == {"p0000": "skipped", "p0001": "dead_letter", "p0002": "skipped"}
    assert catalog.dead_letters("a")[0].attempts == 4


def test_a_server_that_is_not_there_fails_the_whole_batch_at_once(catalog):
    from extractor.base import ExtractorUnavailable

    class NoServer(FakeExtractor):
        def extract(self, products):
            self.calls.extend(p.product_id for p in products)
            raise ExtractorUnavailable("cannot connect")

    add(catalog, "a", 3)
    extractor = NoServer()
    with pytest.raises(ExtractorUnavailable):
        extract_batch(catalog, extractor, "a", ["p0000", "p0001", "p0002"], final_attempt=False)
    assert len(extractor.calls) == 3  # one batch call, no product-by-product retries against a dead server


def _silence(catalog, job_id: str, index: int, seconds: float) -> None:
    with catalog._write() as conn:
        conn.execute(update(schema.job_chunks)
                     .where(schema.job_chunks.c.job_id == job_id, schema.job_chunks.c.idx == index)
                     .values(heartbeat_at=utcnow() - timedelta(seconds=seconds)))


class DiesMidChunk(FakeExtractor):
    """The worker process dies while extracting (SIGKILL: nothing after this line runs)."""

    def extract(self, products):
        raise SystemExit("killed")


def test_a_chunk_whose_worker_stopped_beating_is_requeued_once_and_finishes(catalog):
    add(catalog, "a", 10)
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)
    queue: list = []
    with pytest.raises(SystemExit):
        run_chunk(catalog, DiesMidChunk(), first, enqueue=queue.append)
    assert [c.index for c in queue] == [1]  # the next chunk was handed on before the work
    sent: list = []
    # Still beating (its last beat is fresh): never requeued, whatever the broker does.
    assert requeue_silent_chunks(catalog, silent_for_s=15, max_starts=8, enqueue_chunk=sent.append) == []
    _silence(catalog, job.id, 0, 20)
    assert requeue_silent_chunks(catalog, silent_for_s=15, max_starts=8, enqueue_chunk=sent.append) == [first]
    # A second sweeper (another worker) finds nothing left to do.
    assert requeue_silent_chunks(catalog, silent_for_s=15, max_starts=8, enqueue_chunk=sent.append) == []
    assert sent == [first]
    assert catalog.chunk_state(job.id, 0) == ("queued", 1)
    extractor = FakeExtractor()
    pending = deque([*queue, *sent])
    while pending:
        run_chunk(catalog, extractor, pending.popleft(), enqueue=pending.append)
    # The dead worker's own message comes back at last (Redis, after its visibility timeout): nothing to do.
    run_chunk(catalog, extractor, first, enqueue=queue.append)
    job = catalog.get_job(job.id)
    assert (job.state, job.done, job.total) == ("succeeded", 10, 10)
    assert sorted(extractor.calls) == [f"p{i:04d}" for i in range(10)]  # each product extracted once


def test_a_live_chunk_keeps_beating_and_is_not_requeued(catalog):
    import time

    add(catalog, "a", 3)
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)
    swept: list = []

    class Slow(FakeExtractor):
        def extract(self, products):
            time.sleep(1.0)  # five beats at 0.2 s
            swept.extend(requeue_silent_chunks(catalog, silent_for_s=0.6, max_starts=8, enqueue_chunk=swept.append))
            return super().extract(products)

    run_chunk(catalog, Slow(), first, enqueue=list().append, heartbeat_s=0.2)
    assert swept == []
    assert catalog.get_job(job.id).state == "succeeded"


def test_a_chunk_begun_too_often_fails_its_job(catalog):
    add(catalog, "a", 3)
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)
    sent: list = []
    for _ in range(3):
        with pytest.raises(SystemExit):
            run_chunk(catalog, DiesMidChunk(), first, enqueue=sent.append)
        _silence(catalog, job.id, 0, 20)
        requeue_silent_chunks(catalog, silent_for_s=15, max_starts=3, enqueue_chunk=sent.append)
    assert len(sent) == 2  # requeued after the first and second deaths, not after the third
    job = catalog.get_job(job.id)
    assert job.state == "failed" and "begun 3 times" in job.error


def test_a_next_chunk_that_could_not_be_sent_is_claimed_again_by_the_retry(catalog):
    add(catalog, "a", 10)
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)

    def broker_down(chunk):
        raise ConnectionError("broker restarting")

    with pytest.raises(ConnectionError):
        run_chunk(catalog, FakeExtractor(), first, enqueue=broker_down)
    assert catalog.chunk_state(job.id, 1) is None
    queue: list = []
    run_chunk(catalog, FakeExtractor(), first, enqueue=queue.append)  # the task's retry
    assert [c.index for c in queue] == [1]
    while queue:
        run_chunk(catalog, FakeExtractor(), queue.pop(), enqueue=queue.append)
    assert catalog.get_job(job.id).state == "succeeded"


def test_realtime_extraction_skips_unchanged_content(catalog):
    add(catalog, "a", 1)
    extractor = FakeExtractor()
    assert extract_batch(catalog, extractor, "a", ["p0000"]).outcomes == {"p0000": "extracted"}
    assert extract_batch(catalog, extractor, "a", ["p0000"]).outcomes == {"p0000": "skipped"}
    catalog.upsert_products([Product(store="a", product_id="p0000", title="changed")])
    assert extract_batch(catalog, extractor, "a", ["p0000"]).outcomes == {"p0000": "extracted"}
    assert extract_batch(catalog, extractor, "a", ["gone"]).outcomes == {"gone": "missing"}


def test_a_job_whose_worker_died_is_resumed(catalog):
    add(catalog, "a", 10)
    job, _ = start_reindex(catalog, "a")
    first = begin_reindex(catalog, job.id, chunk_size=5)  # claimed, then the worker died holding it
    resumed: list = []
    assert recover_stale_jobs(catalog, older_than_s=60, enqueue_chunk=resumed.append,
                              enqueue_begin=resumed.append) == []
    with catalog._write() as conn:
        conn.execute(update(schema.jobs).where(schema.jobs.c.id == job.id)
                     .values(heartbeat_at=utcnow() - timedelta(seconds=120)))
    assert recover_stale_jobs(catalog, older_than_s=60, enqueue_chunk=resumed.append,
                              enqueue_begin=resumed.append) == [job.id]
    assert resumed == [first]
    queue = deque(resumed)
    while queue:
        run_chunk(catalog, FakeExtractor(), queue.popleft(), enqueue=queue.append)
    assert catalog.get_job(job.id).state == "succeeded"
