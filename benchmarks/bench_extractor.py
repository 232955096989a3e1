"""Local extractor speed: batch of 64 (one image each, no OCR) and single-product latency incl. JPEG decode.

Run: python benchmarks/bench_extractor.py [--rounds N] [--photos P]. Prints a table, writes
benchmarks/results/extractor.json (with --photos P > 1, the products have P photos each, one per colour
variant, as a catalog with variant photos has: benchmarks/results/extractor_photos<P>.json).
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from extractor.local import LocalExtractor
from extractor.models import ProductInput

TITLES = ["Men's black cotton hoodie", "Women's running shorts", "Leather backpack", "Yoga pants",
          "Graphic t-shirt", "Steel water bottle", "Digital sports watch", "Duffel bag"]


def _photo(i: int, side: int = 1000) -> bytes:
    rng = np.random.default_rng(i)
    image = Image.new("RGB", (side, int(side * 1.25)), (248, 248, 248))
    draw = ImageDraw.Draw(image)
    color = tuple(int(c) for c in rng.integers(0, 255, 3))
    draw.rectangle([side // 5, side // 5, side * 4 // 5, side * 11 // 10], fill=color)
    noise = rng.integers(0, 25, (image.size[1], image.size[0], 3), dtype=np.uint8)
    image = Image.fromarray(np.clip(np.asarray(image, dtype=np.int16) - noise, 0, 255).astype(np.uint8))
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single", type=int, default=40)
    parser.add_argument("--photos", type=int, default=1, help="photos per product (distinct colours)")
    args = parser.parse_args()
    photos = [_photo(i) for i in range(64 * args.photos)]
    products = [ProductInput(product_id=str(i), title=TITLES[i % len(TITLES)],
                             images=photos[i * args.photos:(i + 1) * args.photos]) for i in range(64)]
    extractor = LocalExtractor()
    extractor.extract(products[:4])  # load models, build caches
    batch_times = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        extractor.extract(products)
        batch_times.append(time.perf_counter() - t0)
    per_product_ms = [t * 1000 / 64 for t in batch_times]
    single_ms = []
    for i in range(args.single):
        t0 = time.perf_counter()
        extractor.extract([products[i % 64]])
        single_ms.append((time.perf_counter() - t0) * 1000)
    result = {
        "benchmark": "extractor_local", "machine": platform.processor() or platform.machine(),
        "batch_size": 64, "photos_per_product": args.photos, "ocr": False, "image_side_px": 1000,
        "batch_products_per_s": round(64 / float(np.median(batch_times)), 2),
        "batch_per_product_ms_p95": round(float(np.percentile(per_product_ms, 95)), 2),
        "single_ms_p50": round(float(np.percentile(single_ms, 50)), 2),
        "single_ms_p95": round(float(np.percentile(single_ms, 95)), 2),
        "targets": {"batch_products_per_s": ">= 25", "single_ms_p95": "<= 150"},
    }
    print(f"{'metric':34} {'value':>10}")
    for key in ("batch_products_per_s", "batch_per_product_ms_p95", "single_ms_p50", "single_ms_p95"):
        print(f"{key:34} {result[key]:>10}")
    name = "extractor.json" if args.photos == 1 else f"extractor_photos{args.photos}.json"
    out = Path(__file__).parent / "results" / name
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
