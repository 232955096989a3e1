"""What a store's trained heads add to a listing-time suggestion, in process: the suggest benchmark's listing
(one ~1000 px fixture photo of a hoodie and its title) extracted by the local extractor with and without the
store's heads, alternating request by request so that both see the same machine load. Wall time and the
process's CPU time per request, p50/p95 (one extractor, its store head set or not, so that nothing else
differs); the difference is what the heads cost a suggestion, and the heads' own calls are timed alone too. Writes
results/<out>.json (default heads_latency).

    .venv/bin/python benchmarks/bench_heads_latency.py --heads CATALOG_HOME/models/stores/demo [--requests 300]

`--heads` is a store's models dir (or one version folder) saved by `catalog train`. The same script runs
against an older checkout (PYTHONPATH=that checkout) with that checkout's heads, for a before/after.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).parent))
from bench_suggest import listing  # noqa: E402
from common import percentile, write_json  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--heads", type=Path, required=True)
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--out", default="heads_latency")
    args = parser.parse_args()
    from extractor.images import decode_image
    from extractor.local import LocalExtractor
    from extractor.local.train import load_heads
    from extractor.models import ProductInput

    image, title, source, size = listing()
    # One extractor, its store head set or not request by request: everything but the heads is the same.
    trained = LocalExtractor()
    heads = load_heads(args.heads)
    product = ProductInput(title=title, images=[image])
    runs = {"plain": None, "heads": heads}
    wall: dict[str, list[float]] = {k: [] for k in runs}
    cpu: dict[str, list[float]] = {k: [] for k in runs}
    answers = None
    for i in range(args.warmup + args.requests):
        for name, head in (runs.items() if i % 2 else reversed(list(runs.items()))):
            trained.store_head = head
            extractor = trained
            w0, c0 = time.perf_counter(), time.process_time()
            decode_image(image, max_pixels=40_000_000, draft_size=(448, 448))  # the route's validation
            extraction = extractor.extract([product])[0]
            w1, c1 = time.perf_counter(), time.process_time()
            if i >= args.warmup:
                wall[name].append((w1 - w0) * 1000)
                cpu[name].append((c1 - c0) * 1000)
            if name == "heads":
                answers = [(a.handle, v.value, v.confidence, getattr(v, "precision", None))
                           for a in extraction.attributes for v in a.values if v.source != "merchant"]

    # The heads' own work per listing, timed alone (thread CPU time, so other processes' load counts little):
    # the category head's scores, then the attribute heads' answers (or the older per-value heads').
    from extractor.local.category import get_category_index
    from extractor.local.extractor import decode_photo
    from extractor.local.imagenet import get_model

    trained.store_head = heads
    mean = get_model().run([decode_photo(image)[0]])[0].features
    vector = get_category_index(trained.taxonomy, trained.models_dir).embed_queries([title])[0]
    try:
        from extractor.local.features import HeadInput

        def heads_call() -> None:
            heads.category_scores(vector, mean)
            heads.value_hits(trained.taxonomy, HeadInput(vector, mean, mean, "aa-1-13-13", "title"))
    except ImportError:  # an older checkout: per-value heads on (text vector, mean image feature)
        def heads_call() -> None:
            heads.category_scores(vector, mean)
            heads.value_hits(trained.taxonomy, vector, mean)
    alone = []
    for _ in range(2000):
        t0 = time.thread_time()
        heads_call()
        alone.append((time.thread_time() - t0) * 1000)
    alone = alone[200:]

    def row(values: list[float]) -> dict:
        return {"p50_ms": round(percentile(values, 50), 2), "p95_ms": round(percentile(values, 95), 2),
                "mean_ms": round(sum(values) / len(values), 2)}

    result = {name: {"wall": row(wall[name]), "cpu": row(cpu[name])} for name in runs}
    delta = {kind: {q: round(result["heads"][kind][q] - result["plain"][kind][q], 2) for q in ("p50_ms", "p95_ms")}
             for kind in ("wall", "cpu")}
    print(f"suggest extraction in process, {args.requests} requests each, alternating; heads {args.heads}")
    for name in runs:
        print(f"  {name:<6} wall p50 {result[name]['wall']['p50_ms']:>8} p95 {result[name]['wall']['p95_ms']:>8}   "
              f"cpu p50 {result[name]['cpu']['p50_ms']:>8} p95 {result[name]['cpu']['p95_ms']:>8}")
    print(f"  heads - plain: wall {delta['wall']}, cpu {delta['cpu']}")
    print(f"  the heads' calls alone (thread CPU): p50 {percentile(alone, 50):.3f} ms, "
          f"p95 {percentile(alone, 95):.3f} ms")
    print(f"  answers with heads: {answers}")
    write_json(args.out, {"benchmark": "heads_latency", "heads": str(args.heads),
                          "heads_format": heads.meta.get("format"), "title": title,
                          "image": {"source": str(Path(source).relative_to(ROOT)), "size": list(size)},
                          "requests": args.requests, "runs": result, "heads_minus_plain": delta,
                          "heads_calls_alone_ms": {"p50": round(percentile(alone, 50), 3),
                                                   "p95": round(percentile(alone, 95), 3)},
                          "answers_with_heads": answers})


if __name__ == "__main__":
    main()
