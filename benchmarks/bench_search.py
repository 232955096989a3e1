"""Search over HTTP against the fixture catalog: a `catalog serve` process, and a load generator in
another process at concurrency 1 and 8. Prints p50/p95/p99 and requests/s; writes results/search.json
(page 1), or results/search_offset<N>_limit<L>.json for a deeper page.

    .venv/bin/python benchmarks/bench_search.py [--home DIR] [--seconds 20] [--offset N] [--limit L]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import bench_key, free_port, print_table, summarize, wait_ready, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOG = str(Path(sys.executable).with_name("catalog"))


def prepare(home: Path) -> None:
    env = {**os.environ, "CATALOG_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    subprocess.run([CATALOG, "import", "--store", "demo", str(ROOT / "indexer/data/fixture")], env=env, check=True)
    subprocess.run([CATALOG, "index", "--store", "demo"], env=env, check=True, stderr=subprocess.DEVNULL)


def worker(base: str, queries: list[str], deadline: float, out: mp.Queue, page: dict, headers: dict) -> None:
    import httpx

    latencies, errors = [], 0
    with httpx.Client(base_url=base, timeout=10, headers=headers) as client:
        i = 0
        while time.time() < deadline:
            q = queries[i % len(queries)]
            i += 1
            started = time.perf_counter()
            response = client.get("/v1/stores/demo/search", params={"q": q, **page})
            latencies.append((time.perf_counter() - started) * 1000)
            errors += response.status_code != 200
    out.put((latencies, errors))


def load(base: str, queries: list[str], concurrency: int, seconds: float, page: dict, headers: dict) -> dict:
    out: mp.Queue = mp.Queue()
    deadline = time.time() + seconds
    procs = [mp.Process(target=worker, args=(base, queries[i::concurrency] or queries, deadline, out, page, headers))
             for i in range(concurrency)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    elapsed = time.perf_counter() - started
    latencies = [x for lat, _ in results for x in lat]
    return {"concurrency": concurrency, "errors": sum(e for _, e in results), **summarize(latencies, elapsed)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, help="an already indexed CATALOG_HOME (else one is built)")
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--offset", type=int, default=0, help="page depth (deep-page latency)")
    parser.add_argument("--limit", type=int, default=10)
    args = parser.parse_args()
    page = {"offset": args.offset, "limit": args.limit}
    home = args.home or Path(tempfile.mkdtemp(prefix="bench-search-"))
    if args.home is None:
        prepare(home)
    queries = [json.loads(line)["query"] for line in (ROOT / "tests/relevance/queries.jsonl").read_text().splitlines()]
    port = free_port()
    env = {**os.environ, "CATALOG_HOME": str(home)}
    env.pop("DATABASE_URL", None)
    headers = {"Authorization": f"Bearer {bench_key(env, 'demo', 'search')}"}
    server = subprocess.Popen([CATALOG, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        import httpx

        wait_ready(base, 60)
        for q in queries:  # warm-up: query embeddings cached, matchers compiled (as in steady state)
            httpx.get(f"{base}/v1/stores/demo/search", params={"q": q}, timeout=10, headers=headers)
        rows = [load(base, queries, c, args.seconds, page, headers) for c in (1, 8)]
    finally:
        server.terminate()
        server.wait(timeout=20)
    columns = ["concurrency", "n", "errors", "p50_ms", "p95_ms", "p99_ms", "per_s"]
    print_table(f"search over HTTP, fixture catalog (199 products), {len(queries)} distinct queries, "
                f"offset {args.offset} limit {args.limit}", rows, columns)
    first_page = page == {"offset": 0, "limit": 10}
    write_json("search" if first_page else f"search_offset{args.offset}_limit{args.limit}",
               {"benchmark": "search_http", "products": 199, "queries": len(queries), **page,
                          "seconds_per_level": args.seconds, "target": "p95 <= 30 ms at concurrency 1",
                          "rows": rows})


if __name__ == "__main__":
    main()
