from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.store import CatalogStore


@pytest.fixture(params=["sqlite", "postgresql"])
def catalog_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'catalog.db'}"
    return request.getfixturevalue("postgres_url")


@pytest.fixture
def catalog(catalog_url: str) -> Iterator[CatalogStore]:
    store = CatalogStore.open(catalog_url)
    yield store
    store.close()
