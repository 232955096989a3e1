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


@pytest.fixture
def features(monkeypatch):
    """Product features without the models: a striped product's row leans one way, a solid one's the other."""
    import extractor.local.train as train

    def fake(products, extractor=None, batch_size=32):
        rows = np.zeros((len(products), train.FEATURES), dtype=np.float32)
        for i, product in enumerate(products):
            rows[i, 0] = 1.0 if "striped" in product.title else -1.0
            rows[i, 1] = (i % 3) * 0.1
        return rows

    monkeypatch.setattr(train, "product_features", fake)


def test_a_value_learnt_only_from_feedback_reaches_the_heads(tmp_path, features):
    from extractor.local.train import load_heads
    from indexer.store import CatalogStore
    from indexer.training import store_models_dir

    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    try:
        # Titles and photos only: the catalog names no pattern (and no taxonomy value at all).
        kinds = ["striped", "solid"] * 6
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
    assert report["products"] == 12 and report["values"] == 2
    heads = load_heads(store_models_dir(tmp_path, "shop"))
    assert set(heads.values) == {("pattern", "pattern__striped"), ("pattern", "pattern__solid")}
    assert not any(attr == "color" for attr, _ in heads.values)  # a rejection is no label
    striped = heads.values.index(("pattern", "pattern__striped"))
    x = np.zeros((2, heads.val_w.shape[1]), dtype=np.float32)
    x[0, 0], x[1, 0] = 1.0, -1.0
    proba = heads.value_proba(x)
    assert proba[0, striped] > 0.5 > proba[1, striped]
