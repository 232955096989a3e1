"""The product vector is the local extractor's category-query vector: one MiniLM pass per product, not two."""

from __future__ import annotations

import numpy as np

from extractor.embeddings import get_text_embedder
from extractor.local import LocalExtractor
from extractor.local.text import category_query
from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer.conversions import build_document, extraction_input
from indexer.embedding_cache import text_key
from indexer.models import Product
from indexer.realtime import extract_batch
from indexer.store import CatalogStore
from taxonomy import Taxonomy


def _product(pid: str, title: str) -> Product:
    return Product(store="s", product_id=pid, title=title, description="Zip hoodie in brushed fleece. Warm.",
                   tags=["fleece", "winter"], product_type="Hoodie", merchant_category="Men/Tops/Hoodies")


def test_the_product_vector_text_is_the_extractors_query_and_ignores_the_extraction():
    taxonomy = Taxonomy.load()
    product = _product("p", "Zip Hoodie")
    category = taxonomy.category(sorted(taxonomy.categories)[100])
    red = taxonomy.match_value("color", "Red")[0]
    extraction = Extraction(
        category=CategoryGuess(id=category.id, name=category.name, full_name=category.full_name, confidence=0.9),
        attributes=[ExtractedAttribute(handle="color", name="Color", values=[
            ExtractedValue(value=red.value_handle, value_id=red.value_id, name=red.name, confidence=0.8,
                           source="image")])],
        extractor="local", extractor_version="6", taxonomy_version=taxonomy.version)
    with_extraction = build_document(product, extraction, taxonomy).embedding_text()
    assert with_extraction == category_query(extraction_input(product))
    # Known before extraction (a rebuild or another backend gives the same text).
    assert build_document(product, None, taxonomy).embedding_text() == with_extraction


def test_a_text_embedded_again_is_served_from_memory():
    embedder = get_text_embedder()
    texts = ["a memo test text about red wool socks", "a memo test text about blue linen shirts"]
    first = embedder.embed(texts)
    before = embedder.computed
    again = embedder.embed([texts[1], texts[0], texts[1]])
    assert embedder.computed == before
    assert np.array_equal(again, first[[1, 0, 1]])
    assert np.array_equal(embedder.embed_query("  A MEMO test text about red wool socks"),
                          embedder.embed(["a memo test text about red wool socks"])[0])


def test_extracting_and_embedding_a_batch_runs_the_model_once_per_product(tmp_path):
    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        titles = ["Quilted Zip Hoodie Nr 7731", "Merino Crew Socks Nr 7732", "Canvas Tote Bag Nr 7733"]
        products = [_product(f"p{i}", t) for i, t in enumerate(titles)]
        catalog.upsert_products(products)
        embedder = get_text_embedder()
        before = embedder.computed
        outcomes = extract_batch(catalog, LocalExtractor(safety=False), "s", [p.product_id for p in products])
        assert set(outcomes.outcomes.values()) == {"extracted"}
        assert embedder.computed - before == len(products)  # the category queries; the product vectors reuse them
        keys = [text_key(build_document(p, None, Taxonomy.load()).embedding_text()) for p in products]
        assert set(catalog.get_embeddings(keys, embedder.name)) == set(keys)
    finally:
        catalog.close()


def test_a_product_whose_vector_the_store_holds_is_extracted_without_the_model(tmp_path):
    # A product the sync indexed before its extraction (an API upsert, a multi-store import): the store's
    # cache has its vector, computed in another process; the extractor's category query reads it.
    from extractor.embeddings import TextEmbedder

    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        products = [_product("q1", "Ribbed Beanie Nr 8841"), _product("q2", "Trail Running Vest Nr 8842")]
        catalog.upsert_products(products)
        texts = [build_document(p, None, Taxonomy.load()).embedding_text() for p in products]
        elsewhere = TextEmbedder()  # another process's embedder: this one's memory does not have the texts
        catalog.put_embeddings(dict(zip(map(text_key, texts), elsewhere.embed(texts), strict=True)), elsewhere.name)
        embedder = get_text_embedder()
        before = embedder.computed
        outcomes = extract_batch(catalog, LocalExtractor(safety=False), "s", ["q1", "q2"])
        assert set(outcomes.outcomes.values()) == {"extracted"}
        assert embedder.computed == before
        assert np.allclose(embedder.embed(texts), elsewhere.embed(texts))
    finally:
        catalog.close()
