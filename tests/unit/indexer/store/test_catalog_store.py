from __future__ import annotations

import threading

import numpy as np
import pytest

from extractor.models import CategoryGuess, Extraction
from indexer.models import Product, Variant
from indexer.store import CatalogStore, Change
from indexer.store.base import StoreBase


def product(pid: str, store: str = "a", **fields) -> Product:
    return Product(store=store, product_id=pid, title=fields.pop("title", f"Product {pid}"),
                   images=fields.pop("images", [f"/img/{pid}-1.jpg", f"/img/{pid}-2.jpg"]),
                   variants=fields.pop("variants", [Variant(sku=f"{pid}-S", options={"size": "S"})]), **fields)


def extraction(version: str = "1", taxonomy: str = "2025-01", category: str = "aa-1") -> Extraction:
    return Extraction(extractor="local", extractor_version=version, taxonomy_version=taxonomy,
                      category=CategoryGuess(id=category, name="X", full_name="X", confidence=0.9))


def test_upsert_is_idempotent_and_logs_only_changes(catalog: CatalogStore) -> None:
    products = [product(f"p{i}") for i in range(1200)]  # more than one batch
    first = catalog.upsert_products(products)
    assert (first.inserted, first.updated, first.unchanged) == (1200, 0, 0)
    assert catalog.max_seq() == 1200
    again = catalog.upsert_products(products)
    assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1200)
    assert again.changed == []
    assert catalog.max_seq() == 1200  # no outbox row for an unchanged product

    changed = product("p7", title="Renamed")
    summary = catalog.upsert_products([changed, product("p8"), product("new")])
    assert (summary.inserted, summary.updated, summary.unchanged) == (1, 1, 1)
    assert summary.changed == [("a", "p7"), ("a", "new")]
    assert [(c.product_id, c.op) for c in catalog.changes_after(1200, 10)] == [("p7", "upsert"),
                                                                               ("new", "upsert")]
    assert catalog.get_product("a", "p7") == changed
    assert catalog.count_products("a") == 1201


def test_product_round_trip_and_reads(catalog: CatalogStore) -> None:
    full = Product(store="a", product_id="MH01", title="Chaz Hoodie", description="Warm", price=52.0,
                   description_html="<p>Warm</p>", tags=["hoodie"], images=["/x/1.jpg"],
                   variants=[Variant(sku="MH01-XS-Black", options={"color": "Black", "size": "XS"}, price=52)],
                   attributes={"material": ["Cotton", "Polyester"]}, merchant_category="Men/Tops",
                   created_at="2024-01-01T00:00:00")
    catalog.upsert_products([full, product("b1"), product("a0")])
    assert catalog.get_product("a", "MH01") == full
    assert catalog.get_product("a", "missing") is None
    assert catalog.product_ids("a") == ["MH01", "a0", "b1"]
    assert [p.product_id for p in catalog.iter_products("a", batch_size=2)] == ["MH01", "a0", "b1"]
    assert set(catalog.get_products("a", ["a0", "zz"])) == {"a0"}
    assert catalog.content_hash("a", "MH01") == full.content_hash()


def test_last_duplicate_in_a_batch_wins(catalog: CatalogStore) -> None:
    summary = catalog.upsert_products([product("p", title="old"), product("p", title="new")])
    assert summary.inserted == 1 and catalog.max_seq() == 1
    assert catalog.get_product("a", "p").title == "new"


def test_store_isolation(catalog: CatalogStore) -> None:
    catalog.upsert_products([product("same", store="a", title="A"), product("only-a", store="a"),
                             product("same", store="b", title="B")])
    assert catalog.stores() == ["a", "b"]
    assert catalog.store_exists("a") and not catalog.store_exists("c")
    assert catalog.product_ids("b") == ["same"]
    assert [p.store for p in catalog.iter_products("b")] == ["b"]
    assert catalog.get_product("b", "same").title == "B"
    assert catalog.get_product("b", "only-a") is None
    assert catalog.count_products("a") == 2
    assert catalog.delete_product("b", "only-a") is False
    assert catalog.delete_product("b", "same") is True
    assert catalog.get_product("a", "same").title == "A"


def test_delete_logs_a_delete_once(catalog: CatalogStore) -> None:
    catalog.upsert_products([product("p1"), product("p2")])
    assert catalog.delete_product("a", "p1") is True
    assert catalog.delete_product("a", "p1") is False
    assert catalog.changes_after(0, 10) == [Change(seq=1, store="a", product_id="p1", op="upsert"),
                                            Change(seq=2, store="a", product_id="p2", op="upsert"),
                                            Change(seq=3, store="a", product_id="p1", op="delete")]
    assert catalog.product_ids("a") == ["p2"]
    # Re-adding a deleted product is an insert again.
    assert catalog.upsert_products([product("p1")]).inserted == 1


def test_outbox_order_paging_and_sync_position(catalog: CatalogStore) -> None:
    catalog.upsert_products([product(f"p{i}") for i in range(5)])
    catalog.delete_product("a", "p3")
    seqs = [c.seq for c in catalog.changes_after(0, 100)]
    assert seqs == sorted(seqs) and len(seqs) == 6
    assert [c.seq for c in catalog.changes_after(seqs[1], 2)] == seqs[2:4]
    assert catalog.max_seq() == seqs[-1]
    assert catalog.get_sync_position("engines") == 0
    catalog.set_sync_position("engines", seqs[2])
    catalog.set_sync_position("engines", seqs[3])
    assert catalog.get_sync_position("engines") == seqs[3]
    assert catalog.get_sync_position("other") == 0


def test_a_failed_write_leaves_neither_products_nor_outbox_rows(catalog: CatalogStore,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    catalog.upsert_products([product("kept")])

    def log_then_fail(self, conn, changes) -> None:  # noqa: ANN001
        original(self, conn, changes)
        raise RuntimeError("crash after the outbox insert, before commit")

    original = StoreBase._log_changes
    monkeypatch.setattr(StoreBase, "_log_changes", log_then_fail)
    with pytest.raises(RuntimeError):
        catalog.upsert_products([product("lost"), product("kept", title="changed")])
    with pytest.raises(RuntimeError):
        catalog.put_extraction("a", "kept", product("kept").content_hash(), extraction())
    with pytest.raises(RuntimeError):
        catalog.delete_product("a", "kept")
    monkeypatch.setattr(StoreBase, "_log_changes", original)
    assert catalog.product_ids("a") == ["kept"]
    assert catalog.get_product("a", "kept").title == "Product kept"
    assert catalog.get_extraction("a", "kept", "local", "1", "2025-01") is None
    assert catalog.max_seq() == 1


def test_extraction_is_keyed_by_content_hash(catalog: CatalogStore) -> None:
    p1, p2 = product("p1"), product("p2")
    catalog.upsert_products([p1, p2])
    assert catalog.stale_products("a", "local", "1", "2025-01") == ["p1", "p2"]
    assert catalog.put_extraction("a", "p1", p1.content_hash(), extraction()) is True
    assert catalog.changes_after(2, 10) == [Change(seq=3, store="a", product_id="p1", op="upsert")]
    got = catalog.get_extraction("a", "p1", "local", "1", "2025-01")
    assert got is not None and got.category.id == "aa-1"
    assert catalog.latest_extraction("a", "p1") == got
    assert catalog.stale_products("a", "local", "1", "2025-01") == ["p2"]
    # Another extractor version or taxonomy version is not valid.
    assert catalog.get_extraction("a", "p1", "local", "2", "2025-01") is None
    assert catalog.stale_products("a", "local", "1", "2025-02") == ["p1", "p2"]
    # Re-putting the same key replaces it.
    catalog.put_extraction("a", "p1", p1.content_hash(), extraction(category="aa-2"))
    assert catalog.get_extraction("a", "p1", "local", "1", "2025-01").category.id == "aa-2"

    # A changed product makes its extraction stale; the old one is kept (keyed by the old hash).
    changed = product("p1", title="New title")
    catalog.upsert_products([changed])
    assert catalog.get_extraction("a", "p1", "local", "1", "2025-01") is None
    assert catalog.latest_extraction("a", "p1") is None
    assert catalog.stale_products("a", "local", "1", "2025-01") == ["p1", "p2"]
    # An extraction of an outdated version is stored but logs nothing and does not count.
    seq = catalog.max_seq()
    assert catalog.put_extraction("a", "p1", p1.content_hash(), extraction()) is False
    assert catalog.max_seq() == seq
    # Changing it back makes the first extraction valid again: no re-extraction needed.
    catalog.upsert_products([p1])
    assert catalog.get_extraction("a", "p1", "local", "1", "2025-01") is not None


def test_a_batch_of_extractions_logs_only_the_current_versions(catalog: CatalogStore) -> None:
    p1, p2, p3 = product("p1"), product("p2"), product("p3")
    catalog.upsert_products([p1, p2, p3])
    catalog.upsert_products([product("p2", title="Changed since it was read")])
    seq = catalog.max_seq()
    current = catalog.put_extractions("a", [(p.product_id, p.content_hash(), extraction()) for p in (p1, p2, p3)])
    assert current == {"p1", "p3"}
    assert [(c.product_id, c.op) for c in catalog.changes_after(seq, 10)] == [("p1", "upsert"), ("p3", "upsert")]
    assert catalog.stale_products("a", "local", "1", "2025-01") == ["p2"]
    assert catalog.put_extractions("a", []) == set() and catalog.max_seq() == seq + 2


def test_extractions_do_not_leak_across_stores(catalog: CatalogStore) -> None:
    a, b = product("p", store="a"), product("p", store="b")
    catalog.upsert_products([a, b])
    catalog.put_extraction("a", "p", a.content_hash(), extraction())
    assert catalog.get_extraction("b", "p", "local", "1", "2025-01") is None
    assert catalog.stale_products("b", "local", "1", "2025-01") == ["p"]


def test_embeddings_cache_round_trip(catalog: CatalogStore) -> None:
    rng = np.random.default_rng(0)
    vectors = {f"k{i}": rng.standard_normal(384).astype(np.float32) for i in range(700)}
    catalog.put_embeddings(vectors, "minilm")
    found = catalog.get_embeddings(list(vectors) + ["absent"], "minilm")
    assert set(found) == set(vectors)
    for key, vector in vectors.items():
        assert found[key].dtype == np.float32
        np.testing.assert_array_equal(found[key], vector)
    assert catalog.get_embeddings(["k1"], "other-model") == {}
    # Writing a cached key again keeps the first vector and does not fail.
    catalog.put_embeddings({"k1": np.zeros(384, np.float32), "fresh": np.ones(3)}, "minilm")
    np.testing.assert_array_equal(catalog.get_embeddings(["k1"], "minilm")["k1"], vectors["k1"])
    assert catalog.get_embeddings(["fresh"], "minilm")["fresh"].tolist() == [1.0, 1.0, 1.0]


def test_jobs_progress_and_states(catalog: CatalogStore) -> None:
    job = catalog.create_job("reindex", "a", total=10)
    assert job.state == "queued" and job.done == 0 and job.started_at is None
    assert catalog.running_job("reindex", "a").id == job.id
    assert catalog.running_job("reindex", "b") is None
    running = catalog.update_job(job.id, state="running")
    assert running.started_at is not None and running.finished_at is None

    def work() -> None:
        for _ in range(25):
            catalog.update_job(job.id, done_delta=1)
        catalog.update_job(job.id, failed_delta=2)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    current = catalog.get_job(job.id)
    assert (current.done, current.failed) == (100, 8)
    assert catalog.stale_running_jobs(3600) == []
    assert [j.id for j in catalog.stale_running_jobs(-1)] == [job.id]
    catalog.heartbeat(job.id)
    finished = catalog.update_job(job.id, state="succeeded", total=108)
    assert finished.state == "succeeded" and finished.finished_at is not None and finished.total == 108
    assert finished.started_at == running.started_at
    assert catalog.running_job("reindex", "a") is None
    assert catalog.stale_running_jobs(-1) == []
    failed = catalog.update_job(catalog.create_job("extract", None).id, state="failed", error="boom")
    assert failed.error == "boom" and failed.finished_at is not None
    assert catalog.get_job("no-such-job") is None


def test_dead_letters(catalog: CatalogStore) -> None:
    catalog.record_dead_letter("a", "p1", "timeout", 3)
    catalog.record_dead_letter("a", "p1", "bad image", 4)
    catalog.record_dead_letter("b", "p2", "x", 1)
    letters = catalog.dead_letters("a")
    assert [(d.product_id, d.error, d.attempts) for d in letters] == [("p1", "bad image", 4)]
    assert catalog.clear_dead_letter("a", "p1") is True
    assert catalog.dead_letters("a") == []
    assert len(catalog.dead_letters("b")) == 1


def test_invalid_store_name_is_rejected(catalog: CatalogStore) -> None:
    with pytest.raises(ValueError):
        catalog.ensure_store("Bad Store")
    catalog.ensure_store("empty")
    assert catalog.store_exists("empty") and catalog.count_products("empty") == 0
