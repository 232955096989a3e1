"""Store API keys over HTTP, for admin keys: create (the key is in that answer only), list, revoke.

A store's admin key manages its own store's keys; a platform key (`*`, or CATALOG_ADMIN_KEY) any store's,
and only it makes `*` keys. A key outside the caller's reach is answered as a key that does not exist.
"""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from indexer.api_keys import PLATFORM, SCOPES, InvalidKeyRequest
from search_api.auth import AdminKey, key_book
from search_api.deps import RuntimeDep
from search_api.errors import ApiError
from search_api.keys import KeyCreated, KeyPublic, issue_key, shown

router = APIRouter(prefix="/v1/keys", tags=["keys"])


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str = Field(min_length=1, max_length=64)  # a store name, or "*" (platform keys only)
    scopes: list[str] = Field(min_length=1, max_length=len(SCOPES), examples=[["search"]])
    name: str = Field(default="", max_length=255)
    expires: str | None = Field(default=None, max_length=16, examples=["30d"])  # from now: s, m, h or d
    rate: str | None = Field(default=None, max_length=32, examples=["20/s"])  # N/s, N/min or N/h


class KeysPublic(BaseModel):
    keys: list[KeyPublic]


def _forbidden(store: str) -> ApiError:
    return ApiError(403, "forbidden", f"this key does not allow admin on store {store!r}")


@router.post("", status_code=201, response_model=KeyCreated)
async def create_key(principal: AdminKey, runtime: RuntimeDep, body: KeyCreate) -> KeyCreated:
    if not principal.allows(body.store, "admin"):
        raise _forbidden(body.store)
    try:
        return await run_in_threadpool(issue_key, runtime.catalog, store=body.store, scopes=body.scopes,
                                       name=body.name, expires=body.expires, rate=body.rate)
    except InvalidKeyRequest as exc:
        raise ApiError(422, "invalid_key_request", str(exc)) from exc


@router.get("", response_model=KeysPublic)
async def list_keys(principal: AdminKey, runtime: RuntimeDep,
                    store: str | None = Query(default=None, min_length=1, max_length=64)) -> KeysPublic:
    """The keys of `store` (default: the caller's own store; a platform key without one: every key)."""
    store = store or (None if principal.store == PLATFORM else principal.store)
    if not principal.allows(store or PLATFORM, "admin"):
        raise _forbidden(store or PLATFORM)
    records = await run_in_threadpool(runtime.catalog.list_keys, store)
    return KeysPublic(keys=[shown(r) for r in records])


@router.delete("/{key_id}", response_model=KeyPublic)
async def revoke_key(principal: AdminKey, runtime: RuntimeDep, request: Request,
                     key_id: str = Path(min_length=1, max_length=16)) -> KeyPublic:
    """Revoke the key: it stops working at once here, within seconds on every other server."""
    record = await run_in_threadpool(runtime.catalog.get_key, key_id)
    if record is None or not principal.allows(record.store, "admin"):
        raise ApiError(404, "unknown_key", f"no key {key_id!r}")
    revoked = await run_in_threadpool(runtime.catalog.revoke_key, key_id)
    key_book(request).forget(key_id)
    return shown(revoked)
