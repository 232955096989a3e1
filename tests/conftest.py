"""Shared fixtures.

- `postgres_url`: the URL of a fresh, empty PostgreSQL schema for one test (dropped afterwards), from
  TEST_DATABASE_URL (default: the local server at 127.0.0.1:5432, database `test`). Skips when no
  PostgreSQL answers, except under CI=true, where that is a failure.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest

PG_BASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(reason: str) -> None:
    message = f"PostgreSQL not reachable at {PG_BASE_URL}: {reason}"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(message + " (required under CI=true)")
    pytest.skip(message)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    from sqlalchemy import create_engine, text

    engine = create_engine(PG_BASE_URL, connect_args={"connect_timeout": 3})
    schema = f"t_{uuid.uuid4().hex[:12]}"
    try:
        with engine.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    except Exception as exc:  # noqa: BLE001 - any connection failure means "not available"
        engine.dispose()
        _unavailable(str(exc).splitlines()[0])
    separator = "&" if "?" in PG_BASE_URL else "?"
    try:
        yield f"{PG_BASE_URL}{separator}options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()
