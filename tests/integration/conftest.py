"""Real Redis, real `catalog worker` and `catalog serve` processes, each test in its own CATALOG_HOME.

Redis: REDIS_TEST_URL, else the local server at 127.0.0.1:6379, else a `redis-server` started on a free port.
Missing Redis skips, except under CI=true, where it fails."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.required import service_missing

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Path(sys.executable).with_name("catalog")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ping(url: str) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except Exception:  # noqa: BLE001 - any failure means "not here"
        return False


@pytest.fixture(scope="session")
def redis_base() -> Iterator[str]:
    url = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379")
    if _ping(url):
        yield url.rstrip("/")
        return
    binary = shutil.which("redis-server")
    if binary:
        port = _free_port()
        proc = subprocess.Popen([binary, "--port", str(port), "--save", "", "--appendonly", "no"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        url = f"redis://127.0.0.1:{port}"
        for _ in range(50):
            if _ping(url):
                break
            time.sleep(0.1)
        try:
            yield url
        finally:
            proc.terminate()
            proc.wait(10)
        return
    service_missing("no Redis reachable and no redis-server to start")


class Stack:
    """One CATALOG_HOME + one Redis database + the processes started on them (killed at teardown)."""

    def __init__(self, home: Path, broker: str) -> None:
        self.home, self.broker = home, broker
        self.procs: list[subprocess.Popen] = []
        self.env = {**os.environ, "CATALOG_HOME": str(home), "CELERY_BROKER_URL": broker,
                    "EXTRACTOR_BACKEND": "local", "CELERY_VISIBILITY_TIMEOUT": "8", "JOB_STALE_AFTER": "20",
                    "REINDEX_CHUNK_SIZE": "4", "CATALOG_ADMIN_KEY": "test-admin-key", "PYTHONUNBUFFERED": "1"}
        for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "REDIS_URL"):
            self.env.pop(name, None)

    @property
    def settings(self):
        from indexer.settings import Settings

        return Settings(CATALOG_HOME=self.home, DATABASE_URL=None, CELERY_BROKER_URL=self.broker,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, REDIS_URL=None)

    def catalog(self):
        from indexer.store import CatalogStore

        return CatalogStore.open(self.settings.sqlalchemy_url)

    def start(self, *args: str, name: str) -> subprocess.Popen:
        log = open(self.home / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([str(CATALOG), *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs.append(proc)
        return proc

    def worker(self, name: str = "worker") -> subprocess.Popen:
        return self.start("worker", "--concurrency", "1", name=name)

    def serve(self) -> str:
        port = _free_port()
        self.start("serve", "--port", str(port), name="serve")
        import httpx

        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    return url
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError("catalog serve did not start:\n" + (self.home / "serve.log").read_text()[-3000:])

    def log(self, name: str) -> str:
        path = self.home / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)


@pytest.fixture
def stack(tmp_path, redis_base) -> Iterator[Stack]:
    import redis

    db = 8 + uuid.uuid4().int % 7  # a database of its own on a shared server, flushed before and after
    broker = f"{redis_base}/{db}"
    client = redis.Redis.from_url(broker)
    client.flushdb()
    home = tmp_path / "home"
    home.mkdir()
    result = Stack(home, broker)
    try:
        yield result
    finally:
        result.stop()
        client.flushdb()
