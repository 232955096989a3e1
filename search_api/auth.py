"""Who is calling: store API keys, the platform admin key and public search, as one `Principal` per request.

Routes declare what they need with `Depends(require(scope))`: the dependency reads `Authorization: Bearer
<key>`, checks the key against the catalog store (only a hash is kept: indexer/api_keys.py), then the store
named in the path and the scope, puts the principal on `request.state.principal`, charges the rate limit
(search_api.ratelimit) and returns the principal.

- 401 `unauthorized`: no key, a malformed or unknown one, an expired or revoked one.
- 403 `forbidden`: a valid key of another store, or without the scope. A caller without access to a store
  gets the same answer whether the store exists or not: the store is looked at only after the key opened it
  (a public store's search is the one exception, and a store that does not exist is not public).
- Scopes: search, suggest, write, admin; admin implies the others for its store. A key of store `*` and
  `CATALOG_ADMIN_KEY` open every store.
- Search without a key: only on a store marked public (`catalog stores set S --public-search`); the principal
  then has no key id, scope `search` and the client's address (the rate limit is per client). There a valid
  key without the search scope counts as no key (an invalid one is still a 401).

Key records and public flags are cached a short time per app (KEY_TTL_S), so a revoked key stops working
within that time on every running server; when a key was last used is written at most every TOUCH_EVERY_S
per key and process, not on every request.
"""

from __future__ import annotations

import hmac
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from indexer.api_keys import PLATFORM, ApiKey, hash_matches, key_id_of
from indexer.models import STORE_RE
from indexer.settings import Settings, get_settings
from indexer.store.types import utcnow
from search_api import ratelimit
from search_api.errors import ApiError

KEY_TTL_S = 2.0  # revocation reaches every server within this (the issue asks for 5 s)
TOUCH_EVERY_S = 60.0
MAX_CACHED = 10_000
MISSING = object()  # not cached (or no longer fresh)
ADMIN_KEY_ID = "catalog-admin-key"  # the principal of CATALOG_ADMIN_KEY

bearer = HTTPBearer(auto_error=False, description="A store API key (`catalog keys create`) or CATALOG_ADMIN_KEY")


@dataclass(frozen=True)
class Principal:
    key_id: str | None  # None: public search without a key
    store: str  # a store name, or "*" (platform-wide)
    scopes: frozenset[str]
    rate: str | None  # the key's rate limit as given, e.g. "20/s" (search_api.rates); None: the default
    client: str  # the client's address

    def allows(self, store: str | None, scope: str) -> bool:
        """Whether this principal may use `scope` on `store` (None: on some store; the handler checks which)."""
        if scope not in self.scopes and "admin" not in self.scopes:
            return False
        return store is None or self.store in (PLATFORM, store)


class KeyBook:
    """Key records and public-search flags, each read from the catalog at most every KEY_TTL_S, and the
    last-use times waiting to be written. One per app (`app.state.key_book`)."""

    def __init__(self, ttl_s: float = KEY_TTL_S, touch_every_s: float = TOUCH_EVERY_S) -> None:
        self.ttl_s, self.touch_every_s = ttl_s, touch_every_s
        self._lock = threading.Lock()
        self._keys: dict[str, tuple[float, ApiKey | None]] = {}
        self._public: dict[str, tuple[float, bool]] = {}
        self._touched: dict[str, float] = {}

    def _fresh(self, table: dict, name: str):
        with self._lock:
            hit = table.get(name)
        return hit[1] if hit is not None and time.monotonic() - hit[0] < self.ttl_s else MISSING

    def _cached(self, table: dict, name: str, read):
        value = self._fresh(table, name)
        if value is not MISSING:
            return value
        now = time.monotonic()
        value = read()
        with self._lock:
            if len(table) >= MAX_CACHED:  # random ids cannot grow it without bound
                table.clear()
            table[name] = (now, value)
        return value

    def key(self, catalog, key_id: str) -> ApiKey | None:
        return self._cached(self._keys, key_id, lambda: catalog.get_key(key_id))

    def public(self, catalog, store: str) -> bool:
        return self._cached(self._public, store, lambda: catalog.public_search(store))

    async def key_async(self, catalog, key_id: str) -> ApiKey | None:
        """A cached record on the event loop; only a read of the store goes to a worker thread."""
        value = self._fresh(self._keys, key_id)
        return value if value is not MISSING else await run_in_threadpool(self.key, catalog, key_id)

    async def public_async(self, catalog, store: str) -> bool:
        value = self._fresh(self._public, store)
        return value if value is not MISSING else await run_in_threadpool(self.public, catalog, store)

    def forget(self, key_id: str) -> None:
        """Drop a cached key (this process revoked it: no need to wait for the TTL here)."""
        with self._lock:
            self._keys.pop(key_id, None)

    def due_touch(self, key_id: str) -> bool:
        """Whether this use of the key should be written (the first in TOUCH_EVERY_S)."""
        now = time.monotonic()
        with self._lock:
            if now - self._touched.get(key_id, -self.touch_every_s) < self.touch_every_s:
                return False
            if len(self._touched) >= MAX_CACHED:
                self._touched.clear()
            self._touched[key_id] = now
            return True


def key_book(request: Request) -> KeyBook:
    book = getattr(request.app.state, "key_book", None)
    if book is None:
        book = request.app.state.key_book = KeyBook()
    return book


def unauthorized(message: str) -> ApiError:
    return ApiError(401, "unauthorized", message)


def check_key(record: ApiKey | None, key: str, now: datetime) -> ApiKey:
    """The key's record when `key` is valid now; else the 401 to answer."""
    if record is None or not hash_matches(key, record.key_hash):
        raise unauthorized("invalid API key")
    state = record.state(now)
    if state != "active":
        raise unauthorized(f"API key {record.id} is {state}")
    return record


async def authenticate(request: Request, settings: Settings, key: str) -> Principal:
    """The principal of a Bearer key: CATALOG_ADMIN_KEY, else a store key; 401 when it is neither."""
    client = request.client.host if request.client else ""
    admin = settings.catalog_admin_key
    if admin and hmac.compare_digest(key.encode(), admin.encode()):
        return Principal(key_id=ADMIN_KEY_ID, store=PLATFORM, scopes=frozenset({"admin"}), rate=None, client=client)
    key_id = key_id_of(key)
    if key_id is None:
        raise unauthorized("malformed API key: send Authorization: Bearer ck_<id>_<secret>")
    catalog = request.app.state.runtime.catalog
    book = key_book(request)
    record = check_key(await book.key_async(catalog, key_id), key, utcnow())
    if book.due_touch(key_id):
        await run_in_threadpool(catalog.touch_keys, {key_id: utcnow()})
    return Principal(key_id=record.id, store=record.store, scopes=record.scopes, rate=record.rate, client=client)


async def _public_search(request: Request, store: str | None) -> Principal | None:
    if store is None or not STORE_RE.match(store):
        return None
    if not await key_book(request).public_async(request.app.state.runtime.catalog, store):
        return None
    client = request.client.host if request.client else ""
    return Principal(key_id=None, store=store, scopes=frozenset({"search"}), rate=None, client=client)


def require(scope: str):
    """A dependency: the caller's principal when it may use `scope` on the path's store (a route without a
    store in its path checks the store itself, with `Principal.allows`)."""

    async def dependency(request: Request, settings: Annotated[Settings, Depends(get_settings)],
                         credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]) -> Principal:
        store = request.path_params.get("store")
        if credentials is None or not credentials.credentials:
            principal = await _public_search(request, store) if scope == "search" else None
            if principal is None:
                raise unauthorized("send Authorization: Bearer <API key>" +
                                   (" (this store's search is not public)" if scope == "search" else ""))
        else:
            principal = await authenticate(request, settings, credentials.credentials)
            if not principal.allows(store, scope):
                # A public store's search answers anyone: a valid key without that scope (the merchant's
                # write key the pages hold) is no worse than no key there.
                public = await _public_search(request, store) if scope == "search" else None
                if public is None:
                    where = f" on store {store!r}" if store is not None else ""
                    raise ApiError(403, "forbidden", f"this key does not allow {scope}{where}")
                principal = public
        request.state.principal = principal
        await ratelimit.charge(request, principal)
        return principal

    dependency.__name__ = f"require_{scope}"
    return dependency


# One dependency per scope (FastAPI runs a dependency once per request when it is the same callable):
# routes list them in `dependencies=[Depends(require_write)]`, or take the principal as `principal: AdminKey`.
require_search = require("search")
require_suggest = require("suggest")
require_write = require("write")
require_admin = require("admin")
SearchKey = Annotated[Principal, Depends(require_search)]
AdminKey = Annotated[Principal, Depends(require_admin)]
