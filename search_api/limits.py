"""Request limits: how big a body may be, and how many suggest calls and searches run at once in one server
process.

Bodies: `BodyLimit` answers 413 `request_too_large` to a Content-Length over the route's cap without reading
a byte, and counts a chunked body's bytes as they arrive (the read that passes the cap fails with the same
413). The photo routes (suggest, photo uploads) take 8 photos at the 10 MB image cap; every other route
JSON_MAX_BYTES. (Starlette's own `max_body_size` does the same counting, but it replaces the response with
a plain-text 413 and so would break the one error body every route answers with.)

Suggest: each call runs the extractor (hundreds of ms of CPU), so a burst of them would take every core and
every worker thread from search. A gate lets `SUGGEST_CONCURRENCY` calls run at once; a call waits at most
QUEUE_WAIT_S for a place. One key may hold at most half the places, so one merchant's burst leaves room for
the others. Refusals:
- 429 `too_many_concurrent` when this key already holds its share: the caller's own doing, like a rate limit;
- 503 `busy` when every place stays taken by several callers: the server is at capacity, no one caller is
  over a limit, and 503 + Retry-After is HTTP's "overloaded, come back" (429 would blame this caller).
The waiting happens on the event loop before the handler gets a worker thread, so waiting calls hold none.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

import anyio
from fastapi import Depends, HTTPException, Request
from fastapi.responses import JSONResponse

from extractor.images import MAX_BYTES
from search_api.errors import ApiError, error_body

MIB = 1024 * 1024
# A product at every field's maximum (100,000-character description, 2,000 variants, 250 tags) is under it.
JSON_MAX_BYTES = 4 * MIB
# Photo routes: 8 photos (suggest's and the uploads' MAX_IMAGES) at the 10 MB image cap, plus form fields.
UPLOAD_MAX_PHOTOS = 8
UPLOAD_MAX_BYTES = UPLOAD_MAX_PHOTOS * MAX_BYTES + MIB
UPLOAD_PATHS = re.compile(r"^/v1/stores/[^/]+/(suggest|photos)/?$")
QUEUE_WAIT_S = 2.0
RETRY_AFTER_S = "1"


def body_cap(path: str) -> int:
    return UPLOAD_MAX_BYTES if UPLOAD_PATHS.match(path) else JSON_MAX_BYTES


def too_large(cap: int) -> str:
    return f"the request body is over this route's limit of {cap} bytes"


class BodyLimit:
    """ASGI middleware: every request body at most `body_cap(path)` bytes."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        cap = body_cap(scope["path"])
        length = _content_length(scope)
        if length is not None and length > cap:
            response = JSONResponse(error_body("request_too_large", too_large(cap)), status_code=413,
                                    headers={"Connection": "close"})  # the unread body stays on the socket
            return await response(scope, receive, send)
        seen = 0

        async def counted():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > cap:
                    # Raised inside the body read: FastAPI passes an HTTPException on to the error handlers.
                    raise HTTPException(413, too_large(cap))
            return message

        await self.app(scope, counted, send)


def _content_length(scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None  # the server (h11) refuses a malformed one before we see it
    return None


class ConcurrencyGate:
    """At most `slots` holders at once, at most `per_owner` of them with one owner; waits up to `wait_s`."""

    def __init__(self, slots: int, per_owner: int | None = None, wait_s: float = QUEUE_WAIT_S) -> None:
        self.slots = slots
        self.per_owner = per_owner or max(1, slots // 2)
        self.wait_s = wait_s
        self._free = asyncio.Semaphore(slots)
        self._held: Counter[str] = Counter()  # owner -> places held or waited for

    @asynccontextmanager
    async def slot(self, owner: str) -> AsyncIterator[None]:
        if self._held[owner] >= self.per_owner:
            raise ApiError(429, "too_many_concurrent", f"this caller already has {self._held[owner]} suggest "
                                                       f"calls running (at most {self.per_owner} at once)",
                           headers={"Retry-After": RETRY_AFTER_S})
        self._held[owner] += 1
        try:
            try:
                await asyncio.wait_for(self._free.acquire(), self.wait_s)
            except TimeoutError:
                raise ApiError(503, "busy", f"all {self.slots} suggest places stayed taken for {self.wait_s:g} s; "
                                            "retry shortly", headers={"Retry-After": RETRY_AFTER_S}) from None
            try:
                yield
            finally:
                self._free.release()
        finally:
            self._held[owner] -= 1
            if not self._held[owner]:
                del self._held[owner]


def _per_loop(app, name: str, make):
    """`make()` once per event loop, kept on the app's state: an asyncio semaphore (or an anyio limiter)
    belongs to the loop it was made on, and a test client may run the app on a new one."""
    loop = asyncio.get_running_loop()
    held = getattr(app.state, name, None)
    if held is None or held[0] is not loop:
        held = (loop, make())
        setattr(app.state, name, held)
    return held[1]


def suggest_gate(app) -> ConcurrencyGate:
    """The app's suggest gate (SUGGEST_CONCURRENCY places)."""
    settings = app.state.runtime.settings
    return _per_loop(app, "suggest_gate", lambda: ConcurrencyGate(getattr(settings, "suggest_concurrency", 4)))


def search_limiter(app) -> anyio.CapacityLimiter:
    """The app's search limiter: SEARCH_CONCURRENCY searches run at once, the others wait on the event loop.

    A search is Python holding the GIL, or an engine call that holds it too (Qdrant Edge), so more threads
    only take turns at it and hand the GIL back and forth, while the event loop needs it for the HTTP work.
    On 2 cores and 80,000 products, 8 concurrent clients got 94 req/s with FastAPI's 40 threads, 103-112
    with two searches at once and 133-148 with one (benchmarks/NOTES.md 11e)."""
    settings = app.state.runtime.settings
    return _per_loop(app, "search_limiter", lambda: anyio.CapacityLimiter(getattr(settings, "search_concurrency", 1)))


def owner_of(request: Request) -> str:
    """Whose call this is: the key that authenticated it (search_api.auth sets the principal), else the address."""
    principal = getattr(request.state, "principal", None)
    if principal is not None and principal.key_id is not None:
        return f"key:{principal.key_id}"
    return f"client:{request.client.host if request.client else 'unknown'}"


async def suggest_slot(request: Request) -> AsyncIterator[None]:
    """A dependency: holds a place in the suggest gate while the handler runs (declare it after the auth)."""
    async with suggest_gate(request.app).slot(owner_of(request)):
        yield


# Scope "function": the place is given back when the handler returns, not after the response is sent.
SuggestSlot = Annotated[None, Depends(suggest_slot, scope="function")]
