"""Searches run at most SEARCH_CONCURRENCY at once per process; the others wait their turn and all answer."""

from __future__ import annotations

import threading
import time

import anyio
import httpx
import pytest

from search_api.app import create_app
from tests.keys import TEST_RATE, bearer, store_key


class _Counting:
    """The real search service, counting how many of its searches run at once."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.running = 0
        self.most = 0
        self._lock = threading.Lock()

    def search(self, store, request):
        with self._lock:
            self.running += 1
            self.most = max(self.most, self.running)
        try:
            time.sleep(0.02)  # long enough for the other requests to arrive meanwhile
            return self.inner.search(store, request)
        finally:
            with self._lock:
                self.running -= 1

    def __getattr__(self, name):
        return getattr(self.inner, name)


@pytest.mark.parametrize("allowed", [1, 3])
def test_concurrent_searches_take_turns_and_all_answer(demo_runtime, allowed: int) -> None:
    app = create_app(runtime=demo_runtime)
    counting = _Counting(demo_runtime.search)
    headers = bearer(store_key(demo_runtime.catalog, "demo", "search", rate=TEST_RATE))
    settings = demo_runtime.settings.model_copy(update={"search_concurrency": allowed})
    original, original_settings = demo_runtime.search, demo_runtime.settings

    async def main() -> list[int]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers) as client:
            statuses: list[int] = []

            async def one(q: str) -> None:
                statuses.append((await client.get("/v1/stores/demo/search", params={"q": q})).status_code)

            async with anyio.create_task_group() as group:
                for q in ["hoodie", "black pants", "water bottle", "yoga mat", "socks", "red jacket"] * 2:
                    group.start_soon(one, q)
            return statuses

    demo_runtime.search, demo_runtime.settings = counting, settings
    try:
        app.state.runtime = demo_runtime  # ASGITransport runs no lifespan
        statuses = anyio.run(main)
    finally:
        demo_runtime.search, demo_runtime.settings = original, original_settings
    assert statuses == [200] * 12
    assert counting.most == allowed
