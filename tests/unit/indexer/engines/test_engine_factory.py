"""open_engines picks embedded or scale-out engines from settings and owns the embedded ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from indexer.documents import IndexDocument
from indexer.engines.factory import open_engines
from indexer.engines.lexical.tantivy import TantivyLexicalEngine
from indexer.engines.lock import EngineBusyError
from indexer.engines.types import EngineError
from indexer.engines.vector.qdrant_edge import QdrantEdgeVectorEngine
from indexer.settings import Settings


@pytest.fixture()
def settings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Settings:
    for var in ("ELASTICSEARCH_URL", "QDRANT_URL"):
        monkeypatch.delenv(var, raising=False)
    return Settings(CATALOG_HOME=str(tmp_path))


def test_embedded_by_default(settings: Settings) -> None:
    with open_engines(settings, dim=4) as engines:
        assert isinstance(engines.lexical, TantivyLexicalEngine)
        assert isinstance(engines.vector, QdrantEdgeVectorEngine)
        assert engines.embedded and engines.lock is not None and engines.lock.held
        assert (settings.catalog_home / "index" / "tantivy").is_dir()
        assert (settings.catalog_home / "index" / "qdrant").is_dir()


def test_embedded_engines_have_one_owner(settings: Settings) -> None:
    engines = open_engines(settings, dim=4)
    try:
        with pytest.raises(EngineBusyError):
            open_engines(settings, dim=4)
    finally:
        engines.close()
    assert not engines.lock.held  # type: ignore[union-attr]
    doc = IndexDocument(store="s", product_id="p1", title="Thing")
    with open_engines(settings, dim=4) as again:  # closed engines can be reopened
        again.lexical.upsert([doc])
        again.lexical.commit()
        again.vector.upsert([doc], [[1.0, 0.0, 0.0, 0.0]])
        again.vector.commit()
    with open_engines(settings, dim=4) as third:
        assert third.lexical.ids("s") == {"p1"} and third.vector.ids("s") == {"p1"}


def test_failed_open_releases_the_lock(settings: Settings) -> None:
    with open_engines(settings, dim=4):
        pass
    with pytest.raises(EngineError):
        open_engines(settings, dim=8)  # the shard on disk has 4 dimensions
    with open_engines(settings, dim=4) as engines:
        assert engines.lock is not None and engines.lock.held


def test_qdrant_edge_directory_cannot_be_opened_twice(tmp_path: Path) -> None:
    first = QdrantEdgeVectorEngine(tmp_path / "q", dim=4)
    try:
        with pytest.raises(EngineError, match="another process"):
            QdrantEdgeVectorEngine(tmp_path / "q", dim=4)
    finally:
        first.close()


def test_tantivy_index_has_one_writer(tmp_path: Path) -> None:
    first = TantivyLexicalEngine(tmp_path / "t")
    try:
        with pytest.raises(EngineError, match="locked"):
            TantivyLexicalEngine(tmp_path / "t")
    finally:
        first.close()
