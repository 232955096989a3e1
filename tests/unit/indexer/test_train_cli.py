"""`catalog train` prints per-attribute and overall held-out precision, recall and F1, the learning curve
with `--curve`, and the same report as JSON with `--json`; HEAD_TARGET_PRECISION sets the target."""

from __future__ import annotations

import json

import numpy as np

from indexer.models import Product
from indexer.store import CatalogStore

DIRECTION = np.random.default_rng(3).normal(size=384).astype(np.float32) * 0.3


def test_catalog_train_prints_the_held_out_table_the_curve_and_json(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    import extractor.local.train as train
    from extractor.local.features import HeadInput
    from indexer.settings import get_settings
    from search_api.cli import app

    def fake(products, extractor=None, views=train.TRAIN_VIEWS):
        rng = np.random.default_rng(0)
        out = []
        for product in products:
            vec = rng.normal(size=384).astype(np.float32) * 0.3 + (DIRECTION if "striped" in product.title
                                                                    else -DIRECTION)
            out.append({v: HeadInput(vec, None, None, "aa-1-13-8", "title") for v in views})
        return out

    monkeypatch.setattr(train, "head_inputs", fake)
    home = tmp_path / "home"
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CATALOG_HOME", str(home))
    monkeypatch.setenv("HEAD_TARGET_PRECISION", "0.9")
    with CatalogStore.open(f"sqlite:///{home / 'catalog.db'}") as catalog:
        catalog.upsert_products([
            Product(store="shop", product_id=f"tee-{i}", title=f"{'striped' if i % 2 else 'plain'} tee {i}",
                    attributes={"pattern": ["Striped" if i % 2 else "Solid"]}) for i in range(40)])
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        table = runner.invoke(app, ["train", "--store", "shop", "--curve"])
        as_json = runner.invoke(app, ["train", "--store", "shop", "--json"])
        unknown = runner.invoke(app, ["train", "--store", "nope"])
    finally:
        get_settings.cache_clear()
    assert table.exit_code == 0, table.output
    assert "precision >= 0.90" in table.output and "learning curve" in table.output
    assert "pattern" in table.output and "all (micro)" in table.output
    assert as_json.exit_code == 0, as_json.output
    report = json.loads(as_json.output)
    assert report["version"] == 2 and report["target_precision"] == 0.9
    pattern = report["attributes"]["views"]["title"]["attributes"]["pattern"]
    assert pattern["precision"] >= 0.9 and pattern["recall"] > 0.5 and pattern["products"] == 40
    assert report["heads"][0]["attribute"] == "pattern" and report["heads"][0]["kind"] == "single"
    assert unknown.exit_code == 1 and "unknown store 'nope'" in unknown.output
