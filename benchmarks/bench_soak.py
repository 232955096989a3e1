"""Soak: mixed load for --minutes against `catalog serve` with 2 `catalog worker` processes on RabbitMQ.

Searches at a steady rate, a realtime upsert every few seconds (each timed until searchable), one store reindex
at a quarter of the run, one worker killed with SIGKILL once a quarter of that reindex is done (at half of the
run at the latest) and started again at once. Reports the 5xx count,
search p95 per minute, upsert-to-searchable p95, the RSS of every process after the warm-up and at the end,
and products lost: at the end every product of the catalog store must be extracted and in both engines, once.

The broker is a RabbitMQ node of the run's own (tests/integration/services.py: its own name, ports and data
under the run's temporary directory), or --broker URL. Extraction is the local CPU extractor. Every loop is
bounded in time; traffic goes to 127.0.0.1 only. Prints tables and writes benchmarks/results/soak.json.

    nice -n 10 .venv/bin/python benchmarks/bench_soak.py --minutes 20
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
CATALOG = Path(sys.executable).with_name("catalog")
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
from common import free_port, percentile, print_table, write_json  # noqa: E402

STORE = "soak"
ADMIN_KEY = "soak-admin-key"
QUERIES = ["black hoodie for men", "yoga pants", "waterproof jacket under $80", "running shorts", "tank top",
           "women's tee cotton", "green backpack", "leggings", "zip jacket for women", "duffle bag",
           "watch", "blue shorts size 32", "hooded sweatshirt", "water bottle", "bra top"]


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def tree_rss_kib(pid: int) -> int | None:
    """RSS of a process and its children (a RabbitMQ node is beam plus helpers)."""
    total = rss_kib(pid)
    if total is None:
        return None
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        children = []
    return total + sum(tree_rss_kib(int(c)) or 0 for c in children)


class Soak:
    def __init__(self, args) -> None:
        self.args = args
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-soak-"))
        self.home = self.tmp / "home"
        self.home.mkdir()
        self.node = None
        if args.broker:
            self.broker = args.broker
        else:
            from tests.integration.services import RabbitNode

            why = RabbitNode.missing()
            if why:
                raise SystemExit(f"bench_soak needs RabbitMQ: {why} (or pass --broker amqp://...)")
            self.node = RabbitNode(self.tmp / "rabbit").start()
            self.broker = self.node.url
        self.env = {**os.environ, "CATALOG_HOME": str(self.home), "CELERY_BROKER_URL": self.broker,
                    "EXTRACTOR_BACKEND": "local", "CATALOG_ADMIN_KEY": ADMIN_KEY, "WORKER_THREADS": "1",
                    "PYTHONUNBUFFERED": "1"}
        for name in ("DATABASE_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "REDIS_URL"):
            self.env.pop(name, None)
        self.procs: dict[str, subprocess.Popen] = {}
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.headers = {"Authorization": f"Bearer {ADMIN_KEY}"}
        self.stop = threading.Event()
        self.searches: list[tuple[float, float, int]] = []  # (seconds since start, ms, status)
        self.upserts: list[tuple[float, float | None, int]] = []  # (since start, ms to searchable or None, status)
        self.events: list[tuple[float, str]] = []
        self.upserted_ids: list[str] = []
        self.t0 = time.monotonic()

    # ------------------------------------------------------------------ processes

    def settings(self):
        from indexer.settings import Settings

        return Settings(CATALOG_HOME=self.home, DATABASE_URL=None, CELERY_BROKER_URL=self.broker,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, REDIS_URL=None)

    def catalog(self):
        from indexer.store import CatalogStore

        return CatalogStore.open(self.settings().sqlalchemy_url)

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.tmp / f"{name}.log", "ab")  # noqa: SIM115 - closed with the process
        proc = subprocess.Popen([str(CATALOG), *args], env=self.env, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
        self.procs[name] = proc
        return proc

    def worker(self, name: str) -> subprocess.Popen:
        return self.start(name, "worker", "--concurrency", "1")

    def wait_ready(self, name: str, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        path = self.tmp / f"{name}.log"
        while "ready." not in (path.read_text(errors="replace") if path.exists() else ""):
            if time.monotonic() > deadline or self.procs[name].poll() is not None:
                raise SystemExit(f"{name} did not start:\n{path.read_text(errors='replace')[-3000:]}")
            time.sleep(0.5)

    def wait_serving(self, timeout: float = 600) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/v1/stores/{STORE}/search", params={"q": "shirt"}, headers=self.headers,
                             timeout=30).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(1)
        raise SystemExit("catalog serve did not answer searches")

    def note(self, what: str) -> None:
        self.events.append((round(time.monotonic() - self.t0, 1), what))
        print(f"[{time.monotonic() - self.t0:7.1f}s] {what}", flush=True)

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(10)
        if self.node is not None:
            self.node.close()

    # ------------------------------------------------------------------ load

    def search_loop(self, rate: float) -> None:
        client = httpx.Client(headers=self.headers, timeout=30)
        period, i = 1.0 / rate, 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            query = QUERIES[i % len(QUERIES)]
            i += 1
            started = time.monotonic()
            try:
                status = client.get(f"{self.url}/v1/stores/{STORE}/search", params={"q": query}).status_code
            except httpx.HTTPError:
                status = 599  # no answer at all counts with the 5xx
            self.searches.append((started - self.t0, (time.monotonic() - started) * 1000, status))
            next_at += period
            self.stop.wait(max(0.0, next_at - time.monotonic()))

    def upsert_loop(self, every_s: float, timeout_s: float = 60) -> None:
        client = httpx.Client(headers=self.headers, timeout=30)
        while not self.stop.is_set():
            token = f"soak{uuid.uuid4().hex[:10]}"
            started = time.monotonic()
            try:
                status = client.put(f"{self.url}/v1/stores/{STORE}/products/{token}",
                                    json={"title": f"Quokka {token} raincoat", "price": 42}).status_code
            except httpx.HTTPError:
                status = 599
            seen_ms = None
            if status < 300:
                self.upserted_ids.append(token)
                while time.monotonic() - started < timeout_s and not self.stop.is_set():
                    try:
                        body = client.get(f"{self.url}/v1/stores/{STORE}/search", params={"q": token}).json()
                        if any(r["product_id"] == token for r in body.get("results", [])):
                            seen_ms = (time.monotonic() - started) * 1000
                            break
                    except (httpx.HTTPError, ValueError):
                        pass
                    time.sleep(0.05)
            if seen_ms is None and status < 300 and self.stop.is_set():
                break  # the run ended while this one was still being looked for: not a measurement
            self.upserts.append((started - self.t0, seen_ms, status))
            self.stop.wait(max(0.0, every_s - (time.monotonic() - started)))

    # ------------------------------------------------------------------ the run

    def prepare(self) -> None:
        from indexer.importers import fixture_path, import_path

        with self.catalog() as catalog:
            report = import_path(catalog, STORE, fixture_path())
            base = list(catalog.iter_products(STORE))
            extra = [base[i % len(base)].model_copy(update={"product_id": f"{base[i % len(base)].product_id}-r{i}"})
                     for i in range(max(0, self.args.products - len(base)))]
            if extra:  # the fixture replicated under new ids, for a reindex that outlasts the kill
                catalog.upsert_products(extra)
        self.note(f"imported {report.imported + len(extra)} products")
        self.start("serve", "serve", "--port", str(self.port))
        for name in ("worker-1", "worker-2"):
            self.worker(name)
        for name in ("worker-1", "worker-2"):
            self.wait_ready(name)
        self.wait_serving()
        self.note("serve and 2 workers ready")

    def sample_rss(self) -> dict[str, int | None]:
        out = {name: rss_kib(proc.pid) for name, proc in self.procs.items() if proc.poll() is None}
        if self.node is not None and self.node.proc is not None:
            out["rabbitmq"] = tree_rss_kib(self.node.proc.pid)
        return out

    def run(self) -> dict:
        seconds = self.args.minutes * 60
        warm_up = max(60.0, seconds * 0.1)
        self.t0 = time.monotonic()
        threads = [threading.Thread(target=self.search_loop, args=(self.args.search_rate,), daemon=True),
                   threading.Thread(target=self.upsert_loop, args=(self.args.upsert_every,), daemon=True)]
        for t in threads:
            t.start()
        load_start = os.getloadavg()
        rss_samples: list[tuple[float, dict]] = []
        job_id = killed_at = restarted = None
        rss_after_warm_up: dict | None = None
        deadline = self.t0 + seconds
        while time.monotonic() < deadline:
            elapsed = time.monotonic() - self.t0
            if rss_after_warm_up is None and elapsed >= warm_up:
                rss_after_warm_up = self.sample_rss()
                self.note(f"warm-up over; RSS {rss_after_warm_up}")
            if job_id is None and elapsed >= seconds * 0.25:
                response = httpx.post(f"{self.url}/v1/stores/{STORE}/reindex", headers=self.headers, timeout=30)
                job_id = response.json().get("job_id")
                self.note(f"reindex requested: HTTP {response.status_code}, job {job_id}")
            # Mid-reindex: once a quarter of the job is done (at half of the run at the latest).
            if killed_at is None and (elapsed >= seconds * 0.5 or (job_id and self.job_progress(job_id) >= 0.25)):
                victim = self.procs["worker-1"]
                victim.send_signal(signal.SIGKILL)
                victim.wait(10)
                killed_at = elapsed
                self.note(f"worker-1 killed (SIGKILL); job {self.job_state(job_id)}")
                self.worker("worker-1")  # started again at once; its RSS baseline: once it has warmed up
                restarted = elapsed
            if (restarted and rss_after_warm_up is not None and "worker-1 (restarted)" not in rss_after_warm_up
                    and elapsed >= restarted + warm_up):
                rss_after_warm_up["worker-1 (restarted)"] = rss_kib(self.procs["worker-1"].pid)
                self.note(f"restarted worker-1 warmed up: RSS {rss_after_warm_up['worker-1 (restarted)']} KiB")
            if not rss_samples or elapsed - rss_samples[-1][0] >= 30:
                rss_samples.append((round(elapsed, 1), self.sample_rss()))
            time.sleep(1)
        self.stop.set()
        for t in threads:
            t.join(60)
        rss_end = self.sample_rss()
        if "worker-1" in rss_end:  # the process running at the end is the restarted one
            rss_end["worker-1 (restarted)"] = rss_end.pop("worker-1")
        load_end = os.getloadavg()
        self.note("load stopped; waiting for the job and the index sync to finish")
        job = self.wait_job(job_id, 900)
        lost = self.check_products(900)
        return self.report(seconds, warm_up, rss_after_warm_up or {}, rss_end, rss_samples, job, lost,
                           killed_at, restarted, load_start, load_end)

    def job_progress(self, job_id: str) -> float:
        with self.catalog() as catalog:
            job = catalog.get_job(job_id)
        return (job.done + job.failed) / job.total if job and job.total else 0.0

    def job_state(self, job_id: str | None) -> str:
        if job_id is None:
            return "none"
        with self.catalog() as catalog:
            job = catalog.get_job(job_id)
        return f"{job.state} {job.done}/{job.total}" if job else "missing"

    def wait_job(self, job_id: str | None, timeout: float):
        if job_id is None:
            return None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.catalog() as catalog:
                job = catalog.get_job(job_id)
            if job.state in ("succeeded", "failed"):
                self.note(f"job {job.state}: {job.done} done, {job.failed} failed of {job.total}")
                return job
            time.sleep(2)
        self.note(f"job still {self.job_state(job_id)} after {timeout:.0f}s")
        return job

    def check_products(self, timeout: float) -> dict:
        """Products lost: in the catalog store but not extracted, or not in each engine exactly once."""
        from indexer.engines.factory import open_engines
        from indexer.sync import SYNC_NAME

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.catalog() as catalog:
                if catalog.get_sync_position(SYNC_NAME) >= catalog.max_seq():
                    break
            time.sleep(1)
        serve = self.procs.pop("serve")
        serve.send_signal(signal.SIGKILL)  # the engines are crash-safe (tests/integration/test_faults.py)
        serve.wait(10)
        with self.catalog() as catalog:
            ids = set(catalog.product_ids(STORE))
            letters = {d.product_id for d in catalog.dead_letters(STORE)}
            unextracted = sorted(pid for pid in ids - letters if catalog.latest_extraction(STORE, pid) is None)
            with open_engines(self.settings()) as engines:
                from extractor.embeddings import get_text_embedder
                from indexer.sync import IndexSync
                from taxonomy import Taxonomy

                IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder()).run_until_idle()
                lexical, vector = engines.lexical.ids(STORE), engines.vector.ids(STORE)
                counts = (engines.lexical.count(STORE), engines.vector.count(STORE))
        upserted = set(self.upserted_ids)  # accepted (202) by the API: each must be a catalog product now
        return {"catalog_products": len(ids), "dead_letters": len(letters), "not_extracted": len(unextracted),
                "missing_lexical": len(ids - lexical), "missing_vector": len(ids - vector),
                "extra_lexical": len(lexical - ids), "extra_vector": len(vector - ids),
                "lexical_count": counts[0], "vector_count": counts[1],
                "upserts_not_in_catalog": len(upserted - ids),
                "lost": len(unextracted) + len((ids - lexical) | (ids - vector)) + len(upserted - ids)}

    def report(self, seconds, warm_up, rss_start, rss_end, rss_samples, job, lost, killed_at, restarted,
               load_start, load_end) -> dict:
        per_minute = []
        for minute in range(int(seconds // 60) + 1):
            rows = [(ms, status) for at, ms, status in self.searches if minute * 60 <= at < (minute + 1) * 60]
            if rows:
                per_minute.append({"minute": minute, "n": len(rows),
                                   "p50_ms": round(percentile([ms for ms, _ in rows], 50), 1),
                                   "p95_ms": round(percentile([ms for ms, _ in rows], 95), 1),
                                   "5xx": sum(1 for _, s in rows if s >= 500)})
        seen = [ms for _, ms, status in self.upserts if ms is not None]
        upserts_5xx = sum(1 for _, _, status in self.upserts if status >= 500)
        rss = []
        for name in sorted(set(rss_start) | set(rss_end)):
            start, end = rss_start.get(name), rss_end.get(name)
            growth = round(100 * (end - start) / start, 1) if start and end else None
            note = {"worker-1": "killed mid-way (SIGKILL): no end value",
                    "worker-1 (restarted)": "started at the kill; start = after its own warm-up"}.get(name, "")
            rss.append({"process": name, "rss_start_mib": round(start / 1024, 1) if start else None,
                        "rss_end_mib": round(end / 1024, 1) if end else None, "growth_pct": growth, "note": note})
        summary = {
            "minutes": self.args.minutes, "warm_up_s": warm_up, "search_rate_per_s": self.args.search_rate,
            "searches": len(self.searches), "search_5xx": sum(1 for _, _, s in self.searches if s >= 500),
            "search_p50_ms": round(percentile([ms for _, ms, _ in self.searches], 50), 1),
            "search_p95_ms": round(percentile([ms for _, ms, _ in self.searches], 95), 1),
            "upserts": len(self.upserts), "upserts_searchable": len(seen), "upsert_5xx": upserts_5xx,
            "upsert_to_searchable_p50_ms": round(percentile(seen, 50), 1),
            "upsert_to_searchable_p95_ms": round(percentile(seen, 95), 1),
            "reindex_job": None if job is None else {"state": job.state, "total": job.total, "done": job.done,
                                                     "failed": job.failed},
            "worker_killed_at_s": killed_at, "worker_restarted_at_s": restarted,
            "products": lost, "load_average_start": [round(x, 2) for x in load_start],
            "load_average_end": [round(x, 2) for x in load_end],
        }
        print_table("Soak summary", [summary], ["minutes", "searches", "search_5xx", "search_p95_ms", "upserts",
                                                 "upserts_searchable", "upsert_to_searchable_p95_ms"])
        print_table("Search latency per minute", per_minute, ["minute", "n", "p50_ms", "p95_ms", "5xx"])
        print_table("RSS (after warm-up -> end)", rss, ["process", "rss_start_mib", "rss_end_mib", "growth_pct",
                                                          "note"])
        print_table("Products (checked against the catalog store)", [lost], list(lost))
        print(f"reindex job: {summary['reindex_job']}; load average start {summary['load_average_start']}, "
              f"end {summary['load_average_end']}")
        return {"summary": summary, "search_per_minute": per_minute, "rss": rss, "rss_samples": rss_samples,
                "events": self.events}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--search-rate", type=float, default=2.0, help="searches per second")
    parser.add_argument("--upsert-every", type=float, default=10.0, help="seconds between realtime upserts")
    parser.add_argument("--products", type=int, default=199, help="store size (the fixture, replicated beyond 199)")
    parser.add_argument("--broker", default=None, help="amqp:// URL (default: a RabbitMQ node of the run's own)")
    args = parser.parse_args()
    soak = Soak(args)
    try:
        soak.prepare()
        result = soak.run()
    finally:
        soak.close()
    write_json("soak", {"command": " ".join(["benchmarks/bench_soak.py", *sys.argv[1:]]), **result})
    shutil.rmtree(soak.tmp, ignore_errors=True)  # kept when the run failed: its processes' logs are there


if __name__ == "__main__":
    main()
