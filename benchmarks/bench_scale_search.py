"""Search over HTTP on a large indexed catalog: `catalog serve`, and a load generator in another process
(asyncio, N requests in flight) at concurrency 1, 8 and 32 over 300+ distinct shopper queries
(benchmarks/shopper_queries.py) and the empty browse. Prints p50/p95/p99, requests/s, errors, the API's
RSS idle and under load, and the index size on disk; writes results/scale_search_<label>.json.

    .venv/bin/python benchmarks/bench_scale_search.py --home /tmp/h15_home10k --store mega \
        --catalog /tmp/c10k.jsonl --label 10k [--seconds 20] [--levels 1,8,32]

The CATALOG_HOME must be indexed already (benchmarks/bench_scale_index.py). Every query is sent once before
the timed runs (steady state: query vectors cached, matchers compiled), as benchmarks/bench_search.py does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import bench_key, home_env, print_table, start_serve, summarize, wait_ready, write_json  # noqa: E402
from shopper_queries import read_store, shopper_queries  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def disk_mb(path: Path) -> float:
    return round(sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20, 1)


async def _generate(base: str, path: str, headers: dict, queries: list[str], concurrency: int,
                    seconds: float, params: dict) -> dict:
    import httpx

    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30, limits=limits) as client:
        async def one(worker: int) -> None:
            nonlocal errors
            i = worker * 7919
            while time.perf_counter() < deadline:
                q = queries[i % len(queries)]
                i += 1
                started = time.perf_counter()
                try:
                    response = await client.get(path, params={**params, "q": q})
                    errors += response.status_code != 200
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - started) * 1000)

        started = time.perf_counter()
        await asyncio.gather(*(one(w) for w in range(concurrency)))
        elapsed = time.perf_counter() - started
    return {"concurrency": concurrency, "errors": errors, **summarize(latencies, elapsed)}


def generate_main(spec: str) -> None:
    """The load generator process: reads its job as JSON, prints its summary as JSON."""
    job = json.loads(spec)
    print(json.dumps(asyncio.run(_generate(**job))))


def load(base: str, path: str, headers: dict, queries: list[str], concurrency: int, seconds: float,
         server_pid: int, params: dict | None = None) -> dict:
    """One level of load from a generator process; the server's RSS sampled meanwhile (its peak)."""
    spec = json.dumps({"base": base, "path": path, "headers": headers, "queries": queries,
                       "concurrency": concurrency, "seconds": seconds, "params": params or {}})
    peak = [rss_mb(server_pid)]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak.append(rss_mb(server_pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        out = subprocess.run([sys.executable, __file__, "--generate", spec], capture_output=True, text=True,
                             check=True, timeout=seconds + 120)
    finally:
        done.set()
        sampler.join()
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row["rss_under_load_mb"] = max(peak)
    row["load_avg_1m"] = round(os.getloadavg()[0], 2)
    return row


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--generate", help=argparse.SUPPRESS)
    parser.add_argument("--home", type=Path)
    parser.add_argument("--store")
    parser.add_argument("--catalog", type=Path, help="the generated JSONL the store was imported from")
    parser.add_argument("--label", default="")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--levels", default="1,8,32")
    parser.add_argument("--also-store", help="a small store measured at concurrency 1 beside the big one")
    args = parser.parse_args()
    if args.generate:
        generate_main(args.generate)
        return
    if not (args.home and args.store and args.catalog):
        parser.error("--home, --store and --catalog are required")
    queries = shopper_queries(read_store(args.catalog, args.store), args.queries)
    env = home_env(args.home)
    headers = {"Authorization": f"Bearer {bench_key(env, args.store, 'search')}"}
    server, base = start_serve(env)
    rows = []
    try:
        started = time.perf_counter()
        wait_ready(base)
        ready_s = round(time.perf_counter() - started, 1)
        path = f"/v1/stores/{args.store}/search"
        import httpx

        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            for q in queries:  # warm-up: every query once
                client.get(path, params={"q": q})
        idle = rss_mb(server.pid)
        for level in (int(x) for x in args.levels.split(",")):
            rows.append({"store": args.store, **load(base, path, headers, queries, level, args.seconds,
                                                        server.pid)})
        if args.also_store:
            small = shopper_queries(read_store(args.catalog, args.also_store), 60)
            small_headers = {"Authorization": f"Bearer {bench_key(env, args.also_store, 'search')}"}
            small_path = f"/v1/stores/{args.also_store}/search"
            with httpx.Client(base_url=base, headers=small_headers, timeout=30) as client:
                for q in small:
                    client.get(small_path, params={"q": q})
            rows.append({"store": args.also_store, **load(base, small_path, small_headers, small, 1, args.seconds,
                                                          server.pid)})
    finally:
        server.terminate()
        server.wait(timeout=30)
    sizes = {p.name: disk_mb(p) if p.is_dir() else round(p.stat().st_size / 2**20, 1)
             for p in sorted(args.home.iterdir()) if p.name not in ("models",)}
    columns = ["store", "concurrency", "n", "errors", "p50_ms", "p95_ms", "p99_ms", "per_s", "rss_under_load_mb",
               "load_avg_1m"]
    print_table(f"search over HTTP, store {args.store} of {args.catalog.name}, {len(queries)} distinct queries "
                f"(incl. the empty browse); ready after {ready_s} s, idle RSS {idle} MB", rows, columns)
    print(f"on disk (MB): {sizes}")
    write_json(f"scale_search_{args.label or args.store}",
               {"benchmark": "scale_search_http", "catalog": str(args.catalog), "store": args.store,
                "queries": len(queries), "seconds_per_level": args.seconds, "ready_s": ready_s,
                "rss_idle_mb": idle, "disk_mb": sizes, "rows": rows,
                "targets": {"100k": "p95 <= 25 ms at concurrency 1, >= 100 req/s at concurrency 8",
                            "1M": "p95 <= 60 ms at concurrency 1, API RSS <= 4 GB"}})


if __name__ == "__main__":
    main()
