"""Query parsing speed: p50/p95/max per query over a shopper query list, on a Luma-like store vocabulary.

Run: .venv/bin/python benchmarks/bench_query_parse.py   (writes benchmarks/results/query_parse.json)
"""

from __future__ import annotations

import json
import platform
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "unit" / "search_api" / "query"))

from vocab_fixture import store_vocabulary  # noqa: E402

from search_api.query.parse import parse_query  # noqa: E402
from taxonomy import Taxonomy  # noqa: E402

QUERIES = [
    "black hoodie for men under $60, not cotton",
    "cheapest yoga pants",
    "$20-$40 water bottle",
    "womens running shorts size M",
    "anything but red",
    "duffel bag",
    "show me grey mens tees",
    "navy blue women's running shorts",
    "jacket without a hood",
    "no black or blue",
    "non-cotton tank",
    "I want a balck hoodie",
    "between 20 and 40 dollars",
    "most expensive watch",
    "newest jackets",
    "organic cotton tee",
    "size 32 pants",
    "XL hoodie",
    "Luma backpack",
    "waterproof sneakers",
    "full zip hoodie with pockets",
    "red or blue hoodie",
    "lavender tank top for women under 30",
    "something warm for hiking in the rain",
    '"hoodie" : * ( AND',
    ("black hoodie " * 400),
]
ROUNDS = 200


def main() -> None:
    taxonomy = Taxonomy.load()
    vocab = store_vocabulary()
    t0 = time.perf_counter()
    parse_query("warm up", vocab, taxonomy)
    compile_ms = (time.perf_counter() - t0) * 1000
    per_query: dict[str, list[float]] = {q: [] for q in QUERIES}
    all_ms: list[float] = []
    for _ in range(ROUNDS):
        for q in QUERIES:
            t = time.perf_counter()
            parse_query(q, vocab, taxonomy)
            ms = (time.perf_counter() - t) * 1000
            per_query[q].append(ms)
            all_ms.append(ms)

    def pct(xs: list[float], p: float) -> float:
        xs = sorted(xs)
        return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

    rows = [
        {
            "query": q[:48],
            "p50_ms": round(statistics.median(v), 4),
            "p95_ms": round(pct(v, 95), 4),
            "max_ms": round(max(v), 4),
        }
        for q, v in per_query.items()
    ]
    overall = {
        "parses": len(all_ms),
        "p50_ms": round(statistics.median(all_ms), 4),
        "p95_ms": round(pct(all_ms, 95), 4),
        "p99_ms": round(pct(all_ms, 99), 4),
        "max_ms": round(max(all_ms), 4),
        "first_parse_with_compile_ms": round(compile_ms, 2),
    }
    print(f"{'query':50} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8}")
    for r in rows:
        print(f"{r['query']:50} {r['p50_ms']:8.3f} {r['p95_ms']:8.3f} {r['max_ms']:8.3f}")
    print(
        f"{'ALL (' + str(overall['parses']) + ' parses)':50} {overall['p50_ms']:8.3f} "
        f"{overall['p95_ms']:8.3f} "
        f"{overall['max_ms']:8.3f}"
    )
    print(
        f"first parse incl. compiling the store vocabulary: {overall['first_parse_with_compile_ms']:.1f} ms"
    )
    out = ROOT / "benchmarks" / "results" / "query_parse.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps(
            {
                "benchmark": "query_parse",
                "python": platform.python_version(),
                "machine": platform.machine(),
                "rounds": ROUNDS,
                "overall": overall,
                "queries": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
