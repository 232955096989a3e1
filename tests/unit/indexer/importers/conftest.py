from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from indexer.store import CatalogStore


@pytest.fixture
def catalog(tmp_path: Path) -> Iterator[CatalogStore]:
    store = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield store
    store.close()
