"""What a request pays for its key: the `require("search")` dependency (search_api.auth) alone, in process,
over a real SQLite catalog store: a store key found in the 2 s key cache, the same key read from the store
on every call (a cache miss: what the first request after the TTL pays), public search (the cached flag),
and CATALOG_ADMIN_KEY. Each includes the rate-limit charge (in-process buckets, no Redis). Prints p50/p95
per call in microseconds and calls/s; writes results/auth.json.

    .venv/bin/python benchmarks/bench_auth.py [--calls 5000]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import BENCH_RATE, percentile, print_table, write_json  # noqa: E402


def request_for(app, store: str):
    from starlette.requests import Request

    scope = {"type": "http", "method": "GET", "path": f"/v1/stores/{store}/search", "headers": [],
             "query_string": b"", "path_params": {"store": store}, "client": ("127.0.0.1", 5000), "app": app}
    return Request(scope)


async def timed(dependency, app, store: str, settings, credentials, calls: int) -> list[float]:
    out = []
    for _ in range(calls):
        request = request_for(app, store)
        started = time.perf_counter()
        await dependency(request, settings, credentials)
        out.append((time.perf_counter() - started) * 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    args = parser.parse_args()
    from fastapi.security import HTTPAuthorizationCredentials

    from indexer.models import Product
    from indexer.settings import Settings
    from indexer.store import CatalogStore
    from search_api.auth import KeyBook, require
    from search_api.keys import issue_key

    home = Path(tempfile.mkdtemp(prefix="bench-auth-"))
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, REDIS_URL=None, CATALOG_ADMIN_KEY="bench-admin-key",
                        RATE_LIMIT_PUBLIC=BENCH_RATE, RATE_LIMIT_DEFAULT=BENCH_RATE)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([Product(store="shop", product_id="p", title="Tee"),
                             Product(store="open", product_id="p", title="Tee")])
    catalog.set_public_search("open", True)
    key = issue_key(catalog, store="shop", scopes=["search"], rate=BENCH_RATE).key
    dependency = require("search")

    def app(book: KeyBook):
        return SimpleNamespace(state=SimpleNamespace(runtime=SimpleNamespace(catalog=catalog, settings=settings),
                                                     key_book=book))

    bearer = lambda k: HTTPAuthorizationCredentials(scheme="Bearer", credentials=k)  # noqa: E731
    cached, uncached = app(KeyBook()), app(KeyBook(ttl_s=0))
    cases = [("store key, cached", cached, "shop", bearer(key)),
             ("store key, read each call", uncached, "shop", bearer(key)),
             ("public search, cached flag", cached, "open", None),
             ("CATALOG_ADMIN_KEY", cached, "shop", bearer("bench-admin-key"))]
    rows = []
    load_before = os.getloadavg()[0]
    for name, target, store, credentials in cases:
        asyncio.run(timed(dependency, target, store, settings, credentials, 50))  # warm
        started = time.perf_counter()
        micros = asyncio.run(timed(dependency, target, store, settings, credentials, args.calls))
        elapsed = time.perf_counter() - started
        rows.append({"case": name, "n": len(micros), "p50_us": round(percentile(micros, 50), 1),
                     "p95_us": round(percentile(micros, 95), 1), "per_s": round(len(micros) / elapsed)})
    catalog.close()
    load = {"loadavg_1m_before": round(load_before, 2), "loadavg_1m_after": round(os.getloadavg()[0], 2)}
    print_table(f"require('search') per call, {args.calls} calls each, SQLite catalog store; load {load}", rows,
                ["case", "n", "p50_us", "p95_us", "per_s"])
    write_json("auth", {"benchmark": "auth_dependency", "calls": args.calls, "rows": rows, **load})


if __name__ == "__main__":
    main()
