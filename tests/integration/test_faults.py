"""Faults, each with real processes (issue 16): a worker killed with SIGKILL (RabbitMQ and Redis), a broker
restarted (a RabbitMQ node and a redis-server of the test's own), PostgreSQL restarted (a cluster of the test's
own), `catalog serve` killed while its index sync applies a batch, a model server that hangs, and a full disk
under the lexical index. Every test ends with the same exactness check: both engines hold exactly the catalog's
products, each once.

Extraction runs on the `openai` backend against the OpenAI-wire stub in the test process (an answer takes
ANSWER_DELAY_S): the recovery is under test, and the CPU extractor would spend most of each test loading its
models on a shared two-core machine. Recovery figures are printed (`pytest -s`)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import pytest
from fault_helpers import (
    ANSWER_DELAY_S,
    HANG_MARKER,
    assert_engines_exact,
    assert_extracted,
    chunk_starts,
    progress,
    running_chunks,
    send_reindex,
    stub_env,
    wait_job,
    wait_ready,
)
from pipeline_helpers import fixture_products, wait_for

from tests.integration.services import PostgresCluster, RabbitNode, RedisServer
from tests.integration.stack import Stack
from tests.required import service_missing
from tests.stubs.openai_stub import OpenAIStub, Reply, default_answer

pytestmark = pytest.mark.integration

N = 64  # products per reindex: 16 chunks of 4


@pytest.fixture
def model_server():
    def answer(request: dict) -> Reply:
        text = str(request.get("messages"))
        # A product that hangs the server: no answer within any client timeout (the thread sleeps it off).
        return Reply(content=default_answer(request), delay=120.0 if HANG_MARKER in text else ANSWER_DELAY_S)

    stub = OpenAIStub()
    stub.responder = answer
    with stub:
        yield stub


@pytest.fixture(scope="module")
def rabbit(tmp_path_factory):
    why = RabbitNode.missing()
    if why:
        service_missing(why)
    node = RabbitNode(tmp_path_factory.mktemp("rabbit")).start()
    try:
        yield node
    finally:
        node.close()


def vhost_url(node: RabbitNode) -> str:
    """A vhost of the test's own on the node (nothing left over from another test reaches its workers)."""
    vhost = f"t{uuid.uuid4().hex[:8]}"
    ctl = str(Path("/usr/lib/rabbitmq/bin/rabbitmqctl"))
    for args in (["add_vhost", vhost], ["set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"]):
        subprocess.run([ctl, "-n", node.name, *args], env=node.env, check=True, capture_output=True, timeout=60)
    return f"amqp://guest:guest@127.0.0.1:{node.port}/{vhost}"


def fill(stack, store: str, n: int = N) -> list:
    products = fixture_products(store, n)
    with stack.catalog() as catalog:
        catalog.upsert_products(products)
    return products


def kill_mid_reindex(stack, store: str) -> dict:
    """Two workers share a reindex; one is killed with SIGKILL mid-way. Returns the recovery figures."""
    fill(stack, store)
    victim, _ = stack.worker("victim"), stack.worker("survivor")
    wait_ready(stack, "victim", "survivor")
    job_id = send_reindex(stack, store)
    wait_for(lambda: progress(stack, job_id) >= 12, 60, "some progress", interval=0.1)
    victim.send_signal(signal.SIGKILL)
    killed_at = time.monotonic()
    victim.wait(10)
    # Running now: the survivor's chunk and the one the victim died in, which is recovered once it begins again.
    held = running_chunks(stack, job_id)
    rerun = wait_for(lambda: [i for i, starts in held.items() if chunk_starts(stack, job_id, i) > starts], 60,
                     "the dead worker's chunk to run again", interval=0.1)
    recovered_s = time.monotonic() - killed_at
    job, _ = wait_job(stack, job_id, 60)
    done_s = time.monotonic() - killed_at
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", N, N, 0), stack.log("survivor")
    assert done_s < 60, f"job finished {done_s:.1f}s after the kill"
    assert_extracted(stack, store)
    assert_engines_exact(stack, store)
    return {"held": held, "rerun": rerun, "recovered_s": round(recovered_s, 1), "done_s": round(done_s, 1)}


def test_rabbitmq_a_killed_workers_chunk_is_requeued_at_once(tmp_path, rabbit, model_server):
    stack = Stack(tmp_path, vhost_url(rabbit), **stub_env(model_server))
    try:
        figures = kill_mid_reindex(stack, "rmq")
    finally:
        stack.stop()
    print(f"\nRabbitMQ, SIGKILL of one of 2 workers: chunk running again after {figures['recovered_s']} s, "
          f"job done {figures['done_s']} s after the kill")
    # The broker requeued the message when the connection dropped: long before the heartbeat sweep (15 s).
    assert figures["recovered_s"] < 10


def test_redis_a_killed_workers_chunk_is_requeued_by_its_silence(stack, model_server):
    stack.env.update(stub_env(model_server))  # CELERY_VISIBILITY_TIMEOUT 600: the sweep, not Redis, recovers
    figures = kill_mid_reindex(stack, "red")
    print(f"\nRedis, SIGKILL of one of 2 workers: chunk running again after {figures['recovered_s']} s "
          f"(CHUNK_STALE_AFTER 15 s), job done {figures['done_s']} s after the kill")
    assert figures["recovered_s"] < 30  # 15 s of silence + a sweep every 5 s + the survivor's current chunk


def restart_mid_reindex(stack, store: str, server, *, down_s: float = 2.0) -> float:
    """A reindex on one worker; `server` is stopped once progress shows, kept down `down_s`, started again."""
    fill(stack, store)
    stack.worker("worker")
    wait_ready(stack, "worker")
    job_id = send_reindex(stack, store)
    wait_for(lambda: progress(stack, job_id) >= 12, 60, "progress", interval=0.1)
    server.stop()
    time.sleep(down_s)
    server.start()
    job, after = wait_job(stack, job_id, 90)  # `after`: seconds from the server accepting connections again
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", N, N, 0), stack.log("worker")
    assert_extracted(stack, store)
    assert_engines_exact(stack, store)
    return after


def test_rabbitmq_restarted_mid_reindex(tmp_path, rabbit, model_server):
    stack = Stack(tmp_path, vhost_url(rabbit), **stub_env(model_server))
    try:
        after = restart_mid_reindex(stack, "rmqr", rabbit)
    finally:
        stack.stop()
    print(f"\nRabbitMQ node restarted mid-reindex: job done {after:.1f} s after the node was back")


def test_redis_restarted_mid_reindex(tmp_path, model_server):
    why = RedisServer.missing()
    if why:
        service_missing(why)
    redis_server = RedisServer(tmp_path / "redis").start()
    home = tmp_path / "home"
    home.mkdir()
    stack = Stack(home, redis_server.url, **stub_env(model_server))
    try:
        after = restart_mid_reindex(stack, "redr", redis_server)
    finally:
        stack.stop()
        redis_server.close()
    print(f"\nRedis restarted mid-reindex: job done {after:.1f} s after it was back")


def test_postgresql_restarted_mid_reindex(tmp_path, redis_base, model_server):
    why = PostgresCluster.missing()
    if why:
        service_missing(why)
    # Its own directory under /tmp: the server may run as the `postgres` user, who cannot enter pytest's.
    import redis

    root = Path(tempfile.mkdtemp(prefix="catalog-pg-"))
    root.chmod(0o755)
    broker = f"{redis_base}/{8 + uuid.uuid4().int % 7}"
    redis.Redis.from_url(broker).flushdb()
    cluster = stack = None
    try:
        cluster = PostgresCluster(root / "pg").start()
        stack = Stack(tmp_path, broker, **stub_env(model_server, DATABASE_URL=cluster.url))
        after = restart_mid_reindex(stack, "pg", cluster, down_s=3.0)
    finally:
        if stack is not None:
            stack.stop()
        if cluster is not None:
            cluster.close()
        redis.Redis.from_url(broker).flushdb()
        shutil.rmtree(root, ignore_errors=True)
    print(f"\nPostgreSQL restarted mid-reindex: job done {after:.1f} s after it was back")


def sync_position(stack) -> tuple[int, int]:
    from indexer.sync import SYNC_NAME

    with stack.catalog() as catalog:
        return catalog.get_sync_position(SYNC_NAME), catalog.max_seq()


def start_serve(stack) -> subprocess.Popen:
    from tests.integration.stack import free_port

    return stack.start("serve", "--port", str(free_port()), name="serve")


def test_serve_killed_while_the_index_sync_applies_a_batch(tmp_path):
    from indexer.engines.lock import EngineOwnerLock

    stack = Stack(tmp_path, None)  # no broker: the serving process owns the engines and syncs them
    try:
        fill(stack, "sync", 1200)  # 1,200 changes: a batch of 1,024, then 176 (indexer.sync.BATCH_SIZE)
        serve = start_serve(stack)
        position = wait_for(lambda: (p := sync_position(stack))[0] > 0 and p, 120, "the first batch applied",
                            interval=0.05)
        serve.send_signal(signal.SIGKILL)
        serve.wait(10)
        at_kill, target = sync_position(stack)
        assert 0 < position[0] <= at_kill < target  # killed mid-way through the change log
        EngineOwnerLock(tmp_path).acquire().release()  # the kernel dropped the dead process's lock
        serve = start_serve(stack)
        wait_for(lambda: sync_position(stack)[0] == target, 120, "the replayed change log", interval=0.2)
        serve.send_signal(signal.SIGKILL)  # once more: what both engines committed must survive it
        serve.wait(10)
        print(f"\nserve killed at sync position {at_kill} of {target}; replayed after the restart")
        assert_engines_exact(stack, "sync")
    finally:
        stack.stop()


def test_a_hanging_model_server_dead_letters_its_product_and_the_others_go_on(stack, model_server):
    stack.env.update(stub_env(model_server, EXTRACTOR_TIMEOUT="0.5"))
    products = fixture_products("hang", 12)
    hung = products[5].model_copy(update={"title": f"{products[5].title} {HANG_MARKER}"})
    products[5] = hung
    with stack.catalog() as catalog:
        catalog.upsert_products(products)
    stack.worker("worker")
    wait_ready(stack, "worker")
    started = time.monotonic()
    job_id = send_reindex(stack, "hang")
    job, waited = wait_job(stack, job_id, 90)
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", 12, 11, 1), stack.log("worker")
    with stack.catalog() as catalog:
        [letter] = catalog.dead_letters("hang")
    assert letter.product_id == hung.product_id
    assert "timed out after 0.5 s" in letter.error and letter.attempts == 4  # the first try and 3 retries
    hung_calls = sum(HANG_MARKER in str(r.get("messages")) for r in model_server.chat_requests)
    # Each attempt: the batch call, then the product alone, each 3 timed-out requests (the client's retries).
    assert 12 <= hung_calls <= 24
    print(f"\nhanging model server: job done in {time.monotonic() - started:.1f} s, {hung_calls} requests "
          f"for the hung product, dead-lettered after {letter.attempts} attempts")
    assert_extracted(stack, "hang", expect_failed=1)
    assert_engines_exact(stack, "hang")


@pytest.fixture
def small_disk(tmp_path):
    """A 16 MiB tmpfs mounted where the lexical index lives (CATALOG_HOME/index/tantivy)."""
    if shutil.which("mount") is None or os.geteuid() != 0:
        service_missing("mounting a small tmpfs for the full-disk test needs root")
    mount_point = tmp_path / "index" / "tantivy"
    mount_point.mkdir(parents=True)
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        service_missing(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


def fill_disk(path: Path) -> Path:
    filler = path / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError:
        pass
    try:
        while True:
            os.write(fd, b"\0" * 512)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def test_a_full_disk_under_the_lexical_index_is_a_clear_error_and_the_next_sync_succeeds(tmp_path, small_disk):
    stack = Stack(tmp_path, None)
    try:
        fill(stack, "disk", 150)
        url = stack.serve()
        wait_for(lambda: (p := sync_position(stack))[0] == p[1], 120, "the first sync", interval=0.2)
        headers = {"Authorization": f"Bearer {stack.env['CATALOG_ADMIN_KEY']}"}

        def total() -> int:
            response = httpx.get(f"{url}/v1/stores/disk/search", params={"q": ""}, headers=headers, timeout=30)
            assert response.status_code == 200, response.text
            return response.json()["total"]

        before = total()
        filler = fill_disk(small_disk)
        more = [p.model_copy(update={"product_id": f"{p.product_id}-more"}) for p in fixture_products("disk", 400)]
        with stack.catalog() as catalog:
            catalog.upsert_products(more)
        wait_for(lambda: "no space left" in stack.log("serve"), 60, "the sync's error in the serve log")
        position, target = sync_position(stack)
        assert position < target  # nothing recorded as applied
        assert total() == before  # the index kept its last commit and still answers
        filler.unlink()
        wait_for(lambda: sync_position(stack)[0] == target, 60, "the sync once space is back", interval=0.2)
        assert total() == 550
        stack.stop()  # SIGKILL: the kernel releases the engine lock for the check below
        assert_engines_exact(stack, "disk")
    finally:
        stack.stop()
