"""Taxonomy performance: cold load, find_values, search_categories.

Run: python benchmarks/bench_taxonomy.py [--runs 2000]
Prints a table and writes benchmarks/results/taxonomy.json.
Targets: cold load <= 300 ms and RSS <= 150 MB; find_values p95 < 1 ms on a 60-word description;
search_categories p95 < 5 ms.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "taxonomy.json"

# Runs in a fresh interpreter so nothing is imported or cached yet; RSS comes from /proc (VmHWM is the
# peak resident set), falling back to getrusage where /proc is missing.
_COLD = r"""
import json, resource, time
t0 = time.perf_counter()
from taxonomy import Taxonomy
tax = Taxonomy.load()
elapsed = time.perf_counter() - t0
rss = None
try:
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            rss = int(line.split()[1]) / 1024
except OSError:
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"load_ms": elapsed * 1000, "rss_mb": rss, "categories": len(tax.categories)}))
"""

DESCRIPTION = (
    "Men's navy blue crew neck t-shirt made from soft organic cotton with a relaxed fit. This short "
    "sleeve tee features grey contrast stripes, a tagless collar and moisture wicking fabric that keeps "
    "you dry during running or yoga. Machine washable. Available in size XL and other sizes, in black, "
    "white and heather grey. Pair it with slim fit jeans or joggers for an easy everyday look."
)

QUERIES = [
    "running shoes", "t-shirt", "mens hoodie", "black cotton tee for women", "yoga pants",
    "Overnight Duffle", "stainless steel water bottle 24 oz", "smart watch with heart rate monitor",
    "kids rain jacket", "leather wallet", "Push It Messenger Bag", "sports bra high impact",
]  # fmt: skip


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)

    def pick(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {
        "p50_ms": pick(0.50),
        "p95_ms": pick(0.95),
        "p99_ms": pick(0.99),
        "mean_ms": statistics.fmean(ordered),
    }


def cold_load(repeats: int) -> dict[str, float]:
    runs = []
    for _ in range(repeats):
        out = subprocess.run(
            [sys.executable, "-c", _COLD], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout
        runs.append(json.loads(out.strip().splitlines()[-1]))
    return {
        "load_ms_median": statistics.median(r["load_ms"] for r in runs),
        "load_ms_max": max(r["load_ms"] for r in runs),
        "rss_mb_max": max(r["rss_mb"] for r in runs),
        "repeats": repeats,
    }


def timed(fn, runs: int) -> list[float]:
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return samples


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--cold-repeats", type=int, default=5)
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT))
    from taxonomy import Taxonomy

    cold = cold_load(args.cold_repeats)
    tax = Taxonomy.load()

    t = time.perf_counter()
    found = tax.find_values(DESCRIPTION)
    fv_build_ms = (time.perf_counter() - t) * 1000
    fv = percentiles(timed(lambda: tax.find_values(DESCRIPTION), args.runs))

    t = time.perf_counter()
    tax.search_categories(QUERIES[0])
    sc_build_ms = (time.perf_counter() - t) * 1000
    i = iter(range(10**9))
    sc = percentiles(timed(lambda: tax.search_categories(QUERIES[next(i) % len(QUERIES)]), args.runs))

    t = time.perf_counter()
    for cid in list(tax.categories)[:500]:
        tax.json_schema(cid)
    schema_ms = (time.perf_counter() - t) * 1000 / 500

    result = {
        "python": platform.python_version(),
        "machine": platform.machine(),
        "cold_load": cold,
        "find_values": {**fv, "first_call_ms": fv_build_ms, "words": len(DESCRIPTION.split()),
                        "values_found": len(found), "runs": args.runs},
        "search_categories": {**sc, "first_call_ms": sc_build_ms, "runs": args.runs},
        "json_schema_uncached_ms_mean": schema_ms,
        "targets": {"load_ms": 300, "rss_mb": 150, "find_values_p95_ms": 1.0, "search_p95_ms": 5.0},
    }  # fmt: skip
    rows = [
        ("cold Taxonomy.load() median", f"{cold['load_ms_median']:.1f} ms", "<= 300 ms"),
        ("cold load peak RSS", f"{cold['rss_mb_max']:.1f} MB", "<= 150 MB"),
        ("find_values first call (builds matcher)", f"{fv_build_ms:.1f} ms", ""),
        (f"find_values {result['find_values']['words']} words p50", f"{fv['p50_ms']:.3f} ms", ""),
        (f"find_values {result['find_values']['words']} words p95", f"{fv['p95_ms']:.3f} ms", "< 1 ms"),
        ("search_categories first call (builds index)", f"{sc_build_ms:.1f} ms", ""),
        ("search_categories p50", f"{sc['p50_ms']:.3f} ms", ""),
        ("search_categories p95", f"{sc['p95_ms']:.3f} ms", "< 5 ms"),
        ("json_schema uncached, per category", f"{schema_ms:.3f} ms", ""),
    ]
    width = max(len(r[0]) for r in rows)
    print(f"{'metric':<{width}}  {'value':>12}  target")
    for name, value, target in rows:
        print(f"{name:<{width}}  {value:>12}  {target}")
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {RESULTS.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
