"""Dependencies as named Annotated aliases; handlers never build components themselves."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path, Request

from indexer.models import STORE_RE
from indexer.settings import Settings, get_settings
from search_api.errors import ApiError
from search_api.service import SearchService, UnknownStoreError

# A store name in a path, as stores are named (indexer.models.STORE_RE): a bad one is a 422.
StoreName = Path(pattern=STORE_RE.pattern)

SettingsDep = Annotated[Settings, Depends(get_settings)]


# The dependencies below are `async def` though they never wait: FastAPI runs a plain `def` dependency in
# its thread pool, a thread hop each (with app.RequestTiming, 7-11 % more searches a second: NOTES.md 11b).
async def get_runtime(request: Request):
    return request.app.state.runtime


async def get_search(request: Request) -> SearchService:
    return request.app.state.runtime.search


SearchDep = Annotated[SearchService, Depends(get_search)]
RuntimeDep = Annotated[object, Depends(get_runtime)]


async def get_store(store: str, search: SearchDep) -> str:
    try:  # the store list is counted once per index commit (the lexical engine remembers it)
        search.ensure_store(store)
    except UnknownStoreError as exc:
        raise ApiError(404, "unknown_store", str(exc)) from exc
    return store


StoreDep = Annotated[str, Depends(get_store)]


def require_catalog_store(runtime, store: str) -> None:
    """404 unless the catalog holds `store`. A plain call, not a dependency: handlers make it after the
    checks their dependencies make (the key first: search_api.auth)."""
    if not runtime.catalog.store_exists(store):
        raise ApiError(404, "unknown_store", f"unknown store {store!r}")

