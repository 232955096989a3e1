"""Conversation sessions: the filters, text and sort a shopper's follow-up turns refine.

Two stores behind one protocol: Redis (shared by every API process; JSON values under a key prefix with a
TTL) and an in-process bounded LRU with a TTL for a single process and tests. A session belongs to one
store: reading it for another store answers None, so a session id never leaks filters across stores.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.engines.types import Sort
from search_api.query.models import AppliedFilter

DEFAULT_TTL_S = 1800
# What `new_session_id` makes; the API validates ids it is sent with this same pattern.
SESSION_ID_PATTERN = r"^[A-Za-z0-9_-]{1,128}$"
_SESSION_ID_RE = re.compile(SESSION_ID_PATTERN)


class SessionStoreError(RuntimeError):
    """The session backend is unreachable or failed."""


class SessionState(BaseModel):
    model_config = ConfigDict(extra="ignore")

    store: str
    filters: list[AppliedFilter] = Field(default_factory=list)
    text: str = ""
    sort: Sort | None = None
    phrase: str = ""  # the last turn's vector query: a further page of it (an empty turn) reuses it
    turns: int = 0
    updated_at: float = Field(default_factory=time.time)


def new_session_id() -> str:
    return secrets.token_urlsafe(16)


def valid_session_id(session_id: str | None) -> bool:
    """Ids are 1-128 characters of [A-Za-z0-9_-] (what `new_session_id` makes)."""
    return bool(session_id) and _SESSION_ID_RE.match(session_id) is not None


class SessionStore(Protocol):
    def get(self, session_id: str, store: str | None = None) -> SessionState | None:
        """The session, or None when unknown, expired, invalid, or (with `store`) bound to another store."""
        ...

    def put(self, session_id: str, state: SessionState) -> None:
        """Save the session and restart its TTL. Raises ValueError for an invalid id."""
        ...

    def delete(self, session_id: str) -> None: ...


def _check_store(state: SessionState | None, store: str | None) -> SessionState | None:
    if state is None or (store is not None and state.store != store):
        return None
    return state


def _decode(raw: str | bytes | None) -> SessionState | None:
    if raw is None:
        return None
    try:
        return SessionState.model_validate_json(raw)
    except ValidationError:
        return None  # a corrupt or outdated value is a lost session, not an error


class MemorySessionStore:
    """In-process sessions: at most `max_entries` (least recently used evicted first), each for `ttl_s`
    seconds after its last put or get. Thread-safe. Values are stored as JSON so callers never share
    mutable state with the store."""

    def __init__(
        self,
        max_entries: int = 10_000,
        ttl_s: float = DEFAULT_TTL_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be >= 1")
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._data: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def get(self, session_id: str, store: str | None = None) -> SessionState | None:
        if not valid_session_id(session_id):
            return None
        now = self._clock()
        with self._lock:
            item = self._data.get(session_id)
            if item is None:
                return None
            expires, raw = item
            if expires <= now:
                del self._data[session_id]
                return None
            self._data[session_id] = (now + self.ttl_s, raw)
            self._data.move_to_end(session_id)
        return _check_store(_decode(raw), store)

    def put(self, session_id: str, state: SessionState) -> None:
        if not valid_session_id(session_id):
            raise ValueError(f"invalid session id {session_id!r}")
        raw = state.model_dump_json()
        now = self._clock()
        with self._lock:
            self._data[session_id] = (now + self.ttl_s, raw)
            self._data.move_to_end(session_id)
            while len(self._data) > self.max_entries:
                self._data.popitem(last=False)

    def delete(self, session_id: str) -> None:
        with self._lock:
            self._data.pop(session_id, None)


class RedisSessionStore:
    """Sessions in Redis as JSON strings under `prefix`, expiring `ttl_s` seconds after the last put."""

    def __init__(
        self,
        url: str,
        ttl_s: int = DEFAULT_TTL_S,
        prefix: str = "catalog:session:",
        socket_timeout_s: float = 2.0,
    ) -> None:
        import redis

        self.ttl_s = int(ttl_s)
        self.prefix = prefix
        self._redis = redis.Redis.from_url(
            url, socket_timeout=socket_timeout_s, socket_connect_timeout=socket_timeout_s
        )
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError,)

    def _key(self, session_id: str) -> str:
        return f"{self.prefix}{session_id}"

    def ping(self) -> bool:
        try:
            return bool(self._redis.ping())
        except self._errors:
            return False

    def get(self, session_id: str, store: str | None = None) -> SessionState | None:
        if not valid_session_id(session_id):
            return None
        try:
            raw = self._redis.get(self._key(session_id))
        except self._errors as exc:
            raise SessionStoreError(f"session store unavailable: {exc}") from exc
        return _check_store(_decode(raw), store)

    def put(self, session_id: str, state: SessionState) -> None:
        if not valid_session_id(session_id):
            raise ValueError(f"invalid session id {session_id!r}")
        try:
            self._redis.set(self._key(session_id), state.model_dump_json(), ex=self.ttl_s)
        except self._errors as exc:
            raise SessionStoreError(f"session store unavailable: {exc}") from exc

    def delete(self, session_id: str) -> None:
        try:
            self._redis.delete(self._key(session_id))
        except self._errors as exc:
            raise SessionStoreError(f"session store unavailable: {exc}") from exc

    def close(self) -> None:
        self._redis.close()


def make_session_store(redis_url: str | None, ttl_s: int = DEFAULT_TTL_S) -> SessionStore:
    """Redis when a URL is configured (several API processes share sessions), else in-process memory."""
    if redis_url:
        return RedisSessionStore(redis_url, ttl_s=ttl_s)
    return MemorySessionStore(ttl_s=ttl_s)
