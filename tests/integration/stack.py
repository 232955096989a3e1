"""A test's stack of real processes: one CATALOG_HOME, one broker, and the `catalog worker` / `catalog serve`
processes started on them (killed at teardown). Shared by the pipeline and the fault tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CATALOG = Path(sys.executable).with_name("catalog")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]



class Stack:
    """One CATALOG_HOME + one Redis database + the processes started on them (killed at teardown)."""

    def __init__(self, home: Path, broker: str | None, **env: str) -> None:
        self.home, self.broker = home, broker
        self.procs: list[subprocess.Popen] = []
        self.env = {**os.environ, "CATALOG_HOME": str(home), "CELERY_BROKER_URL": broker or "",
                    "EXTRACTOR_BACKEND": "local", "CELERY_VISIBILITY_TIMEOUT": "8", "JOB_STALE_AFTER": "20",
                    "REINDEX_CHUNK_SIZE": "4", "CATALOG_ADMIN_KEY": "test-admin-key", "PYTHONUNBUFFERED": "1"}
        for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "REDIS_URL"):
            self.env.pop(name, None)
        self.env.update(env)  # a test's own: DATABASE_URL, EXTRACTOR_BACKEND, recovery timings

    @property
    def settings(self):
        from indexer.settings import Settings

        return Settings(CATALOG_HOME=self.home, DATABASE_URL=self.env.get("DATABASE_URL"),
                        CELERY_BROKER_URL=self.broker, ELASTICSEARCH_URL=None, QDRANT_URL=None, REDIS_URL=None)

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
        port = free_port()
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
