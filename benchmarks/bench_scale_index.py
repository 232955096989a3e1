"""Indexing a generated catalog (benchmarks/generate_catalog.py) into a fresh CATALOG_HOME, every store:
import, then extraction with the local backend (text only: the generated products have no photos), the
product embeddings, both embedded engines and the store. Prints and writes results/scale_index_<label>.json:
products/s (wall), products per CPU-second (user + system of this process, which is what a loaded machine
cannot take away), peak RSS and the load average.

    .venv/bin/python benchmarks/generate_catalog.py --products 10000 --seed 1 --out /tmp/c10k.jsonl --split-stores
    .venv/bin/python benchmarks/bench_scale_index.py --catalog /tmp/c10k.jsonl --home /tmp/h10k --label 10k

`--no-extract` indexes the merchant data alone (store -> documents -> embeddings -> engines), the path a
rebuild or a catalog without the local extractor takes. `--upsert N` then changes N products of the biggest
store (new titles) and measures until they are searchable, and how many vectors that computed.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import embedding_rows, print_table, write_json  # noqa: E402


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def store_files(catalog: Path) -> dict[str, Path]:
    """The per-store files `generate_catalog.py --split-stores` wrote, biggest first."""
    files = {p.stem[len(catalog.stem) + 1:]: p for p in catalog.parent.glob(f"{catalog.stem}-*.jsonl")}
    if not files:
        raise SystemExit(f"no {catalog.stem}-<store>.jsonl beside {catalog}: generate with --split-stores")
    return dict(sorted(files.items(), key=lambda kv: -kv[1].stat().st_size))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--home", type=Path, required=True, help="a new, empty CATALOG_HOME")
    parser.add_argument("--label", default="")
    parser.add_argument("--no-extract", action="store_true")
    parser.add_argument("--upsert", type=int, default=0)
    parser.add_argument("--upsert-only", action="store_true", help="only the upsert, on an indexed --home")
    args = parser.parse_args()
    if args.upsert_only:
        settings = _settings(args.home)
        row = upsert_changed(settings, next(iter(store_files(args.catalog))), args.upsert or 1000, args.no_extract)
        print_table("incremental upsert", [row], list(row))
        write_json(f"scale_upsert_{args.label}", {"benchmark": "scale_upsert", "catalog": str(args.catalog),
                                                  "rows": [row]})
        return
    if args.home.exists() and any(args.home.iterdir()):
        raise SystemExit(f"{args.home} is not empty")

    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.importers import import_path
    from indexer.runtime import index_store, open_catalog
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    settings = _settings(args.home)
    files = store_files(args.catalog)
    load_before = os.getloadavg()
    get_text_embedder().embed(["warm-up"])  # model load is start-up, not indexing
    passes0 = getattr(get_text_embedder(), "computed", None)
    started, cpu0 = time.perf_counter(), cpu_s()
    imported = 0
    with open_catalog(settings) as catalog:
        for store, path in files.items():
            imported += import_path(catalog, store, path).imported
    import_s, import_cpu = time.perf_counter() - started, cpu_s() - cpu0
    t, c = time.perf_counter(), cpu_s()
    stores = {}
    if args.no_extract:
        with open_catalog(settings) as catalog:
            engines = open_engines(settings)
            try:
                sync = IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder(), batch_size=512)
                report = sync.run_until_idle()
                stores = {s: engines.lexical.count(s) for s in files}
                embedded = report.embedded
            finally:
                engines.close()
    else:
        embedded = 0
        for store in files:
            summary = index_store(store, settings=settings)
            stores[store] = summary["indexed"]
            embedded += summary.get("embedded", 0)
    index_s, index_cpu = time.perf_counter() - t, cpu_s() - c
    total_s, total_cpu = time.perf_counter() - started, cpu_s() - cpu0
    row = {"products": imported, "extract": not args.no_extract, "import_s": round(import_s, 1),
           "index_s": round(index_s, 1), "total_s": round(total_s, 1),
           "per_s": round(imported / total_s, 1), "per_cpu_s": round(imported / total_cpu, 1),
           "import_per_cpu_s": round(imported / import_cpu, 1), "index_per_cpu_s": round(imported / index_cpu, 1),
           "indexed": sum(stores.values()),
           # Texts run through MiniLM (extractor and product vectors together); None on an embedder that does
           # not count them (before the shared-vector change).
           "model_passes": None if passes0 is None else get_text_embedder().computed - passes0,
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
           "load_avg_before": round(load_before[0], 2), "load_avg_after": round(os.getloadavg()[0], 2)}
    rows = [row]
    if args.upsert:
        rows.append(upsert_changed(settings, next(iter(files)), args.upsert, args.no_extract))
    columns = ["products", "extract", "import_s", "index_s", "total_s", "per_s", "per_cpu_s", "index_per_cpu_s",
               "model_passes", "peak_rss_mb", "load_avg_before", "load_avg_after"]
    print_table(f"indexing {args.catalog.name} end to end ({len(files)} stores), SQLite store, embedded engines",
                rows[:1], columns)
    if args.upsert:
        print_table("incremental upsert", rows[1:], list(rows[1]))
    write_json(f"scale_index_{args.label or imported}", {"benchmark": "scale_index", "catalog": str(args.catalog),
                                                         "stores": stores, "embedded": embedded, "rows": rows})


def _settings(home: Path):
    from indexer.settings import Settings

    return Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                    ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local")


def upsert_changed(settings, store: str, n: int, no_extract: bool = False) -> dict:
    """Change `n` products (a new word in the title), extract (unless `no_extract`) and index them; time until
    the engines have them, and the vectors computed (only the changed ones must be)."""
    from indexer.runtime import index_store, open_catalog

    before = embedding_rows(settings.catalog_home)
    with open_catalog(settings) as catalog:
        ids = catalog.product_ids_page(store, after=None, limit=n)
        changed = [p.model_copy(update={"title": f"{p.title} Refresh"})
                   for p in catalog.get_products(store, ids).values()]
        started = time.perf_counter()
        catalog.upsert_products(changed)
    if no_extract:
        summary = {"extracted": 0, **_sync_only(settings)}
    else:
        summary = index_store(store, settings=settings)
    seconds = time.perf_counter() - started
    return {"store": store, "changed": len(changed), "searchable_after_s": round(seconds, 1),
            "extracted": summary["extracted"], "upserted": summary.get("upserted"),
            "vectors_computed": embedding_rows(settings.catalog_home) - before,
            "load_avg": round(os.getloadavg()[0], 2)}


def _sync_only(settings) -> dict:
    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.runtime import open_catalog
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    with open_catalog(settings) as catalog:
        engines = open_engines(settings)
        try:
            report = IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder()).run_until_idle()
        finally:
            engines.close()
    return {"upserted": report.upserted}


if __name__ == "__main__":
    main()
