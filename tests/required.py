"""A real service a test needs (PostgreSQL, Redis) is missing: a skip on a laptop, a failure under CI=true,
where every service is started before the run and a skip would hide a broken setup."""

from __future__ import annotations

import os

import pytest


def service_missing(message: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{message} (required under CI=true)")
    pytest.skip(message)


def require_redis(url: str):
    """A client of the Redis at `url`, once it answers a ping (else `service_missing`)."""
    import redis

    client = redis.Redis.from_url(url, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        service_missing(f"no Redis at {url}: {exc}")
    return client
