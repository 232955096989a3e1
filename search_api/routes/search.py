from __future__ import annotations

from typing import Annotated

import anyio
from fastapi import APIRouter, Depends, Query, Request

from search_api.auth import require_search
from search_api.deps import SearchDep, StoreDep
from search_api.limits import search_limiter
from search_api.models import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    MAX_OFFSET,
    SEARCH_MODE_PATTERN,
    SearchRequest,
    SearchResponse,
)
from search_api.routes.product_images import image_url
from search_api.sessions import SESSION_ID_PATTERN

router = APIRouter(prefix="/v1/stores/{store}/search", tags=["search"])


async def _search(request: Request, search, store: str, body: SearchRequest) -> SearchResponse:
    """The search on a worker thread, when the app's search limiter has a place (SEARCH_CONCURRENCY)."""
    return await anyio.to_thread.run_sync(search.search, store, body, limiter=search_limiter(request.app))


@router.get("", response_model=SearchResponse, dependencies=[Depends(require_search)])
async def search_get(http: Request, store: StoreDep, search: SearchDep, q: str = "",
                     limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = DEFAULT_LIMIT,
                     offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
                     session_id: Annotated[str | None, Query(pattern=SESSION_ID_PATTERN)] = None,
                     mode: Annotated[str, Query(pattern=SEARCH_MODE_PATTERN)] = "hybrid") -> SearchResponse:
    request = SearchRequest(q=q, limit=limit, offset=offset, session_id=session_id, mode=mode)
    return _with_image_urls(store, await _search(http, search, store, request))


@router.post("", response_model=SearchResponse, dependencies=[Depends(require_search)])
async def search_post(http: Request, store: StoreDep, search: SearchDep, body: SearchRequest) -> SearchResponse:
    return _with_image_urls(store, await _search(http, search, store, body))


def _with_image_urls(store: str, response: SearchResponse) -> SearchResponse:
    """Each result's `image` is a reference (a path, a merchant URL); `image_url` is a link a page loads."""
    for result in [*response.results, *response.close_matches]:
        result.image_url = image_url(store, result.product_id, result.image, result.image_index)
        result.thumbnail_url = image_url(store, result.product_id, result.image, result.image_index, thumbnail=True)
    return response
