"""Workers extract each store with its own trained heads (`catalog train`), over one shared base extractor."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from extractor.local import LocalExtractor
from extractor.local.train import FEATURES, StoreHeads
from indexer.realtime import BatchResult
from indexer.runtime import make_configured_extractor
from indexer.settings import Settings
from indexer.tasks.context import TaskContext, install_context
from indexer.training import store_models_dir


def _settings(home: Path, backend: str = "local") -> Settings:
    return Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, EXTRACTOR_BACKEND=backend)


def _save_heads(home: Path, store: str, category: str) -> Path:
    """A tiny saved version: one category and no value heads is enough to tell versions apart, no fitting."""
    empty = np.zeros((0, FEATURES), dtype=np.float32)
    heads = StoreHeads([category], empty, np.zeros(0), [], empty, np.zeros(0))
    return heads.save(store_models_dir(home, store))


@pytest.fixture
def base() -> LocalExtractor:
    # Constructing it loads no model (they load on first extraction), so the test stays fast.
    return LocalExtractor(safety=False)


def test_store_with_heads_gets_them_and_a_store_without_gets_the_shared_extractor(tmp_path, base):
    _save_heads(tmp_path, "trained", "aa-1-12")
    ctx = TaskContext(settings=_settings(tmp_path), _extractor=base)

    scoped = ctx.extractor_for("trained")
    assert scoped is not base
    assert scoped.store_head.meta["version"] == 1 and scoped.store_head.categories == ["aa-1-12"]
    assert scoped.taxonomy is base.taxonomy  # a light copy: nothing reloaded per store
    assert base.store_head is None  # the shared extractor stays plain for the other stores
    assert ctx.extractor_for("trained") is scoped  # loaded once, reused

    assert ctx.extractor_for("untrained") is base


def test_a_newer_version_is_picked_up_without_a_restart(tmp_path, base):
    _save_heads(tmp_path, "trained", "aa-1-12")
    ctx = TaskContext(settings=_settings(tmp_path), _extractor=base)
    first = ctx.extractor_for("trained")

    _save_heads(tmp_path, "trained", "lb-1")  # `catalog train` again: v2
    second = ctx.extractor_for("trained")
    assert second is not first
    assert second.store_head.meta["version"] == 2 and second.store_head.categories == ["lb-1"]
    assert ctx.extractor_for("trained") is second
    # New heads make the store's saved extractions stale: they are keyed by extractor version.
    assert base.version != first.version != second.version
    assert second.version == f"{base.version}+heads.v2"


def test_eager_mode_attaches_heads_to_the_installed_extractor(tmp_path, base):
    _save_heads(tmp_path, "trained", "aa-1-12")
    ctx = TaskContext(settings=_settings(tmp_path), _extractor_factory=lambda: base)
    assert ctx.extractor_for("trained").store_head.meta["version"] == 1
    assert ctx.extractor_for("untrained") is base


def test_backends_without_heads_ignore_them(tmp_path):
    _save_heads(tmp_path, "trained", "aa-1-12")
    remote = object()
    ctx = TaskContext(settings=_settings(tmp_path, backend="openai"), _extractor=remote)
    assert ctx.extractor_for("trained") is remote


def test_make_configured_extractor_loads_the_newest_heads(tmp_path):
    _save_heads(tmp_path, "trained", "aa-1-12")
    _save_heads(tmp_path, "trained", "lb-1")
    settings = _settings(tmp_path)
    assert make_configured_extractor(settings, "trained").store_head.meta["version"] == 2
    assert make_configured_extractor(settings, "untrained").store_head is None


def test_extract_and_index_uses_the_stores_extractor(tmp_path, base, monkeypatch):
    from indexer.tasks import products

    _save_heads(tmp_path, "trained", "aa-1-12")
    ctx = TaskContext(settings=_settings(tmp_path), _catalog=object(), _extractor=base)
    used = {}

    def fake_extract_batch(catalog, extractor, store, product_ids, **_):
        used[store] = extractor
        return BatchResult(outcomes={pid: "extracted" for pid in product_ids})

    monkeypatch.setattr(products, "extract_batch", fake_extract_batch)
    install_context(ctx)
    try:
        products.extract_and_index.apply(args=("trained", "p1")).get()
        products.extract_and_index.apply(args=("untrained", "p1")).get()
    finally:
        install_context(None)
    assert used["trained"].store_head.meta["version"] == 1
    assert used["untrained"] is base


def test_reindex_chunks_use_the_jobs_store_extractor(tmp_path, base):
    from types import SimpleNamespace

    from indexer.tasks.reindex import _job_extractor

    _save_heads(tmp_path, "trained", "aa-1-12")
    jobs = {"j1": SimpleNamespace(store="trained"), "j2": SimpleNamespace(store="untrained")}
    catalog = SimpleNamespace(get_job=jobs.get)
    ctx = TaskContext(settings=_settings(tmp_path), _catalog=catalog, _extractor=base)
    assert _job_extractor(ctx, "j1").store_head.meta["version"] == 1
    assert _job_extractor(ctx, "j2") is base
    assert _job_extractor(ctx, "gone") is base
