"""Indexing throughput and peak memory: the fixture catalog and the fixture replicated to 10,000 products
(new ids, perturbed titles), first run and the idempotent second run, plus a rebuild from the store.

Measures the index path (store -> documents -> MiniLM embeddings -> tantivy + Qdrant Edge) on merchant
data; extraction is measured by benchmarks/bench_extractor.py. Each scale runs in a fresh process so the
peak RSS is its own.

    .venv/bin/python benchmarks/bench_indexing.py [--scales 199,10000]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["Classic", "Pro", "Lite", "Elite", "Active", "Urban", "Trail", "Studio", "Core", "Flex", "Max", "Air"]


def replicate(products, n: int):
    rng = random.Random(7)
    out = []
    for i in range(n):
        base = products[i % len(products)]
        if i < len(products):
            out.append(base)
            continue
        title = f"{rng.choice(WORDS)} {base.title} {rng.choice(WORDS)} {i}"
        out.append(base.model_copy(update={"product_id": f"{base.product_id}-r{i}", "title": title}))
    return out


def run_scale(n: int) -> dict:
    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.importers import fixture_path, read_products
    from indexer.settings import Settings
    from indexer.store import CatalogStore
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    home = Path(tempfile.mkdtemp(prefix=f"bench-index-{n}-"))
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None)
    products = replicate(list(read_products("bench", fixture_path())), n)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    engines = open_engines(settings)
    sync = IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder(), batch_size=512)
    get_text_embedder().embed(["warm-up"])

    started = time.perf_counter()
    catalog.upsert_products(products)
    first = sync.run_until_idle()
    first_s = time.perf_counter() - started

    started = time.perf_counter()
    summary = catalog.upsert_products(products)
    second = sync.run_until_idle()
    second_s = time.perf_counter() - started

    started = time.perf_counter()
    rebuilt = sync.rebuild()
    rebuild_s = time.perf_counter() - started
    indexed = (engines.lexical.count("bench"), engines.vector.count("bench"))
    engines.close()
    catalog.close()
    return {"products": n, "first_s": round(first_s, 2), "first_per_s": round(n / first_s, 1),
            "first_embedded": first.embedded, "second_s": round(second_s, 2),
            "second_unchanged": summary.unchanged, "second_embedded": second.embedded,
            "rebuild_s": round(rebuild_s, 2), "rebuild_per_s": round(n / rebuild_s, 1),
            "rebuild_embedded": rebuilt.embedded, "indexed": list(indexed),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="199,10000")
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_scale(args.one)))
        return
    rows = []
    for n in (int(x) for x in args.scales.split(",")):
        out = subprocess.run([sys.executable, __file__, "--one", str(n)], capture_output=True, text=True, check=True)
        rows.append(json.loads(out.stdout.strip().splitlines()[-1]))
    columns = ["products", "first_s", "first_per_s", "first_embedded", "second_s", "second_embedded",
               "rebuild_s", "rebuild_per_s", "rebuild_embedded", "peak_rss_mb"]
    print_table("indexing (store -> embeddings -> tantivy + Qdrant Edge), SQLite store", rows, columns)
    write_json("indexing", {"benchmark": "indexing", "rows": rows})


if __name__ == "__main__":
    main()
