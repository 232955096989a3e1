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

from tests.required import service_missing

PG_BASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _unavailable(reason: str) -> None:
    service_missing(f"PostgreSQL not reachable at {PG_BASE_URL}: {reason}")


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


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory):
    """Settings of a CATALOG_HOME holding the bundled fixture catalog as store `demo`, imported, extracted
    with the real local extractor and indexed into the real embedded engines (once per test session)."""
    from indexer.importers import fixture_path, import_path
    from indexer.runtime import index_store, open_catalog
    from indexer.settings import Settings

    home = tmp_path_factory.mktemp("demo-home")
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local")
    with open_catalog(settings) as catalog:
        report = import_path(catalog, "demo", fixture_path())
    assert report.imported == 199 and not report.errors
    summary = index_store("demo", settings=settings)
    assert summary["indexed"] == 199 and summary["vectors"] == 199, summary
    return settings


@pytest.fixture(scope="session")
def demo_runtime(demo_settings):
    """The serving runtime over the demo catalog (owns its engines for the whole session)."""
    from search_api.runtime import build_runtime

    runtime = build_runtime(demo_settings)
    yield runtime
    runtime.close()
