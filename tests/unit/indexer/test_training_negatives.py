"""Merchant feedback is labels, both ways: what the merchant kept counts as a label and what they turned down
(rejected or edited away in the listing assistant, rejected in the review queue) counts as a negative, which
the attribute heads learn from."""

from __future__ import annotations

import numpy as np
import pytest

from indexer.models import Product
from indexer.store import CatalogStore
from indexer.store.feedback import FeedbackItem
from indexer.store.reviews import ReviewDecision
from indexer.training import merchant_labels, rejections, store_training_data, train_store
from taxonomy import Taxonomy

TEES = "aa-1-13-8"


def item(attribute, suggested, decision, final=None) -> FeedbackItem:
    return FeedbackItem(attribute=attribute, suggested_value=suggested, decision=decision, final_value=final)


@pytest.fixture
def catalog(tmp_path):
    store = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    yield store
    store.close()


def test_rejected_and_edited_away_suggestions_are_negatives(catalog):
    catalog.upsert_products([Product(store="shop", product_id="p", title="Tee")])
    catalog.record_feedback("shop", [item("pattern", "pattern__floral", "rejected"),
                                     item("fabric", "fabric__wool", "edited", "fabric__cotton"),
                                     item("category", "aa-1-12", "rejected")],
                            product_id="p", extractor="local", extractor_version="5")
    catalog.record_feedback("shop", [item("pattern", "pattern__plaid", "rejected")], product_id=None,
                            extractor="local", extractor_version="5")  # a listing never saved
    assert catalog.rejected_values("shop") == {"p": {"pattern": ["pattern__floral"], "fabric": ["fabric__wool"]}}
    # A later submission on the attribute replaces the earlier one (the merchant changed their mind).
    catalog.record_feedback("shop", [item("pattern", "pattern__floral", "accepted")], product_id="p",
                            extractor="local", extractor_version="5")
    assert catalog.rejected_values("shop") == {"p": {"fabric": ["fabric__wool"]}}
    assert catalog.confirmed_values("shop")["p"]["pattern"] == ["pattern__floral"]


def test_review_rejections_hold_for_the_version_they_were_made_on(catalog):
    taxonomy = Taxonomy.load()
    product = Product(store="shop", product_id="p", title="Tee", attributes={"pattern": ["Solid"]})
    catalog.upsert_products([product])
    catalog.record_review_decisions([
        ReviewDecision("shop", "p", "fabric", "fabric__wool", "reject", product.content_hash()),
        ReviewDecision("shop", "p", "fabric", "fabric__silk", "reject", "0" * 64),  # an older version
        ReviewDecision("shop", "p", "neckline", "neckline__crew", "accept", product.content_hash()),
        ReviewDecision("shop", "p", "pattern", "pattern__solid", "reject", product.content_hash()),
    ])
    products, labels = store_training_data(catalog, "shop", taxonomy)
    [label] = labels
    assert label["negatives"] == {"fabric": ["fabric__wool"]}  # solid is the merchant's own value: a label
    assert label["values"]["pattern"] == ["pattern__solid"]
    assert set(rejections(catalog, "shop")["p"]["fabric"]) == {("fabric__wool", product.content_hash()),
                                                                ("fabric__silk", "0" * 64)}


def test_a_product_with_only_rejections_is_trained_on():
    taxonomy = Taxonomy.load()
    product = Product(store="s", product_id="p", title="Tee")
    labels = merchant_labels(product, taxonomy, rejected={"pattern": ["pattern__floral", "pattern__zzz"],
                                                          "category": ["aa-1-12"]})
    assert labels["negatives"] == {"pattern": ["pattern__floral"]} and labels["values"] == {}


@pytest.fixture
def features(monkeypatch):
    """Head inputs without the models: every tee reads alike, so only the labels (and negatives) teach."""
    import extractor.local.train as train
    from extractor.local.features import TEXT_DIM, HeadInput

    def fake(products, extractor=None, views=train.TRAIN_VIEWS):
        rng = np.random.default_rng(0)
        return [{v: HeadInput(rng.normal(size=TEXT_DIM).astype(np.float32) * 0.1, None, None, TEES, "title")
                 for v in views} for _ in products]

    monkeypatch.setattr(train, "head_inputs", fake)


def test_negatives_reach_the_heads(tmp_path, catalog, features):
    """Half the tees are labelled Solid, a third Striped; on the rest the merchant rejected Solid. The head's
    belief in Solid for an unlabelled tee is lower with those rejections than without them."""
    from extractor.local.features import TEXT_DIM, HeadInput
    from extractor.local.train import load_heads
    from indexer.training import store_models_dir

    taxonomy = Taxonomy.load()
    products = []
    for i in range(30):
        pattern = ["Solid"] if i < 15 else ["Striped"] if i < 25 else []
        products.append(Product(store="shop", product_id=f"tee-{i}", title=f"Tee {i}", merchant_category_id=TEES,
                                attributes={"pattern": pattern} if pattern else {}))
    catalog.upsert_products(products)
    probe = HeadInput(np.zeros(TEXT_DIM, np.float32), None, None, TEES, "title")

    def solid_probability(home) -> float:
        train_store(catalog, "shop", home, taxonomy)
        heads = load_heads(store_models_dir(home, "shop")).attribute_heads
        [head] = [h for h in heads.heads if h.attribute == "pattern"]
        z = heads.layout.rows([probe], taxonomy)
        return float(head.proba(z)[0, head.classes.index("pattern__solid")])

    without = solid_probability(tmp_path / "a")
    for i in range(25, 30):
        catalog.record_feedback("shop", [item("pattern", "pattern__solid", "rejected")], product_id=f"tee-{i}",
                                extractor="local", extractor_version="5")
    with_negatives = solid_probability(tmp_path / "b")
    assert with_negatives < without - 0.02
