from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, Gauge, generate_latest

from search_api.deps import SettingsDep

QUEUE_DEPTH = Gauge("catalog_queue_depth", "Messages waiting in a Celery queue (Redis LLEN)", ["queue"])

BROKER_TIMEOUT_S = 0.5

router = APIRouter(tags=["health"])


def ping_broker(url: str, timeout_s: float = BROKER_TIMEOUT_S) -> None:
    """Raise unless the Celery broker answers within `timeout_s` (Redis: PING; other transports: connect)."""
    if url.startswith(("redis://", "rediss://")):
        import redis

        client = redis.Redis.from_url(url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s)
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection

    with Connection(url, connect_timeout=timeout_s) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout_s)


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "Not ready yet: the same body says what is not"}})
def readyz(request: Request, settings: SettingsDep) -> JSONResponse:
    """Ready when the start-up warm-up is done (models loaded and run once: `loading` names what is not),
    the store and both engines answer, and the broker too when one is configured (without
    `CELERY_BROKER_URL` tasks run inline and there is no broker to check)."""
    warm = getattr(request.app.state, "warm_up", None)  # None: a runtime handed in, not warmed here
    loading = warm.loading() if warm is not None else []
    checks: dict = {} if warm is None else {"warm_up": warm.check()}
    runtime = request.app.state.runtime
    probes = [("store", lambda: runtime.catalog.max_seq()),
              ("lexical", lambda: runtime.engines.lexical.stores()),
              ("vector", lambda: runtime.engines.vector.count("__probe__"))]
    if settings.celery_broker_url:
        probes.append(("broker", lambda: ping_broker(settings.celery_broker_url)))
    for name, probe in probes:
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # readiness reports, it does not raise
            checks[name] = f"error: {exc}"
    checks["sync_pending"] = runtime.sync.pending()
    ready = all(v == "ok" for k, v in checks.items() if k != "sync_pending")
    body = {"ready": ready, "checks": checks, "loading": loading}
    if warm is not None:
        body["warm_up_ms"] = warm.timings_ms()
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)  # the Prometheus text format
def metrics(settings: SettingsDep) -> Response:
    import indexer.tasks.metrics  # noqa: F401 - task and extraction metrics live in the same registry

    broker = settings.celery_broker_url
    if broker and broker.startswith(("redis://", "rediss://")):
        from indexer.tasks.app import QUEUES

        try:
            import redis

            client = redis.Redis.from_url(broker, socket_timeout=1, socket_connect_timeout=1)
            for queue in QUEUES:
                QUEUE_DEPTH.labels(queue).set(client.llen(queue))
            client.close()
        except Exception:  # metrics must answer even when the broker does not; -1 means unknown
            for queue in QUEUES:
                QUEUE_DEPTH.labels(queue).set(-1)
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
