"""Queued pipeline benchmark: reindex throughput with 1 and 2 `catalog worker` processes (local extractor,
fixture catalog replicated to --products), and realtime upsert-to-searchable latency through `catalog serve`.

Needs Redis (--redis, default redis://127.0.0.1:6379/13; the database is flushed). Each of the N worker
processes gets `WORKER_THREADS` = cores // N (extraction and torch threads), so 2 workers on 2 cores do not
oversubscribe. Prints a table and writes benchmarks/results/pipeline.json.

    .venv/bin/python benchmarks/bench_pipeline.py --products 5000 --upserts 20
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import redis
from celery import Celery

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path(sys.executable).with_name("catalog")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from common import BENCH_RATE, free_port  # noqa: E402


def products(store: str, n: int) -> list:
    from indexer.importers import fixture_path, read_products

    base = list(read_products(store, fixture_path()))
    return [base[i % len(base)].model_copy(update={"product_id": f"{base[i % len(base)].product_id}-r{i}"})
            for i in range(n)]


class Run:
    def __init__(self, broker: str, extra_env: dict | None = None) -> None:
        from indexer.settings import Settings

        self.tmp = tempfile.TemporaryDirectory(prefix="bench-pipeline-")
        self.home = Path(self.tmp.name)
        redis.Redis.from_url(broker).flushdb()
        self.broker = broker
        self.env = {**os.environ, "CATALOG_HOME": str(self.home), "CELERY_BROKER_URL": broker,
                    "EXTRACTOR_BACKEND": "local", **(extra_env or {})}
        for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "REDIS_URL"):
            self.env.pop(name, None)
        self.settings = Settings(CATALOG_HOME=self.home, DATABASE_URL=None, CELERY_BROKER_URL=broker)
        self.procs: list[subprocess.Popen] = []

    def catalog(self):
        from indexer.store import CatalogStore

        return CatalogStore.open(self.settings.sqlalchemy_url)

    def start(self, *args: str) -> subprocess.Popen:
        proc = subprocess.Popen([str(CATALOG), *args], env=self.env, cwd=ROOT, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        self.procs.append(proc)
        return proc

    def close(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        redis.Redis.from_url(self.broker).flushdb()
        self.tmp.cleanup()


def warm_workers(run: Run, n: int) -> None:
    """Start n workers and let each load its models on a one-product store before timing."""
    from indexer.reindex import start_reindex

    with run.catalog() as catalog:
        catalog.upsert_products(products("warm", 2 * n))
        job, _ = start_reindex(catalog, "warm")
    for _ in range(n):
        run.start("worker", "--concurrency", "1")
    client = Celery(broker=run.broker)
    client.send_task("indexer.tasks.reindex.reindex_store", args=[job.id], queue="bulk")
    wait_job(run, job.id, 300)


def wait_job(run: Run, job_id: str, timeout: float):
    deadline = time.monotonic() + timeout
    with run.catalog() as catalog:
        while time.monotonic() < deadline:
            job = catalog.get_job(job_id)
            if job.state in ("succeeded", "failed"):
                return job
            time.sleep(0.2)
    raise SystemExit(f"job {job_id} did not finish in {timeout}s")


def reindex_throughput(broker: str, n_products: int, n_workers: int) -> dict:
    from indexer.reindex import start_reindex

    threads = max(1, (os.cpu_count() or 1) // n_workers)
    run = Run(broker, {"REINDEX_CHUNK_SIZE": "8", "WORKER_THREADS": str(threads)})
    try:
        warm_workers(run, n_workers)
        load_before = os.getloadavg()[0]
        with run.catalog() as catalog:
            catalog.upsert_products(products("bench", n_products))
            job, _ = start_reindex(catalog, "bench")
        started = time.perf_counter()
        Celery(broker=broker).send_task("indexer.tasks.reindex.reindex_store", args=[job.id], queue="bulk")
        job = wait_job(run, job.id, 3600)
        seconds = time.perf_counter() - started
        return {"workers": n_workers, "threads_per_worker": threads, "products": n_products,
                "seconds": round(seconds, 2), "products_per_s": round(n_products / seconds, 2), "state": job.state,
                "failed": job.failed, "loadavg_1m_before": round(load_before, 2),
                "loadavg_1m_after": round(os.getloadavg()[0], 2)}
    finally:
        run.close()


def realtime_latency(broker: str, n_upserts: int, background: int) -> dict:
    """PUT products one at a time during a reindex; time until each is in search results (merchant data, via
    the change log) and until its extraction is stored (the realtime worker)."""
    from indexer.reindex import start_reindex
    from search_api.keys import issue_key

    run = Run(broker, {"REINDEX_CHUNK_SIZE": "8"})
    try:
        with run.catalog() as catalog:
            key = issue_key(catalog, store="live", scopes=["search", "write"], name="benchmark", rate=BENCH_RATE).key
        headers = {"Authorization": f"Bearer {key}"}
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        run.start("serve", "--port", str(port))
        warm_workers(run, 1)
        with run.catalog() as catalog:
            catalog.upsert_products(products("live", background))
        deadline = time.monotonic() + 600
        while True:  # serve applies the change log for the background store (it may answer slowly meanwhile)
            try:
                if httpx.get(url + "/v1/stores/live/search", params={"q": "yoga"}, timeout=30,
                             headers=headers).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("serve did not index the store")
            time.sleep(0.3)
        with run.catalog() as catalog:
            job, _ = start_reindex(catalog, "live")
        Celery(broker=broker).send_task("indexer.tasks.reindex.reindex_store", args=[job.id], queue="bulk")
        searchable, extracted = [], []
        with run.catalog() as catalog, httpx.Client(base_url=url, timeout=30, headers=headers) as http:
            for i in range(n_upserts):
                word = f"qx{i}zebu"
                started = time.perf_counter()
                http.put(f"/v1/stores/live/products/rt-{i}", json={"title": f"{word} wool coat", "price": 10 + i})
                while not any(r["product_id"] == f"rt-{i}"
                              for r in http.get("/v1/stores/live/search", params={"q": word}).json()["results"]):
                    time.sleep(0.01)
                searchable.append(time.perf_counter() - started)
                while catalog.latest_extraction("live", f"rt-{i}") is None:
                    time.sleep(0.02)
                extracted.append(time.perf_counter() - started)
            during = catalog.get_job(job.id).state == "running"
            progress = catalog.get_job(job.id)

        def pct(values: list[float], q: float) -> float:
            return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000, 1)

        return {"upserts": n_upserts, "background_products": background, "reindex_running_throughout": during,
                "reindex_done_at_end": f"{progress.done}/{progress.total}",
                "loadavg_1m_at_end": round(os.getloadavg()[0], 2),
                "searchable_ms": {"p50": pct(searchable, 50), "p95": pct(searchable, 95)},
                "extracted_ms": {"p50": pct(extracted, 50), "p95": pct(extracted, 95)}}
    finally:
        run.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200, help="replicated fixture products per reindex")
    parser.add_argument("--upserts", type=int, default=20)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/13")
    parser.add_argument("--background", type=int, help="products being reindexed during the upserts "
                        "(default: half of --products, at least 60)")
    parser.add_argument("--skip-reindex", action="store_true", help="only the realtime latency")
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "pipeline.json"))
    args = parser.parse_args()

    result = {"cpu_cores": os.cpu_count(), "extractor": "local", "products": args.products,
              "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "reindex": [], "realtime": None}
    for n in () if args.skip_reindex else (1, 2):
        result["reindex"].append(reindex_throughput(args.redis, args.products, n))
        print(json.dumps(result["reindex"][-1]), flush=True)
        Path(args.out).write_text(json.dumps(result, indent=2) + "\n")  # a later failure keeps what was measured
    result["realtime"] = realtime_latency(args.redis, args.upserts,
                                          background=args.background or max(60, args.products // 2))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'workers':>8} {'threads':>8} {'products':>9} {'seconds':>8} {'products/s':>11} {'load 1m':>8}")
    for row in result["reindex"]:
        print(f"{row['workers']:>8} {row['threads_per_worker']:>8} {row['products']:>9} {row['seconds']:>8}"
              f" {row['products_per_s']:>11} {row['loadavg_1m_after']:>8}")
    rt = result["realtime"]
    print(f"realtime upsert during reindex ({rt['upserts']} upserts): searchable p50 {rt['searchable_ms']['p50']} ms,"
          f" p95 {rt['searchable_ms']['p95']} ms; extracted p50 {rt['extracted_ms']['p50']} ms,"
          f" p95 {rt['extracted_ms']['p95']} ms; reindex running throughout: {rt['reindex_running_throughout']}"
          f" ({rt['reindex_done_at_end']} done at the end)")


if __name__ == "__main__":
    main()
