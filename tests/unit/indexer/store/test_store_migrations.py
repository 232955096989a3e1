from __future__ import annotations

import multiprocessing

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from indexer.models import Product
from indexer.store import CatalogStore, current_revision
from indexer.store.engine import alembic_config
from indexer.store.schema import metadata

TABLES = {"stores", "products", "variants", "images", "extractions", "embeddings", "outbox", "sync_state",
          "jobs", "job_chunks", "dead_letters", "merchant_feedback", "alembic_version"}


def test_open_migrates_to_head_and_twice_is_harmless(catalog_url: str) -> None:
    first = CatalogStore.open(catalog_url)
    first.upsert_products([Product(store="a", product_id="p")])
    first.close()
    second = CatalogStore.open(catalog_url)
    try:
        assert current_revision(second.engine) == ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert TABLES <= set(inspect(second.engine).get_table_names())
        assert second.product_ids("a") == ["p"]
        # The migration creates exactly what the code's table definitions describe.
        with second.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), metadata)
        assert diff == []
    finally:
        second.close()


def _open_and_write(url: str, name: str) -> None:
    store = CatalogStore.open(url)
    store.upsert_products([Product(store="a", product_id=name)])
    store.close()


def test_concurrent_processes_migrate_safely(catalog_url: str) -> None:
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_open_and_write, args=(catalog_url, f"p{i}")) for i in range(3)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
    assert [w.exitcode for w in workers] == [0, 0, 0]
    store = CatalogStore.open(catalog_url)
    try:
        assert store.product_ids("a") == ["p0", "p1", "p2"]
        assert store.max_seq() == 3
    finally:
        store.close()
