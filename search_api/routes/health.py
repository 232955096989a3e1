from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from search_api.deps import RuntimeDep

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz() -> dict:
    return {"status": "ok"}


@router.get("/readyz")
def readyz(runtime: RuntimeDep) -> JSONResponse:
    checks = {}
    for name, probe in (("store", lambda: runtime.catalog.max_seq()),
                        ("lexical", lambda: runtime.engines.lexical.stores()),
                        ("vector", lambda: runtime.engines.vector.count("__probe__"))):
        try:
            probe()
            checks[name] = "ok"
        except Exception as exc:  # readiness reports, it does not raise
            checks[name] = f"error: {exc}"
    checks["sync_pending"] = runtime.sync.pending()
    ready = all(v == "ok" for k, v in checks.items() if k != "sync_pending")
    return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)


@router.get("/metrics")
def metrics() -> Response:
    return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)
