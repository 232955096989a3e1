"""Builds the FastAPI app: routers, error handlers, metrics, and the runtime in the lifespan."""

from __future__ import annotations

import time
from contextlib import asynccontextmanager

from fastapi import FastAPI
from prometheus_client import Histogram

from search_api.errors import install_error_handlers
from search_api.limits import BodyLimit
from search_api.openapi import document_errors
from search_api.ratelimit import EarlyRefusal
from search_api.routes import feedback, health, jobs, keys, photos, products, reindex, search, suggest, taxonomy
from search_api.routes import review as review_queue
from search_api.warmup import WarmUp

REQUEST_LATENCY = Histogram("catalog_http_request_seconds", "HTTP request latency", ["route", "method", "status"],
                            buckets=(0.005, 0.01, 0.02, 0.03, 0.05, 0.1, 0.2, 0.5, 1, 2, 5))


class RequestTiming:
    """ASGI middleware: each request's latency into REQUEST_LATENCY, by route template, method and status.
    (A plain ASGI class: Starlette's `@app.middleware("http")` wraps every request in extra tasks and streams,
    a measurable share of a search's CPU.)"""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # no response started: the app raised, and the server answers 500

        async def sending(message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = scope.get("route")
            REQUEST_LATENCY.labels(getattr(route, "path", "unmatched"), scope["method"],
                                   str(status)).observe(time.perf_counter() - started)


def create_app(runtime=None) -> FastAPI:
    """`runtime=None` builds the real one from settings at startup; tests may pass their own."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        from indexer.tasks.context import TaskContext, install_context
        from search_api.runtime import build_runtime

        owned = runtime is None
        # Opening the store and engines is quick and fails the start when it cannot (another process holds
        # the engines); the models load in the background: /healthz answers at once, /readyz when all is warm.
        current = app.state.runtime = build_runtime() if owned else runtime
        # Eager mode runs tasks in this process: with this store and this (lazily loaded) extractor.
        install_context(TaskContext(settings=current.settings, _catalog=current.catalog,
                                    _extractor_factory=lambda: current.extractor))
        app.state.warm_up = None
        if owned:
            warm = app.state.warm_up = WarmUp(current.warm_up_steps())
            current.start_sync_loop(after=warm)
            warm.start()
        try:
            yield
        finally:
            install_context(None)
            if owned:
                warm.stop()
                current.close()

    app = FastAPI(title="Catalog intelligence", version="0.1.0", lifespan=lifespan)
    app.add_middleware(BodyLimit)  # every body capped (413 request_too_large); photo routes allow more
    install_error_handlers(app)
    for module in (search, suggest, products, photos, feedback, taxonomy, reindex, jobs, keys, health):
        app.include_router(module.router)
    from search_api.routes.pages import install as install_pages  # the web pages and /static

    install_pages(app)
    from search_api.routes.product_images import router as product_images

    app.include_router(product_images)
    app.include_router(review_queue.router)
    document_errors(app)  # every operation's error responses in the one error body

    app.add_middleware(RequestTiming)
    app.add_middleware(EarlyRefusal)  # outermost: a caller refused a moment ago costs next to nothing
    return app
