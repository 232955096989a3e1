"""The serving process's display cache and vocabulary, over the real catalog store, sync and embedded engines:
bounded by capacity and by distinct values, and exact after upserts and deletes."""

from __future__ import annotations

from functools import partial

import pytest

from extractor.embeddings import get_text_embedder
from indexer.engines.factory import open_engines
from indexer.engines.vocabulary import parse_counts, vocabulary_terms
from indexer.models import Product, Variant
from indexer.settings import Settings
from indexer.store import CatalogStore
from indexer.sync import IndexSync
from search_api.documents import DocumentCache, category_groups, groups_from_counts
from search_api.query.vocabulary import StoreVocabulary
from search_api.runtime import _display_documents
from taxonomy import Taxonomy

COLORS = ("Black", "Red", "Blue", "Green")


def product(pid: str, title: str, color: str, *, shelf: str = "Men/Tops/Tees", vendor: str = "Acme",
            activity: str | None = None, price: float = 20.0) -> Product:
    attributes = {"activity": [activity]} if activity else {}
    return Product(store="shop", product_id=pid, title=title, price=price, vendor=vendor,
                   merchant_category=shelf, attributes=attributes,
                   variants=[Variant(sku=f"{pid}-1", options={"color": color, "size": "M"})])


@pytest.fixture
def served(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    engines = open_engines(settings)
    sync = IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder())
    documents = DocumentCache(partial(_display_documents, catalog, sync), engines.lexical.vocabulary_counts,
                              capacity=5)
    documents.REBUILD_INTERVAL_S = 0.0
    sync.add_listener(documents.indexed)
    yield catalog, engines, sync, documents
    engines.close()
    catalog.close()


def every_document(catalog, sync):
    return [sync.build(p) for p in catalog.iter_products("shop")]


def same_vocabulary(counted: StoreVocabulary, documents) -> bool:
    """Equal to the vocabulary of the documents, vendors in any order (counted: name order)."""
    held = StoreVocabulary.from_documents(documents)
    return counted == StoreVocabulary(attributes=held.attributes, categories=held.categories,
                                      merchant_categories=held.merchant_categories,
                                      vendors=tuple(sorted(held.vendors)))


def test_vocabulary_from_engine_counts_equals_the_documents_after_upserts_and_deletes(served):
    catalog, _, sync, documents = served
    catalog.upsert_products([product(f"p{i}", f"Cotton tee {i}", COLORS[i % 4], vendor=f"V{i % 3}",
                                     activity="Yoga" if i == 0 else None) for i in range(12)])
    catalog.upsert_products([product("h1", "Zip hoodie", "Black", shelf="Men/Tops/Hoodies")])
    sync.run_until_idle()
    first = documents.vocabulary("shop")
    assert same_vocabulary(first, every_document(catalog, sync))
    assert first.value_name("activity", "activity__yoga") == "Yoga"
    assert {"color__black", "color__red", "color__blue", "color__green"} <= set(first.attributes["color"])

    # The only Yoga product goes; an update brings a colour the store lacked (which triggers the rebuild).
    catalog.delete_product("shop", "p0")
    catalog.upsert_products([product("p1", "Cotton tee 1, now purple", "Purple", vendor="V1")])
    sync.run_until_idle()
    after = documents.vocabulary("shop")
    assert same_vocabulary(after, every_document(catalog, sync))
    assert "activity" not in after.attributes
    assert "color__purple" in after.attributes["color"]
    assert documents.category_groups("shop") == category_groups(every_document(catalog, sync))


def test_vocabulary_is_bounded_by_distinct_values_not_products(served):
    catalog, engines, sync, _ = served
    catalog.upsert_products([product(f"p{i}", f"Cotton tee number {i}", COLORS[i % 2]) for i in range(60)])
    sync.run_until_idle()
    counts = engines.lexical.vocabulary_counts("shop")
    distinct = {t for p in catalog.iter_products("shop") for t in vocabulary_terms(sync.build(p))}
    assert {c.value for c in counts} == distinct
    assert len(counts) < 20  # two colours, one size, one shelf, one vendor, one category path: not 60 products
    black = next(c for c in counts if c.value.startswith("a\x1fcolor\x1fcolor__black"))
    assert black.count == 30


def test_display_documents_come_from_the_store_through_a_bounded_cache(served):
    catalog, _, sync, documents = served
    catalog.upsert_products([product(f"p{i}", f"Tee {i}", "Black", price=10.0 + i) for i in range(8)])
    sync.run_until_idle()
    page = documents.get_many("shop", ["p3", "p1", "nope", "p7"])
    assert list(page) == ["p3", "p1", "p7"]
    assert page["p3"].title == "Tee 3" and page["p3"].price == 13.0
    assert page["p3"] == sync.build(catalog.get_product("shop", "p3"))
    documents.get_many("shop", [f"p{i}" for i in range(8)])
    assert len(documents) == 5  # the capacity, not the catalog

    # A change the sync applied is what the next page shows, cached or not.
    cached = next(pid for pid in ("p7", "p6", "p5") if ("shop", pid) in documents._docs)
    catalog.upsert_products([product(cached, "Tee renamed", "Red", price=99.0)])
    sync.run_until_idle()
    doc = documents.get_many("shop", [cached])[cached]
    assert (doc.title, doc.price) == ("Tee renamed", 99.0)
    catalog.delete_product("shop", cached)
    sync.run_until_idle()
    assert documents.get_many("shop", [cached]) == {}


def test_terms_of_another_shape_are_skipped():
    counts = parse_counts([("a\x1fcolor\x1fcolor__black\x1fBlack", 3), ("a\x1fbroken", 2), ("x\x1fy", 1),
                           ("m\x1fTees\x1faa-1\x1faa,aa-1", 2), ("v\x1fAcme", 0)])
    assert counts.attributes == {"color": {"color__black": {"Black": 3}}}
    assert counts.vendors == {}
    assert groups_from_counts(counts) == {"aa": frozenset({"aa-1"}), "aa-1": frozenset({"aa-1"})}
