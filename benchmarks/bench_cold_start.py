"""Cold start of `catalog serve`: a fresh CATALOG_HOME and an empty CATALOG_CACHE_DIR (nothing computed by an
earlier run helps), a few fixture products imported with `catalog import`, then the server started as a
subprocess. Times /healthz and /readyz from the start, then the first suggest (a real fixture photo + a
title, multipart) and the first search right after ready, then a few more of each for the steady state.
The whole cold start is repeated; prints median/p95 and writes results/cold_start.json.
Targets on 2 cores: first suggest <= 2 s after ready, first search <= 200 ms after ready.

    .venv/bin/python benchmarks/bench_cold_start.py [--runs 3] [--products 12] [--steady 10] [--name cold_start]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_suggest import CATALOG, ROOT, listing, post  # noqa: E402
from common import bench_key, free_port, percentile, print_table, write_json  # noqa: E402

QUERIES = ["black hoodie for men", "yoga pants under $40", "red tee", "women's running shorts", "water bottle",
           "blue jacket", "gym bag", "green shorts for men", "hoodie not cotton", "bras"]
TARGETS_MS = {"first_suggest_ms": 2000, "first_search_ms": 200}


def small_catalog(path: Path, products: int) -> None:
    """The first `products` fixture products (with photos) as our JSONL."""
    sys.path.insert(0, str(ROOT))
    from indexer.importers import fixture_path, read_products

    chosen = [p for p in read_products("demo", fixture_path()) if p.images][:products]
    path.write_text("".join(p.model_dump_json(exclude={"store"}) + "\n" for p in chosen))


def poll(url: str, deadline_s: float, started: float, ready: bool) -> tuple[float, dict]:
    """Seconds from `started` until `url` answers 200 (with its JSON), and the `loading` names seen on the way."""
    import httpx

    seen: list[str] = []
    while time.perf_counter() - started < deadline_s:
        try:
            response = httpx.get(url, timeout=2)
            body = response.json()
            for name in body.get("loading", []):
                if name not in seen:
                    seen.append(name)
            if response.status_code == 200:
                return time.perf_counter() - started, {**body, "seen_loading": seen}
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.05 if ready else 0.02)
    raise SystemExit(f"{url} did not answer 200 within {deadline_s} s")


def search(client, q: str) -> tuple[float, int, dict]:
    started = time.perf_counter()
    response = client.get("/v1/stores/demo/search", params={"q": q})
    elapsed = (time.perf_counter() - started) * 1000
    return elapsed, response.status_code, response.json() if response.status_code == 200 else {}


def cold_start(catalog_file: Path, image: bytes, title: str, steady: int) -> dict:
    home, cache = Path(tempfile.mkdtemp(prefix="bench-cold-home-")), Path(tempfile.mkdtemp(prefix="bench-cold-cache-"))
    env = {**os.environ, "CATALOG_HOME": str(home), "CATALOG_CACHE_DIR": str(cache), "EXTRACTOR_BACKEND": "local"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL", "QDRANT_URL", "REDIS_URL"):
        env.pop(name, None)
    subprocess.run([CATALOG, "import", "--store", "demo", str(catalog_file)], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    headers = {"Authorization": f"Bearer {bench_key(env, 'demo')}"}
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    server = subprocess.Popen([CATALOG, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        import httpx

        healthz_s, _ = poll(f"{base}/healthz", 120, started, ready=False)
        ready_s, ready = poll(f"{base}/readyz", 600, started, ready=True)
        with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
            first_suggest_ms, status, body = post(client, image, title)
            if status != 200:
                raise SystemExit(f"first suggest answered {status}")
            first_search_ms, status, first_search = search(client, QUERIES[0])
            if status != 200:
                raise SystemExit(f"first search answered {status}")
            suggests = [post(client, image, title) for _ in range(steady)]
            searches = [search(client, QUERIES[(i + 1) % len(QUERIES)]) for i in range(steady)]
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {"healthz_s": round(healthz_s, 2), "ready_s": round(ready_s, 2),
            "first_suggest_ms": round(first_suggest_ms, 1), "first_search_ms": round(first_search_ms, 1),
            "steady_suggest_p50_ms": round(percentile([s[0] for s in suggests], 50), 1),
            "steady_search_p50_ms": round(percentile([s[0] for s in searches], 50), 1),
            # The server's own stage timings: where a first request still differs from the later ones.
            "server_ms": {"first_suggest": body["timings_ms"], "last_suggest": suggests[-1][2].get("timings_ms"),
                          "first_search": first_search.get("timings_ms"),
                          "last_search": searches[-1][2].get("timings_ms")},
            "sync_pending_at_ready": ready["checks"].get("sync_pending"), "loading_seen": ready["seen_loading"],
            "warm_up_ms": ready.get("warm_up_ms", {}), "category": (body.get("category") or {}).get("full_name"),
            "cache_files_after": sorted(p.name for p in cache.iterdir())}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--products", type=int, default=12)
    parser.add_argument("--steady", type=int, default=10, help="requests of each kind after the first")
    parser.add_argument("--name", default="cold_start", help="results/NAME.json (e.g. to keep a baseline apart)")
    args = parser.parse_args()
    image, title, source, size = listing()
    catalog_file = Path(tempfile.mkdtemp(prefix="bench-cold-catalog-")) / "catalog.jsonl"
    small_catalog(catalog_file, args.products)
    load_before = os.getloadavg()
    runs = []
    for number in range(args.runs):
        runs.append(cold_start(catalog_file, image, title, args.steady))
        print(f"run {number + 1}: {runs[-1]}", flush=True)
    load_after = os.getloadavg()
    columns = ["healthz_s", "ready_s", "first_suggest_ms", "first_search_ms", "steady_suggest_p50_ms",
               "steady_search_p50_ms"]
    summary = {c: {"median": round(percentile([r[c] for r in runs], 50), 2),
                   "p95": round(percentile([r[c] for r in runs], 95), 2)} for c in columns}
    rows = [{"what": c, **summary[c], "target": TARGETS_MS.get(c, "")} for c in columns]
    print_table(f"cold start of `catalog serve`, {args.runs} runs, {args.products} products, fresh home and cache; "
                f"load average {load_before[0]:.2f} -> {load_after[0]:.2f}", rows,
                ["what", "median", "p95", "target"])
    met = {c: summary[c]["p95"] <= limit for c, limit in TARGETS_MS.items()}
    print("targets (p95 over runs): " + ", ".join(f"{c} <= {v} ms {'met' if met[c] else 'MISSED'}"
                                                  for c, v in TARGETS_MS.items()))
    write_json(args.name, {"benchmark": "cold_start", "runs": args.runs, "products": args.products,
                              "steady_requests": args.steady, "image": {"source": str(Path(source).relative_to(ROOT)),
                                                                        "size": list(size), "bytes": len(image)},
                              "title": title, "targets_ms": TARGETS_MS, "targets_met": met,
                              "loadavg_before": [round(x, 2) for x in load_before],
                              "loadavg_after": [round(x, 2) for x in load_after], "summary": summary, "per_run": runs})


if __name__ == "__main__":
    main()
