"""Where a search's time goes on a large indexed store, in process (no HTTP): the shopper queries once as a
warm-up, then once more under pyinstrument. Prints p50/p95 and the mean of each stage the service times
(`timings_ms`: parse, retrieve, close matches, facets, total) and writes results/scale_profile_<label>.json,
with the profile's call tree as text in results/scale_profile_<label>.txt.

    .venv/bin/python benchmarks/bench_scale_profile.py --home /tmp/h100k --store mega --catalog /tmp/c100k.jsonl \
        --label 100k

The CATALOG_HOME must be indexed (benchmarks/bench_scale_index.py) and not served (this process opens the
embedded engines).
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import RESULTS, percentile, print_table, write_json  # noqa: E402
from shopper_queries import read_store, shopper_queries  # noqa: E402


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--home", type=Path, required=True)
    parser.add_argument("--store", required=True)
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--queries", type=int, default=320)
    args = parser.parse_args()
    from pyinstrument import Profiler

    from indexer.settings import Settings
    from search_api.models import SearchRequest
    from search_api.runtime import build_runtime

    queries = shopper_queries(read_store(args.catalog, args.store), args.queries)
    settings = Settings(CATALOG_HOME=args.home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local")
    runtime = build_runtime(settings)
    try:
        runtime.sync.run_until_idle()
        for q in queries:  # warm-up: query vectors, matchers, the document cache
            runtime.search.search(args.store, SearchRequest(q=q))
        # A commit opens a new searcher, with nothing counted: the measured pass shares counts only between
        # its own distinct queries that read as the same filters (indexer/engines/lexical/searcher_memo.py).
        lexical = runtime.engines.lexical
        lexical.commit()
        profiler = Profiler(interval=0.001)
        latencies, stages = [], {}
        started, cpu0 = time.perf_counter(), cpu_s()
        profiler.start()
        for q in queries:
            t = time.perf_counter()
            response = runtime.search.search(args.store, SearchRequest(q=q))
            latencies.append((time.perf_counter() - t) * 1000)
            for stage, ms in response.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        profiler.stop()
        wall, cpu = time.perf_counter() - started, cpu_s() - cpu0
        memo = lexical.memo_stats() if hasattr(lexical, "memo_stats") else {}
    finally:
        runtime.close()
    row = {"store": args.store, "queries": len(queries), "p50_ms": round(percentile(latencies, 50), 2),
           "p95_ms": round(percentile(latencies, 95), 2), "mean_ms": round(statistics.fmean(latencies), 2),
           "cpu_ms_per_query": round(cpu * 1000 / len(queries), 2), "wall_s": round(wall, 1),
           **{f"mean_{stage}_ms": round(statistics.fmean(v), 2) for stage, v in stages.items()},
           **{f"memo_{k}": v for k, v in memo.items()},
           "load_avg": round(os.getloadavg()[0], 2)}
    print_table(f"in-process search, store {args.store} of {args.catalog.name}", [row], list(row))
    slowest = sorted(zip(latencies, queries, strict=True), reverse=True)[:max(1, len(queries) // 20)]
    slowest = [{"query": q, "ms": round(ms, 2)} for ms, q in slowest]  # the queries at and above the p95
    print_table("the slowest 5 %", slowest, ["query", "ms"])
    text = profiler.output_text(unicode=False, color=False, show_all=False)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"scale_profile_{args.label}.txt").write_text(text)
    print(text[:6000])
    write_json(f"scale_profile_{args.label}", {"benchmark": "scale_profile", "catalog": str(args.catalog),
                                               "home": str(args.home), "rows": [row],
                                               "slowest": slowest})


if __name__ == "__main__":
    main()
