"""`catalog train` learns from merchant feedback: the values a merchant kept (accepted, or edited to) of the
listing assistant's suggestions are labels, next to what the merchant wrote in the catalog."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.models import Product
from indexer.store.feedback import FeedbackItem
from indexer.training import merchant_labels, train_store
from taxonomy import Taxonomy


def item(attribute, suggested, decision, final=None) -> FeedbackItem:
    return FeedbackItem(attribute=attribute, suggested_value=suggested, decision=decision, final_value=final)


def test_confirmed_values_are_labels_where_the_catalog_has_none():
    taxonomy = Taxonomy.load()
    product = Product(store="s", product_id="p", title="Tee", attributes={"color": ["Black"]})
    labels = merchant_labels(product, taxonomy, confirmed={
        "category": ["aa-1-13-8"], "color": ["color__blue"], "pattern": ["pattern__striped", "pattern__zzz"]})
    assert labels["category"] == "aa-1-13-8"
    assert labels["values"]["color"] == ["color__black"]  # the product as saved is newer than the suggestion
    assert labels["values"]["pattern"] == ["pattern__striped"]  # unknown values are no labels
    with_category = Product(store="s", product_id="p", title="Tee", merchant_category_id="aa-1-13-13")
    assert merchant_labels(with_category, taxonomy, confirmed={"category": ["aa-1-13-8"]})["category"] == "aa-1-13-13"


STRIPED = np.random.default_rng(1).normal(size=384).astype(np.float32) * 0.3  # the "striped" direction


@pytest.fixture
def features(monkeypatch):
    """Head inputs without the models: a striped product's text vector leans one way, a solid one's the other."""
    import extractor.local.train as train
    from extractor.local.features import TEXT_DIM, HeadInput

    def fake(products, extractor=None, views=train.TRAIN_VIEWS):
        rows = []
        rng = np.random.default_rng(0)
        for product in products:
            vec = rng.normal(size=TEXT_DIM).astype(np.float32) * 0.3
            vec += STRIPED if "striped" in product.title else -STRIPED
            rows.append({v: HeadInput(vec, None, None, "aa-1-13-8", "title") for v in views})
        return rows

    monkeypatch.setattr(train, "head_inputs", fake)


def test_a_value_learnt_only_from_feedback_reaches_the_heads(tmp_path, features):
    from extractor.local.features import TEXT_DIM, HeadInput
    from extractor.local.train import load_heads
    from indexer.store import CatalogStore
    from indexer.training import store_models_dir

    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        # Titles and photos only: the catalog names no pattern (and no taxonomy value at all).
        kinds = ["striped", "solid"] * 10
        catalog.upsert_products([Product(store="shop", product_id=f"tee-{i}", title=f"Summit {kind} tee {i}")
                                 for i, kind in enumerate(kinds)])
        with pytest.raises(ValueError, match="0 merchant-labelled products"):
            train_store(catalog, "shop", tmp_path, Taxonomy.load())
        for i, kind in enumerate(kinds):
            # Striped ones were suggested "solid" and edited; solid ones accepted; one unsaved listing too.
            decision = (item("pattern", "pattern__solid", "edited", "pattern__striped") if kind == "striped"
                        else item("pattern", "pattern__solid", "accepted"))
            catalog.record_feedback("shop", [decision, item("color", "color__red", "rejected")],
                                    product_id=f"tee-{i}", extractor="local", extractor_version="1")
        catalog.record_feedback("shop", [item("pattern", "pattern__plaid", "accepted")], product_id=None,
                                extractor="local", extractor_version="1")
        report = train_store(catalog, "shop", tmp_path, Taxonomy.load())
    finally:
        catalog.close()
    assert report["products"] == 20 and report["values"] == 2
    heads = load_heads(store_models_dir(tmp_path, "shop"))
    assert set(heads.values) == {("pattern", "pattern__striped"), ("pattern", "pattern__solid")}
    assert not any(attr == "color" for attr, _ in heads.values)  # a rejection is no label (colour: no head)
    taxonomy = Taxonomy.load()
    striped = STRIPED * 1.0
    assert striped.shape == (TEXT_DIM,)
    [hit] = heads.value_hits(taxonomy, HeadInput(striped, None, None, "aa-1-13-8", "title"))
    assert hit.value == "pattern__striped" and hit.precision >= 0.8
    [hit] = heads.value_hits(taxonomy, HeadInput(-striped, None, None, "aa-1-13-8", "title"))
    assert hit.value == "pattern__solid"
