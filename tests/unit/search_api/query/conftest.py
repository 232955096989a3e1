from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from vocab_fixture import store_vocabulary  # noqa: E402

from search_api.query.vocabulary import StoreVocabulary  # noqa: E402
from taxonomy import Taxonomy  # noqa: E402


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    return Taxonomy.load()


@pytest.fixture(scope="session")
def vocab() -> StoreVocabulary:
    return store_vocabulary()
