"""Photo download throughput: the indexer's fetcher (indexer/photos) against a local HTTP server on 127.0.0.1
serving the fixture photos (about 600 JPEGs, 12 MB), into a fresh photo cache.

Rounds, each over the same URLs, against a server answering at once and one adding --latency-ms (default
50 ms, a CDN's round trip) to every request:
- cold: empty cache, every photo downloaded, sniffed (decoded) and written to the cache; at the default
  per-host bound (6) and at 16;
- warm: the cache holds fresh entries, so no request is made at all;
- revalidate: the entries have gone stale (the clock moved two days on), so each photo is one conditional
  request answered 304 (the server is http.server's, which honours If-Modified-Since).

    .venv/bin/python benchmarks/bench_image_fetch.py [--photos 600] [--latency-ms 50]

Prints a table and writes results/image_fetch.json. The server (Python's http.server, in its own process)
shares the cores with the fetcher.
"""

from __future__ import annotations

import argparse
import functools
import subprocess
import sys
import tempfile
import time
from collections import Counter
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from common import print_table, write_json  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from indexer.importers import fixture_path  # noqa: E402
from indexer.photos.cache import PhotoCache  # noqa: E402
from indexer.photos.fetch import FetchPolicy, PhotoFetcher  # noqa: E402
from indexer.photos.guard import Allowlist  # noqa: E402

STALE_LATER_S = 2 * 24 * 3600


class Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128  # the default backlog of 5 drops connections when 16 open at once


class QuietHandler(SimpleHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as a CDN would
    disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (40 ms each)
    latency_s = 0.0

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        time.sleep(self.latency_s)  # a CDN's round trip, which concurrency hides
        super().do_GET()

    def log_message(self, *args: object) -> None:
        pass


def serve_forever(root: Path, latency_ms: float) -> None:
    """The server process: prints its port, then serves `root` until killed."""
    handler = type("Handler", (QuietHandler,), {"latency_s": latency_ms / 1000})
    httpd = Server(("127.0.0.1", 0), functools.partial(handler, directory=str(root)))
    print(httpd.server_address[1], flush=True)
    httpd.serve_forever()


def start_server(root: Path, latency_ms: float) -> tuple[subprocess.Popen, int]:
    """A separate process, so the server does not share the fetcher's GIL."""
    process = subprocess.Popen([sys.executable, __file__, "--serve", str(root), "--latency-ms", str(latency_ms)],
                               stdout=subprocess.PIPE, text=True)
    return process, int(process.stdout.readline())


def run_round(name: str, latency_ms: float, fetcher: PhotoFetcher, urls: list[str], sizes: dict[str, int]) -> dict:
    started = time.perf_counter()
    results = fetcher.fetch_all(urls)
    seconds = time.perf_counter() - started
    outcomes = Counter(r.outcome for r in results.values())
    downloaded = sum(sizes[url] for url, r in results.items() if r.outcome == "fetched")
    return {"round": name, "latency_ms": latency_ms, "per_host": fetcher.policy.per_host, "photos": len(urls),
            "seconds": round(seconds, 3),
            "photos_per_s": round(len(urls) / seconds, 1), "mb_per_s": round(downloaded / seconds / 1e6, 1),
            **{k: outcomes.get(k, 0) for k in ("fetched", "cached", "revalidated", "failed")}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=int, default=600)
    parser.add_argument("--latency-ms", type=float, default=50, help="added per request in the second server")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve_forever(args.serve, args.latency_ms)
        return

    root = fixture_path() / "images"
    files = sorted(root.rglob("*.jpg"))[: args.photos]
    allow = Allowlist.parse("127.0.0.1")
    rows = []
    for latency_ms in (0.0, args.latency_ms):
        server, port = start_server(root, latency_ms)
        urls = [f"http://127.0.0.1:{port}/{f.relative_to(root).as_posix()}" for f in files]
        sizes = {url: f.stat().st_size for url, f in zip(urls, files, strict=True)}
        try:
            for per_host in (6, 16):
                with tempfile.TemporaryDirectory(prefix="bench-photos-") as tmp:
                    cache = PhotoCache(Path(tmp))
                    fetcher = PhotoFetcher(cache, allow, FetchPolicy(per_host=per_host, concurrency=32))
                    rows.append(run_round("cold", latency_ms, fetcher, urls, sizes))
                    if per_host == 6:
                        rows.append(run_round("warm", latency_ms, fetcher, urls, sizes))
                        later = PhotoFetcher(cache, allow, fetcher.policy, clock=lambda: time.time() + STALE_LATER_S)
                        rows.append(run_round("revalidate", latency_ms, later, urls, sizes))
        finally:
            server.terminate()
            server.wait()
    columns = ["round", "latency_ms", "per_host", "photos", "seconds", "photos_per_s", "mb_per_s", "fetched", "cached",
               "revalidated", "failed"]
    print_table(f"photo fetch from a local server ({len(urls)} fixture photos, "
                f"{sum(sizes.values()) / 1e6:.1f} MB)", rows, columns)
    write_json("image_fetch", {"photos": len(urls), "bytes": sum(sizes.values()), "rounds": rows})


if __name__ == "__main__":
    main()
