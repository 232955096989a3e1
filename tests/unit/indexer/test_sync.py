"""The change log applied to both real embedded engines: order, idempotency, crash replay, rebuild."""

from __future__ import annotations

import numpy as np
import pytest

from extractor.embeddings import get_text_embedder
from indexer.engines.factory import open_engines
from indexer.models import Product, Variant
from indexer.settings import Settings
from indexer.store import CatalogStore
from indexer.sync import IndexSync
from taxonomy import Taxonomy


class CountingEmbedder:
    """The real MiniLM embedder, counting how many texts it had to embed."""

    name = "all-MiniLM-L6-v2"
    dim = 384

    def __init__(self) -> None:
        self.inner = get_text_embedder()
        self.calls = 0

    def embed(self, texts):
        self.calls += len(texts)
        return self.inner.embed(texts)


def product(store: str, pid: str, title: str, color: str = "Black", price: float = 20.0) -> Product:
    return Product(store=store, product_id=pid, title=title, price=price,
                   variants=[Variant(sku=f"{pid}-1", options={"color": color, "size": "M"})])


@pytest.fixture
def env(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    engines = open_engines(settings)
    embedder = CountingEmbedder()
    yield settings, catalog, engines, embedder
    engines.close()
    catalog.close()


def ids_in_both(engines, store):
    return engines.lexical.ids(store), engines.vector.ids(store)


def test_sync_applies_upserts_and_deletes_in_order(env):
    _, catalog, engines, embedder = env
    catalog.upsert_products([product("a", f"p{i}", f"Shirt {i}") for i in range(5)])
    sync = IndexSync(catalog, engines, Taxonomy.load(), embedder)
    report = sync.run_until_idle()
    assert report.upserted == 5 and sync.pending() == 0
    catalog.delete_product("a", "p1")
    catalog.upsert_products([product("a", "p2", "Shirt two, now red", color="Red")])
    sync.run_until_idle()
    lexical, vector = ids_in_both(engines, "a")
    assert lexical == vector == {"p0", "p2", "p3", "p4"}
    hits = engines.lexical.search("a", "red", None, limit=5).hits
    assert hits[0].product_id == "p2"


def test_second_run_over_unchanged_catalog_embeds_nothing(env):
    _, catalog, engines, embedder = env
    items = [product("a", f"p{i}", f"Hoodie {i}") for i in range(4)]
    catalog.upsert_products(items)
    sync = IndexSync(catalog, engines, Taxonomy.load(), embedder)
    sync.run_until_idle()
    first = embedder.calls
    assert catalog.upsert_products(items).unchanged == 4
    assert sync.run_until_idle().applied == 0
    sync.rebuild()
    assert embedder.calls == first  # rebuild reads vectors from the store's cache
    assert ids_in_both(engines, "a") == ({f"p{i}" for i in range(4)},) * 2


def test_crash_between_engines_replays_and_both_agree(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([product("a", f"p{i}", f"Jacket {i}") for i in range(6)])

    def crash():
        raise SystemExit("killed between the two engine writes")

    engines = open_engines(settings)
    sync = IndexSync(catalog, engines, Taxonomy.load(), CountingEmbedder(), between_engines=crash)
    with pytest.raises(SystemExit):
        sync.run_once()
    lexical, vector = ids_in_both(engines, "a")
    assert len(lexical) == 6 and len(vector) == 0  # the crash left the engines disagreeing
    assert catalog.get_sync_position("engines") == 0  # ... and the position unmoved
    engines.close()

    engines = open_engines(settings)  # a restarted owner
    IndexSync(catalog, engines, Taxonomy.load(), CountingEmbedder()).run_until_idle()
    lexical, vector = ids_in_both(engines, "a")
    assert lexical == vector == {f"p{i}" for i in range(6)}
    assert engines.lexical.count("a") == engines.vector.count("a") == 6  # replay made no duplicates
    engines.close()
    catalog.close()


def test_stores_are_isolated(env):
    _, catalog, engines, embedder = env
    catalog.upsert_products([product("a", "same-id", "Red hoodie"), product("b", "same-id", "Blue hoodie"),
                             product("b", "only-b", "Green hoodie")])
    IndexSync(catalog, engines, Taxonomy.load(), embedder).run_until_idle()
    assert engines.lexical.ids("a") == {"same-id"}
    assert engines.lexical.search("a", "green", None, limit=10).total == 0
    vector = np.asarray(get_text_embedder().embed_query("green hoodie"))
    assert {h.product_id for h in engines.vector.search("a", vector, None, limit=10)} == {"same-id"}


def test_an_index_dropped_for_a_new_schema_version_is_rebuilt_by_the_next_sync(env):
    """The log position says the engines had every product; a lexical index dropped on open (another schema
    version) must not stay empty until each product changes again."""
    from indexer.engines.lexical.tantivy import SCHEMA_VERSION

    settings, catalog, engines, embedder = env
    catalog.upsert_products([product("a", f"p{i}", f"Shirt {i}") for i in range(3)])
    IndexSync(catalog, engines, Taxonomy.load(), embedder).run_until_idle()
    engines.close()
    schema_files = list(settings.catalog_home.rglob("catalog_schema.json"))
    assert len(schema_files) == 1
    schema_files[0].write_text(f'{{"version": {SCHEMA_VERSION + 100}}}')
    reopened = open_engines(settings)
    try:
        assert reopened.lexical.recreated and reopened.lexical.ids("a") == set()
        sync = IndexSync(catalog, reopened, Taxonomy.load(), embedder)
        sync.run_until_idle()
        assert ids_in_both(reopened, "a") == ({"p0", "p1", "p2"}, {"p0", "p1", "p2"})
        assert not reopened.lexical.recreated and sync.run_once().applied == 0
    finally:
        reopened.close()


def test_a_burst_is_found_by_its_words_before_its_vectors_are_computed(env):
    """The text index takes a batch, and the changes already logged past it, before the batch's embedding."""
    _, catalog, engines, embedder = env
    catalog.upsert_products([product("a", f"p{i}", f"Quokka jacket {i}") for i in range(5)])
    seen_at_embedding: list[int] = []
    real_embed = embedder.embed

    def embed(texts):
        seen_at_embedding.append(engines.lexical.search("a", "quokka", None, limit=0).total)
        return real_embed(texts)

    embedder.embed = embed
    sync = IndexSync(catalog, engines, Taxonomy.load(), embedder, batch_size=2)
    first = sync.run_once()
    assert first.applied == 2 and first.embedded == 2
    assert seen_at_embedding == [5]  # all five by their words while the first two were being embedded
    assert len(engines.vector.ids("a")) == 2 and catalog.get_sync_position("engines") == first.position
    sync.run_until_idle()
    lexical, vector = ids_in_both(engines, "a")
    assert lexical == vector == {f"p{i}" for i in range(5)}
    assert engines.lexical.count("a") == 5  # written twice, counted once


def test_a_backlog_reaches_the_text_index_once(env, monkeypatch):
    """Batches the text index already took ahead of are not written to it again; a change logged after the
    read-ahead is."""
    import indexer.sync

    _, catalog, engines, embedder = env
    monkeypatch.setattr(indexer.sync, "LEXICAL_LEAD", 6)
    catalog.upsert_products([product("a", f"p{i}", f"Quokka jacket {i}") for i in range(10)])
    written: list[str] = []
    real_upsert = engines.lexical.upsert
    monkeypatch.setattr(engines.lexical, "upsert", lambda docs: (written.extend(d.product_id for d in docs),
                                                                 real_upsert(docs))[1])
    sync = IndexSync(catalog, engines, Taxonomy.load(), embedder, batch_size=2)
    sync.run_once()  # its batch of 2 and the 6 changes after it
    assert sorted(written) == [f"p{i}" for i in range(8)]
    catalog.upsert_products([product("a", "p3", "Quokka jacket three, now red", color="Red")])
    report = sync.run_until_idle()
    assert report.applied == 9 and embedder.calls == 10  # p3 first embedded with its new title
    assert sorted(written) == sorted([f"p{i}" for i in range(10)] + ["p3"])  # p3 again: its later change
    lexical, vector = ids_in_both(engines, "a")
    assert lexical == vector == {f"p{i}" for i in range(10)}
    assert engines.lexical.search("a", "red", None, limit=10).total == 1
