"""The benchmark catalog generator: seeded, distinct titles, valid products, stores of very different sizes."""

from __future__ import annotations

import importlib.util
from collections import Counter
from pathlib import Path

from indexer.models import Product

_SPEC = importlib.util.spec_from_file_location(
    "generate_catalog", Path(__file__).resolve().parents[2] / "benchmarks" / "generate_catalog.py")
generate_catalog = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(generate_catalog)


def test_same_seed_same_catalog_and_every_product_is_valid_and_distinct():
    first = list(generate_catalog.generate(400, seed=3))
    assert first == list(generate_catalog.generate(400, seed=3))
    assert first != list(generate_catalog.generate(400, seed=4))
    assert len({p["title"] for p in first}) == 400
    for raw in first:
        Product.model_validate(raw)
    stores = Counter(p["store"] for p in first)
    assert stores == {"mega": 320, "outfitters": 48, "homegoods": 20, "corner": 10, "boutique": 2}
    assert 0.2 < sum("attributes" in p for p in first) / 400 < 0.6
    assert any(len(p.get("variants", [])) > 1 for p in first)
