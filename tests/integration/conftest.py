"""Real Redis, real `catalog worker` and `catalog serve` processes, each test in its own CATALOG_HOME.

Redis: REDIS_TEST_URL, else the local server at 127.0.0.1:6379, else a `redis-server` started on a free port.
Missing Redis skips, except under CI=true, where it fails."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator

import pytest

from tests.integration.stack import Stack, free_port
from tests.required import service_missing


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
        port = free_port()
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
