"""Nothing learned from one store is used for another, and a store without labels gets the general rules,
unchanged: no heads are saved for it and its extractor is the shared one."""

from __future__ import annotations

import numpy as np
import pytest

from extractor.local import LocalExtractor
from extractor.local import attribute_heads as ah
from extractor.local.train import StoreHeads
from extractor.models import ProductInput
from indexer.models import Product
from indexer.runtime import extractor_for_store, store_heads_dir
from indexer.settings import Settings
from indexer.store import CatalogStore
from indexer.training import store_models_dir, train_store
from taxonomy import Taxonomy

LISTING = ProductInput(title="Striped cotton t-shirt", description="A soft crew neck tee.")


def always_floral() -> ah.AttributeHeads:
    """A pattern head that answers Floral for any product of a category with a pattern (threshold 0)."""
    layout = ah.Layout([])
    head = ah.AttributeHead("pattern", "single", ["pattern__floral", "pattern__solid"],
                            np.zeros((2, layout.dim), np.float32), np.array([2.0, 0.0], np.float32),
                            np.zeros((len(ah.TEXT_KINDS), 2), np.float32),
                            np.full((len(ah.TEXT_KINDS), 2), 0.83, np.float32))
    return ah.AttributeHeads(layout, [head])


@pytest.fixture
def settings(tmp_path):
    return Settings(CATALOG_HOME=tmp_path / "home", DATABASE_URL=None, CELERY_BROKER_URL=None)


def values(extraction) -> dict[str, list[tuple[str, str, float | None]]]:
    return {a.handle: [(v.value, v.source, v.precision) for v in a.values] for a in extraction.attributes}


def test_one_store_s_heads_answer_for_that_store_only(settings):
    StoreHeads([], np.zeros((0, 1)), np.zeros(0), attribute_heads=always_floral()).save(
        store_models_dir(settings.catalog_home, "trained"))
    base = LocalExtractor(safety=False)
    trained = extractor_for_store(settings, base, "trained")
    other = extractor_for_store(settings, base, "other")
    assert other is base and store_heads_dir(settings, "other") is None
    assert trained.version.endswith("+heads.v1") and base.version == LocalExtractor.version
    [plain] = base.extract([LISTING])
    [with_heads] = trained.extract([LISTING])
    [for_other] = other.extract([LISTING])
    assert values(for_other) == values(plain)  # the general rules, unchanged
    assert all(v.precision is None for a in plain.attributes for v in a.values)
    assert ("pattern__floral", "text", pytest.approx(0.83)) in values(with_heads)["pattern"]
    # The rules' own values are all still there: the heads add, they do not take away.
    for handle, found in values(plain).items():
        assert set(found) <= set(values(with_heads)[handle])


def test_a_store_without_labels_gets_no_heads(settings):
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    try:
        catalog.upsert_products([Product(store="bare", product_id=f"p{i}", title=f"Tee {i}") for i in range(12)])
        with pytest.raises(ValueError, match="0 merchant-labelled products"):
            train_store(catalog, "bare", settings.catalog_home, Taxonomy.load())
    finally:
        catalog.close()
    assert store_heads_dir(settings, "bare") is None
    base = LocalExtractor(safety=False)
    assert extractor_for_store(settings, base, "bare") is base
