"""Rate limits: a token bucket per API key, and per client address for public (keyless) search.

A rate reads as a merchant gives it, "N/s", "N/min" or "N/h": a bucket of N tokens that refills at N per
period, so a client may send N requests at once and then N per period. A request takes one token; with none
left it gets 429 `rate_limited` and a `Retry-After` (whole seconds until a token is back).

The buckets live in Redis when one is configured (one Lua script reads, refills and takes atomically, on
Redis's clock, so every API process shares them; each bucket key expires once it would be full again), else
in this process (a bounded LRU: a forgotten bucket starts full, which only ever errs towards letting a
request through). When Redis fails, the process's own buckets take over for the moment (logged): a Redis
outage must not make every request a 429 or a 500.

A caller that keeps sending while refused must cost little, or its burst still takes the cores other keys'
searches need. So a refusal is remembered (`Refusals`, per process): the same bearer key, or the same
address on the public search routes, is answered 429 by `EarlyRefusal` before any parsing, routing or key
lookup, for at most RECHECK_S; then one request takes the full path again (and sees a revocation, or a
bucket refilled by then, or refilled elsewhere when Redis holds it). Every 429 is sent after a pause of up
to HOLD_S (never past its Retry-After, so it arrives about when a token is back; at most MAX_HELD waiting
at once): a client that retries at once instead of waiting then sends a few requests per connection a
second, not hundreds, and one that honours Retry-After never notices.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import threading
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi.responses import JSONResponse
from prometheus_client import Counter

from search_api.errors import ApiError, error_body
from search_api.rates import Rate, parse_rate

__all__ = ["Rate", "parse_rate", "charge", "RateLimiter", "MemoryBuckets", "RedisBuckets", "Refusals",
           "EarlyRefusal", "take"]

log = logging.getLogger(__name__)

MAX_BUCKETS = 100_000  # in-process buckets kept (least recently used forgotten first)
REDIS_PREFIX = "catalog:ratelimit:"
REDIS_TIMEOUT_S = 0.25  # a limiter slower than this costs more than it protects
WARN_EVERY_S = 60.0
RETRY_REDIS_AFTER_S = 5.0  # after a failure, requests skip Redis this long instead of each paying a timeout
RECHECK_S = 1.0  # a refused caller is answered early this long at most before the full path checks again
MAX_REFUSALS = 10_000
# A key runs at most this many requests at once (Little's law: its rate times a slow request's time, at
# least 1); the rest wait their turn. Smooths a burst into the rate it is allowed, so another key's search
# meets no clump of the burster's at once.
IN_FLIGHT_SECONDS = 0.1
MIN_IN_FLIGHT = 1
MAX_WAITING = 64  # waiting per key; more is a 429 too_many_concurrent
HOLD_S = 1.0  # an early 429 waits this long at most before it is sent
MAX_HELD = 1024  # early 429s waiting at once; past that they are sent at once
# Keyless requests are charged to their address only on the public routes (search, product photos).
PUBLIC_PATHS = re.compile(r"^/v1/stores/[^/]+/(search|products/[^/]+/images/[^/]+)/?$")

RATE_LIMITED = Counter("catalog_rate_limited_total", "Requests refused by the rate limiter", ["kind"])


@dataclass(frozen=True)
class Decision:
    allowed: bool
    tokens: float  # left in the bucket after this request
    retry_after_s: float  # 0 when allowed

    @property
    def retry_after_header(self) -> str:
        return retry_after_header(self.retry_after_s)


def take(tokens: float, stamp: float, rate: Rate, now: float, cost: float = 1.0) -> tuple[float, Decision]:
    """One request against a bucket holding `tokens` at time `stamp`; returns the bucket's new token count
    (at `now`) and the decision. The same arithmetic as the Lua script below."""
    tokens = min(float(rate.tokens), tokens + max(0.0, now - stamp) * rate.per_s)
    if tokens >= cost:
        return tokens - cost, Decision(True, tokens - cost, 0.0)
    return tokens, Decision(False, tokens, (cost - tokens) / rate.per_s)


class MemoryBuckets:
    """The buckets of one process, at most `max_buckets` of them."""

    def __init__(self, max_buckets: int = MAX_BUCKETS, clock=time.monotonic) -> None:
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._max = max_buckets
        self._clock = clock
        self._lock = threading.Lock()  # charge runs on the event loop, but tests and tools call from threads

    def take(self, bucket: str, rate: Rate, cost: float = 1.0) -> Decision:
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(bucket, (float(rate.tokens), now))
            tokens, decision = take(tokens, stamp, rate, now, cost)
            self._buckets[bucket] = (tokens, now)
            while len(self._buckets) > self._max:
                self._buckets.popitem(last=False)
        return decision

    def __len__(self) -> int:
        return len(self._buckets)


# KEYS[1]: the bucket; ARGV: size, tokens per second, cost. Numbers come back as strings: Redis would
# truncate a Lua float to an integer.
TAKE_SCRIPT = """
local size = tonumber(ARGV[1])
local per_s = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local clock = redis.call('TIME')
local now = tonumber(clock[1]) + tonumber(clock[2]) / 1000000
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or size
local stamp = tonumber(state[2]) or now
tokens = math.min(size, tokens + math.max(0, now - stamp) * per_s)
local allowed = 0
local retry = 0
if tokens >= cost then
  tokens = tokens - cost
  allowed = 1
else
  retry = (cost - tokens) / per_s
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((size - tokens) / per_s * 1000) + 1000)
return {allowed, tostring(tokens), tostring(retry)}
"""


class RedisBuckets:
    """Buckets shared by every process on one Redis; a failure falls back to `fallback` (and is logged)."""

    def __init__(self, url: str, fallback: MemoryBuckets | None = None, prefix: str = REDIS_PREFIX) -> None:
        self.url = url
        self.prefix = prefix
        self.fallback = fallback or MemoryBuckets()
        self._clients: dict[int, tuple[object, object]] = {}  # per event loop: an asyncio client is bound to one
        self._warned_at = -math.inf
        self._down_until = -math.inf

    def _script(self):
        loop = asyncio.get_running_loop()
        held = self._clients.get(id(loop))
        if held is None or held[0] is not loop:
            import redis.asyncio as aioredis

            client = aioredis.Redis.from_url(self.url, socket_timeout=REDIS_TIMEOUT_S,
                                             socket_connect_timeout=REDIS_TIMEOUT_S)
            held = self._clients[id(loop)] = (loop, client.register_script(TAKE_SCRIPT))
        return held[1]

    async def take(self, bucket: str, rate: Rate, cost: float = 1.0) -> Decision:
        import redis

        if time.monotonic() < self._down_until:
            return self.fallback.take(bucket, rate, cost)
        try:
            allowed, tokens, retry = await self._script()(keys=[self.prefix + bucket],
                                                          args=[rate.tokens, repr(rate.per_s), repr(cost)])
        except (redis.RedisError, OSError) as exc:  # a timeout is an OSError
            now = time.monotonic()
            self._down_until = now + RETRY_REDIS_AFTER_S
            if now - self._warned_at > WARN_EVERY_S:
                self._warned_at = now
                log.warning("rate limiter: Redis unavailable (%s); limiting in this process meanwhile", exc)
            return self.fallback.take(bucket, rate, cost)
        return Decision(bool(int(allowed)), float(tokens), float(retry))


class RateLimiter:
    """Which bucket and rate a principal is charged against, and the 429 when it is empty."""

    def __init__(self, default_rate: Rate, public_rate: Rate, redis_url: str | None = None) -> None:
        self.default_rate = default_rate
        self.public_rate = public_rate
        self.memory = MemoryBuckets()
        self.redis = RedisBuckets(redis_url, fallback=self.memory) if redis_url else None
        self.refusals = Refusals()
        self.held = 0
        self.in_flight = InFlight()

    async def hold(self, wait_s: float) -> float:
        """Pause a 429 (see the module's docstring); returns the wait left after the pause."""
        if self.held >= MAX_HELD:
            return wait_s
        pause = min(HOLD_S, wait_s)
        self.held += 1
        try:
            await asyncio.sleep(pause)
        finally:
            self.held -= 1
        return max(0.0, wait_s - pause)

    @classmethod
    def from_settings(cls, settings) -> RateLimiter:
        return cls(parse_rate(settings.rate_limit_default), parse_rate(settings.rate_limit_public),
                   settings.session_redis_url)

    def bucket_and_rate(self, principal) -> tuple[str, Rate, str]:
        if principal.key_id is None:  # public search: the caller's address is all we know of them
            return f"client:{principal.client}", self.public_rate, "client"
        rate = parse_rate(principal.rate) if principal.rate else self.default_rate
        return f"key:{principal.key_id}", rate, "key"

    async def check(self, principal, cost: float = 1.0) -> Decision:
        bucket, rate, _ = self.bucket_and_rate(principal)
        if self.redis is not None:
            return await self.redis.take(bucket, rate, cost)
        return self.memory.take(bucket, rate, cost)

    async def charge(self, principal, cost: float = 1.0, caller: str | None = None) -> None:
        """Take `cost` tokens or raise the 429; `caller` (see `caller_of`) is then refused early for a moment."""
        decision = await self.check(principal, cost)
        if caller is not None and principal.key_id is not None:
            self.in_flight.learn(caller, self.bucket_and_rate(principal)[1])
        if not decision.allowed:
            bucket, rate, kind = self.bucket_and_rate(principal)
            RATE_LIMITED.labels(kind).inc()
            if caller is not None:
                self.refusals.add(caller, kind, refusal_message(rate, kind), decision.retry_after_s)
            retry_after = retry_after_header(await self.hold(decision.retry_after_s))
            raise ApiError(429, "rate_limited", refusal_message(rate, kind), headers={"Retry-After": retry_after})


def refusal_message(rate: Rate, kind: str) -> str:
    whose = "this key" if kind == "key" else "this address (public search)"
    return f"rate limit of {rate} for {whose} exceeded; retry after the Retry-After header's seconds"


def retry_after_header(wait_s: float) -> str:
    return str(max(1, math.ceil(wait_s)))


def caller_of(authorization: str | None, client: str | None, path: str) -> str | None:
    """Who a request is, as early as its headers tell: its bearer key (hashed: no key is kept in memory
    in the clear), else its address on a public route; None when the limiter would not charge it so."""
    if authorization:
        return "bearer:" + hashlib.sha256(authorization.encode()).hexdigest()
    if client and PUBLIC_PATHS.match(path):
        return f"client:{client}"
    return None


class Refusals:
    """Callers refused a moment ago: until when to answer them early, and what (bounded, oldest dropped)."""

    def __init__(self, max_entries: int = MAX_REFUSALS, clock=time.monotonic) -> None:
        self._entries: OrderedDict[str, tuple[float, float, str, str]] = OrderedDict()
        self._max = max_entries
        self._clock = clock
        self._lock = threading.Lock()

    def add(self, caller: str, kind: str, message: str, retry_after_s: float) -> None:
        now = self._clock()
        with self._lock:
            self._entries.pop(caller, None)
            self._entries[caller] = (now + min(retry_after_s, RECHECK_S), now + retry_after_s, kind, message)
            while len(self._entries) > self._max:
                self._entries.popitem(last=False)

    def get(self, caller: str) -> tuple[str, str, float] | None:
        """(kind, message, seconds until a token is back) while the caller is still refused early, else None."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(caller)
            if entry is None:
                return None
            if now >= entry[0]:
                del self._entries[caller]
                return None
        return entry[2], entry[3], max(0.0, entry[1] - now)


class InFlight:
    """Requests of one key running at once: at most its cap (learnt from its rate at its last charge; a key
    not seen yet is not capped), up to MAX_WAITING more wait their turn. Per process, bounded: an entry
    lives while the key has requests here, a cap is kept for the MAX_REFUSALS keys seen last."""

    def __init__(self) -> None:
        self._caps: OrderedDict[str, int] = OrderedDict()
        self._running: dict[str, tuple[asyncio.Semaphore, int]] = {}

    def learn(self, caller: str, rate: Rate) -> None:
        self._caps.pop(caller, None)
        self._caps[caller] = max(MIN_IN_FLIGHT, math.ceil(rate.per_s * IN_FLIGHT_SECONDS))
        while len(self._caps) > MAX_REFUSALS:
            self._caps.popitem(last=False)

    @asynccontextmanager
    async def turn(self, caller: str) -> AsyncIterator[None]:
        cap = self._caps.get(caller)
        if cap is None:
            yield
            return
        gate, users = self._running.get(caller) or (asyncio.Semaphore(cap), 0)
        if users >= cap + MAX_WAITING:
            raise TooManyWaiting(cap)
        self._running[caller] = (gate, users + 1)
        try:
            async with gate:
                yield
        finally:
            gate, users = self._running[caller]
            if users <= 1:
                del self._running[caller]
            else:
                self._running[caller] = (gate, users - 1)


class TooManyWaiting(Exception):
    def __init__(self, cap: int) -> None:
        super().__init__(f"this key already has {cap} requests running and {MAX_WAITING} waiting")


class EarlyRefusal:
    """ASGI middleware: a caller refused a moment ago gets its 429 again before anything else runs; a key's
    requests beyond its in-flight cap wait their turn here (holding no worker thread)."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        limiter = getattr(scope["app"].state, "rate_limiter", None) if scope["type"] == "http" else None
        if limiter is not None:
            authorization = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"authorization"), None)
            client = scope.get("client")
            caller = caller_of(authorization, client[0] if client else None, scope["path"])
            refused = limiter.refusals.get(caller) if caller is not None else None
            if refused is not None:
                kind, message, wait_s = refused
                RATE_LIMITED.labels(kind).inc()
                response = JSONResponse(error_body("rate_limited", message), status_code=429,
                                        headers={"Retry-After": retry_after_header(await limiter.hold(wait_s))})
                return await response(scope, receive, send)
            if caller is not None and caller.startswith("bearer:"):
                try:
                    async with limiter.in_flight.turn(caller):
                        return await self.app(scope, receive, send)
                except TooManyWaiting as exc:
                    RATE_LIMITED.labels("in_flight").inc()
                    response = JSONResponse(error_body("too_many_concurrent", str(exc)), status_code=429,
                                            headers={"Retry-After": "1"})
                    return await response(scope, receive, send)
        await self.app(scope, receive, send)


def limiter_for(app) -> RateLimiter:
    """The app's limiter, made on first use from the runtime's settings (each app has its own buckets)."""
    limiter = getattr(app.state, "rate_limiter", None)
    if limiter is None:
        limiter = app.state.rate_limiter = RateLimiter.from_settings(app.state.runtime.settings)
    return limiter


async def charge(request, principal) -> None:
    """Take one token from the principal's bucket, or raise ApiError 429 with a Retry-After header."""
    # A key charged as the public (a public store's search with a key of another store) is its address here.
    authorization = request.headers.get("authorization") if principal.key_id is not None else None
    caller = caller_of(authorization, principal.client, request.url.path)
    await limiter_for(request.app).charge(principal, caller=caller)
