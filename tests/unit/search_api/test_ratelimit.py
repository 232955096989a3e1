"""The token buckets: the rate syntax, the arithmetic, the in-process LRU, and the Redis script (real Redis)."""

from __future__ import annotations

import asyncio
import os
import uuid

import pytest

from search_api.auth import Principal
from search_api.errors import ApiError
from search_api.ratelimit import MemoryBuckets, RateLimiter, RedisBuckets, parse_rate, take
from search_api.rates import Rate
from tests.required import require_redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")


def principal(key_id: str | None, rate: str | None = None, client: str = "10.0.0.1") -> Principal:
    return Principal(key_id=key_id, store="demo", scopes=frozenset({"search"}), rate=rate, client=client)


@pytest.mark.parametrize(("text", "rate"), [("20/s", Rate(20, 1.0)), ("600/min", Rate(600, 60.0)),
                                            (" 3 / h ", Rate(3, 3600.0))])
def test_parse_rate_reads_the_three_periods(text, rate):
    assert parse_rate(text) == rate
    assert str(rate) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["", "0/s", "-1/s", "x/s", "5/day", "5", "5/s/s", "1.5/s", "9999999999/s"])
def test_parse_rate_refuses_anything_else_and_says_what_it_takes(text):
    with pytest.raises(ValueError, match="N/s, N/min or N/h"):
        parse_rate(text)


def test_a_bucket_allows_its_size_at_once_then_refills_at_the_rate():
    rate = Rate(3, 1.0)  # 3 at once, then one every 1/3 s
    tokens, stamp = 3.0, 0.0
    allowed = []
    for _ in range(4):
        tokens, decision = take(tokens, stamp, rate, now=0.0)
        allowed.append(decision.allowed)
    assert allowed == [True, True, True, False]
    assert decision.retry_after_s == pytest.approx(1 / 3) and decision.retry_after_header == "1"
    tokens, decision = take(tokens, 0.0, rate, now=0.34)  # one token back
    assert decision.allowed and tokens == pytest.approx(0.02)
    tokens, decision = take(0.0, 0.0, rate, now=100.0)  # never more than the bucket holds
    assert decision.allowed and tokens == pytest.approx(2.0)


def test_retry_after_is_whole_seconds_rounded_up():
    _, decision = take(0.0, 0.0, Rate(1, 60.0), now=0.0)
    assert not decision.allowed and decision.retry_after_header == "60"


def test_memory_buckets_are_separate_and_bounded():
    now = [0.0]
    buckets = MemoryBuckets(max_buckets=2, clock=lambda: now[0])
    rate = Rate(1, 1.0)
    assert buckets.take("a", rate).allowed and not buckets.take("a", rate).allowed
    assert buckets.take("b", rate).allowed  # another bucket is untouched by a's burst
    buckets.take("c", rate)
    assert len(buckets) == 2  # "a", least recently used, was forgotten: it starts full again
    assert buckets.take("a", rate).allowed


def test_a_key_is_charged_at_its_own_rate_else_the_default_and_public_search_per_address():
    limiter = RateLimiter(default_rate=Rate(5, 1.0), public_rate=Rate(2, 1.0))
    assert limiter.bucket_and_rate(principal("k1", "20/min")) == ("key:k1", Rate(20, 60.0), "key")
    assert limiter.bucket_and_rate(principal("k1")) == ("key:k1", Rate(5, 1.0), "key")
    assert limiter.bucket_and_rate(principal(None, client="1.2.3.4")) == ("client:1.2.3.4", Rate(2, 1.0), "client")


def test_charge_raises_429_with_retry_after_for_that_key_only(monkeypatch):
    from search_api import ratelimit

    monkeypatch.setattr(ratelimit, "HOLD_S", 0.05)  # the pause before a 429 is sent
    limiter = RateLimiter(default_rate=Rate(2, 60.0), public_rate=Rate(2, 60.0))

    async def burst():
        for _ in range(2):
            await limiter.charge(principal("a"))
        with pytest.raises(ApiError) as refused:
            await limiter.charge(principal("a"))
        await limiter.charge(principal("b"))  # key b has its own bucket
        return refused.value

    error = asyncio.run(burst())
    assert error.status == 429 and error.code == "rate_limited"
    assert error.headers == {"Retry-After": "30"} and "2/min" in error.message  # ceil(30 - 0.05)


@pytest.fixture
def redis_buckets():
    client = require_redis(REDIS_URL)
    prefix = f"test:ratelimit:{uuid.uuid4().hex}:"
    yield RedisBuckets(REDIS_URL, prefix=prefix), client, prefix
    keys = list(client.scan_iter(f"{prefix}*"))
    if keys:
        client.delete(*keys)
    client.close()


def test_redis_script_takes_as_the_python_arithmetic_does_and_expires_its_keys(redis_buckets):
    buckets, client, prefix = redis_buckets
    rate = Rate(3, 60.0)

    async def run():
        return [await buckets.take("k", rate) for _ in range(4)]

    decisions = asyncio.run(run())
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert decisions[2].tokens == pytest.approx(0.0, abs=0.01)
    assert decisions[3].retry_after_s == pytest.approx(20.0, abs=0.1)  # 60 s / 3 tokens
    ttl_ms = client.pttl(f"{prefix}k")
    assert 0 < ttl_ms <= 61_000  # gone once the bucket would be full again (plus a second)
    assert buckets.fallback.take("k", rate).allowed  # nothing was charged in process while Redis answered


def test_redis_down_falls_back_to_the_process_buckets():
    buckets = RedisBuckets("redis://127.0.0.1:9/0", prefix="test:ratelimit:down:")  # port 9: nothing listens
    rate = Rate(1, 60.0)

    async def run():
        return [await buckets.take("k", rate) for _ in range(2)]

    first, second = asyncio.run(run())
    assert first.allowed and not second.allowed  # still limited, by this process


def test_a_refused_caller_is_refused_early_for_at_most_a_second_with_the_time_left():
    from search_api.ratelimit import Refusals

    now = [0.0]
    refusals = Refusals(max_entries=2, clock=lambda: now[0])
    refusals.add("bearer:a", "key", "over", retry_after_s=30.0)
    assert refusals.get("bearer:a") == ("key", "over", 30.0)
    now[0] = 0.6
    assert refusals.get("bearer:a") == ("key", "over", pytest.approx(29.4))
    now[0] = 1.0  # then the full path (auth, the bucket) decides again
    assert refusals.get("bearer:a") is None
    refusals.add("bearer:b", "key", "over", retry_after_s=0.2)
    now[0] = 1.25
    assert refusals.get("bearer:b") is None  # never longer than the bucket's own wait
    for caller in ("x", "y", "z"):
        refusals.add(caller, "key", "over", 5.0)
    assert refusals.get("x") is None and refusals.get("z") is not None  # bounded: the oldest went


def test_who_a_request_is_before_any_routing():
    from search_api.ratelimit import caller_of

    assert caller_of("Bearer ck_1", "1.2.3.4", "/v1/keys").startswith("bearer:")
    assert "ck_1" not in caller_of("Bearer ck_1", None, "/x")  # hashed
    assert caller_of(None, "1.2.3.4", "/v1/stores/demo/search") == "client:1.2.3.4"
    assert caller_of(None, "1.2.3.4", "/v1/stores/demo/products/p1/images/0") == "client:1.2.3.4"
    assert caller_of(None, "1.2.3.4", "/v1/stores/demo/products/p1") is None  # no public route: a 401 anyway


def test_a_keys_requests_beyond_its_in_flight_cap_wait_their_turn(monkeypatch):
    from search_api import ratelimit
    from search_api.ratelimit import InFlight, TooManyWaiting

    monkeypatch.setattr(ratelimit, "MAX_WAITING", 1)
    in_flight = InFlight()
    in_flight.learn("bearer:a", Rate(20, 1.0))  # 20/s x 0.1 s -> 2 at once
    in_flight.learn("bearer:small", Rate(5, 1.0))
    in_flight.learn("bearer:big", Rate(600, 1.0))
    assert in_flight._caps == {"bearer:a": 2, "bearer:small": 1, "bearer:big": 60}

    async def run():
        running, peak, order = 0, 0, []

        async def call(name):
            nonlocal running, peak
            async with in_flight.turn("bearer:a"):
                running += 1
                peak = max(peak, running)
                order.append(name)
                await asyncio.sleep(0.05)
                running -= 1

        first = [asyncio.create_task(call(n)) for n in ("1", "2", "3")]
        await asyncio.sleep(0.01)  # 1 and 2 run, 3 waits: the next one is one too many
        with pytest.raises(TooManyWaiting):
            async with in_flight.turn("bearer:a"):
                pass
        async with in_flight.turn("bearer:unknown"):  # a key not charged yet is not capped
            pass
        await asyncio.gather(*first)
        return peak, order

    peak, order = asyncio.run(run())
    assert peak == 2 and order == ["1", "2", "3"]
    assert in_flight._running == {}  # nothing kept once the key's requests are done
