"""How soon changed products are searchable on a running server: `catalog serve` owns the indexed
CATALOG_HOME (its index sync applies the change log in the background), and this process writes N changed
products of the biggest store to the catalog store, as `catalog import` or a worker does, then polls the
server until the last one is applied to both engines and the changed titles are found. Merchant data is
searchable once the sync has embedded it; extraction follows on its own (`catalog index`, the workers).

    .venv/bin/python benchmarks/bench_scale_upsert.py --home /tmp/h100k --store mega --changes 1000 --label 100k

Prints and writes results/scale_upsert_<label>.json: seconds until the first and the last change is
searchable, until all are found by their words (the text index) and until the last is in both engines (its
vector too), the vectors computed (only the changed products' must be), the server's CPU-seconds meanwhile.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import (  # noqa: E402
    bench_key,
    embedding_rows,
    home_env,
    print_table,
    start_serve,
    wait_ready,
    write_json,
)


def cpu_s(pid: int) -> float:
    """User + system seconds of a process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True, help="an indexed CATALOG_HOME (SQLite store)")
    parser.add_argument("--store", required=True)
    parser.add_argument("--changes", type=int, default=1000)
    parser.add_argument("--label", default="")
    parser.add_argument("--limit-s", type=float, default=300)
    args = parser.parse_args()
    from indexer.runtime import open_catalog
    from indexer.settings import Settings

    env = home_env(args.home)
    headers = {"Authorization": f"Bearer {bench_key(env, args.store, 'admin')}"}
    server, base = start_serve(env)
    import httpx

    try:
        wait_ready(base)
        settings = Settings(CATALOG_HOME=args.home, DATABASE_URL=None)
        # A word no product has: the changed titles are found by it, and only they.
        marker = "refresh" + uuid.uuid4().hex[:8]
        with open_catalog(settings) as catalog:
            ids = catalog.product_ids_page(args.store, after=None, limit=args.changes)
            changed = [p.model_copy(update={"title": f"{p.title} {marker}"})
                       for p in catalog.get_products(args.store, ids).values()]
            vectors_before = embedding_rows(args.home)
            server_cpu0 = cpu_s(server.pid)
            started = time.perf_counter()
            catalog.upsert_products(changed)
        written_s = time.perf_counter() - started
        first_s = words_s = last_s = None
        found = 0
        with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
            while time.perf_counter() - started < args.limit_s:
                page = client.get(f"/v1/stores/{args.store}/search",
                                  params={"q": marker, "mode": "lexical", "limit": 1}).json()
                found = page["total"]
                if found and first_s is None:
                    first_s = time.perf_counter() - started
                if found >= len(changed) and words_s is None:
                    words_s = time.perf_counter() - started  # all found by their words (the text index)
                state = client.get(f"/v1/stores/{args.store}/products/{changed[-1].product_id}").json()["index"]
                if found >= len(changed) and state["indexed"]:
                    last_s = time.perf_counter() - started
                    break
                time.sleep(0.05)
            vector_hits = client.get(f"/v1/stores/{args.store}/search",
                                     params={"q": marker, "mode": "vector", "limit": 10}).json()["results"]
        server_cpu = cpu_s(server.pid) - server_cpu0
    finally:
        server.terminate()
        server.wait(timeout=30)
    row = {"store": args.store, "changed": len(changed), "written_s": round(written_s, 2),
           "first_searchable_s": round(first_s, 2) if first_s is not None else None,
           "all_found_by_words_s": round(words_s, 2) if words_s is not None else None,
           "all_in_both_engines_s": round(last_s, 2) if last_s is not None else None, "found": found,
           "vectors_computed": embedding_rows(args.home) - vectors_before,
           "server_cpu_s": round(server_cpu, 1), "vector_top10_changed": sum(marker in r["title"] for r in vector_hits),
           "load_avg": round(os.getloadavg()[0], 2)}
    print_table(f"changed products searchable on a running server ({args.home})", [row], list(row))
    write_json(f"scale_upsert_served_{args.label}", {"benchmark": "scale_upsert_served", "home": str(args.home),
                                                     "rows": [row]})
    if last_s is None:
        raise SystemExit(f"not all {len(changed)} changes were searchable within {args.limit_s} s")


if __name__ == "__main__":
    main()
