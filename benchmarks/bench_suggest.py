"""Listing-time suggest over HTTP: POST /v1/stores/demo/suggest to a `catalog serve` process (local extractor)
with one ~1000 px JPEG photo (a fixture photo upscaled) and a title, sequential requests after a warm-up.
Prints p50/p95/p99 and requests/s; writes results/suggest.json. Target: p95 <= 200 ms on 2 cores.

    .venv/bin/python benchmarks/bench_suggest.py [--requests 200] [--warmup 20] [--profile] [--train]
        [--out suggest]

The store must exist (suggest answers 404 for an unknown store) but need not be indexed: the fixture is
imported as store `demo`, and the run waits until the server has applied its change log so that background
indexing does not share the cores with the measurement. `--profile` runs a cProfile of the route's work
(decode + extraction) in this process after the HTTP run and prints the top functions. `--train` runs
`catalog train --store demo` before serving, so that suggest answers with the store's trained heads (the
path a store with labels takes); `--out` names the results file (default `suggest`, `suggest_heads` with
`--train`).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import bench_key, free_port, print_table, summarize, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CATALOG = str(Path(sys.executable).with_name("catalog"))
LONG_SIDE = 1000
PRODUCT = "MH01"  # a hoodie: a typical apparel listing


def listing() -> tuple[bytes, str, str, tuple[int, int]]:
    """(JPEG bytes, title, source image, size): the product's main photo upscaled to 1000 px on the long side."""
    from PIL import Image

    sys.path.insert(0, str(ROOT))
    from indexer.importers import fixture_path, read_products

    products = list(read_products("demo", fixture_path()))
    product = next((p for p in products if p.product_id.upper().startswith(PRODUCT) and p.images), None)
    product = product or next(p for p in products if p.images)
    source = str(product.images[0])
    image = Image.open(source).convert("RGB")
    scale = LONG_SIDE / max(image.size)
    image = image.resize((round(image.width * scale), round(image.height * scale)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90)
    return out.getvalue(), product.title, source, image.size


def wait_ready(base: str, timeout: float = 180) -> None:
    """Ready, and the background sync has applied the imported products (no indexing during the run)."""
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"{base}/readyz", timeout=2).json()
            if body.get("ready") and body["checks"].get("sync_pending") == 0:
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.3)
    raise SystemExit("catalog serve did not become ready")


def post(client, image: bytes, title: str) -> tuple[float, int, dict]:
    started = time.perf_counter()
    response = client.post("/v1/stores/demo/suggest", data={"title": title},
                           files=[("images", ("photo.jpg", image, "image/jpeg"))])
    elapsed = (time.perf_counter() - started) * 1000
    body = response.json() if response.status_code == 200 else {}
    return elapsed, response.status_code, body


def profile(image: bytes, title: str) -> None:
    """cProfile of what the route does per request (validation decode + local extraction), in process."""
    import cProfile
    import pstats

    from extractor.images import MAX_BYTES, decode_image
    from extractor.local import LocalExtractor
    from extractor.models import ProductInput
    from search_api.routes.suggest import DRAFT, MAX_PIXELS

    assert len(image) <= MAX_BYTES
    extractor = LocalExtractor()

    def once() -> None:
        decode_image(image, max_pixels=MAX_PIXELS, draft_size=DRAFT)
        extractor.extract([ProductInput(title=title, images=[image])])

    for _ in range(10):
        once()
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(30):
        once()
    profiler.disable()
    print("\ncProfile of 30 in-process suggest extractions (top 25 by cumulative time)")
    pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--train", action="store_true", help="catalog train --store demo before serving")
    parser.add_argument("--out", default=None, help="results file name (default suggest / suggest_heads)")
    args = parser.parse_args()
    image, title, source, size = listing()
    home = Path(tempfile.mkdtemp(prefix="bench-suggest-"))
    env = {**os.environ, "CATALOG_HOME": str(home), "EXTRACTOR_BACKEND": "local"}
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "ELASTICSEARCH_URL", "QDRANT_URL"):
        env.pop(name, None)
    subprocess.run([CATALOG, "import", "--store", "demo", str(ROOT / "indexer/data/fixture")], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    trained = None
    if args.train:
        started = time.perf_counter()
        subprocess.run([CATALOG, "train", "--store", "demo"], env=env, check=True, stdout=subprocess.DEVNULL)
        trained = round(time.perf_counter() - started, 1)
        print(f"catalog train --store demo: {trained} s")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    headers = {"Authorization": f"Bearer {bench_key(env, 'demo', 'suggest')}"}
    server = subprocess.Popen([CATALOG, "serve", "--port", str(port)], env=env, stderr=subprocess.DEVNULL)
    try:
        import httpx

        wait_ready(base)
        with httpx.Client(base_url=base, timeout=300, headers=headers) as client:
            for _ in range(args.warmup):  # loads the models, fills allocator pools
                _, status, body = post(client, image, title)
                if status != 200:
                    raise SystemExit(f"suggest answered {status}")
            load_before = os.getloadavg()
            latencies, server_ms, errors = [], [], 0
            started = time.perf_counter()
            for _ in range(args.requests):
                elapsed, status, body = post(client, image, title)
                latencies.append(elapsed)
                errors += status != 200
                if body:
                    server_ms.append(body["timings_ms"]["total"])
            seconds = time.perf_counter() - started
            load_after = os.getloadavg()
        stages = {k: v for k, v in body.get("timings_ms", {}).items()}
        category = (body.get("category") or {}).get("full_name")
    finally:
        server.terminate()
        server.wait(timeout=20)
    row = {"requests": args.requests, "errors": errors, **summarize(latencies, seconds)}
    server_row = {"requests": len(server_ms), **summarize(server_ms, seconds)}
    row["what"], server_row["what"] = "HTTP round trip", "route (timings_ms.total)"
    columns = ["what", "n", "p50_ms", "p95_ms", "p99_ms", "mean_ms", "per_s"]
    print_table(f"suggest over HTTP, one {size[0]}x{size[1]} JPEG ({len(image) // 1024} KiB) + title, sequential,"
                f" local extractor; load average {load_before[0]:.2f} -> {load_after[0]:.2f}", [row, server_row],
                columns)
    print(f"last response: category {category!r}; stages (ms) {stages}")
    target_met = row["p95_ms"] <= 200
    print(f"target p95 <= 200 ms: {'met' if target_met else 'MISSED'}")
    write_json(args.out or ("suggest_heads" if args.train else "suggest"), {
        "benchmark": "suggest_http", "extractor": "local", "store_heads": args.train, "train_seconds": trained,
        "image": {
        "source": str(Path(source).relative_to(ROOT)), "size": list(size), "bytes": len(image)},
        "title": title, "warmup": args.warmup, "target": "p95 <= 200 ms", "target_met": target_met,
        "loadavg_before": [round(x, 2) for x in load_before], "loadavg_after": [round(x, 2) for x in load_after],
        "http": row, "server_total": server_row, "last_stages_ms": stages, "last_category": category})
    if args.profile:
        profile(image, title)


if __name__ == "__main__":
    main()
