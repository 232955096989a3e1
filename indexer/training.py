"""`catalog train`: fit a store's light heads on its merchant-labelled products (used only for that store)."""

from __future__ import annotations

from pathlib import Path

from indexer.conversions import extraction_input, merchant_attribute_values


def store_models_dir(catalog_home: Path, store: str) -> Path:
    return catalog_home / "models" / "stores" / store


def merchant_labels(product, taxonomy) -> dict:
    """What the merchant said, in taxonomy terms: a taxonomy category id if given, and attribute values
    that map onto the taxonomy (store-specific values are not taxonomy labels)."""
    values: dict[str, list[str]] = {}
    for item in merchant_attribute_values(product, taxonomy):
        if item.value in taxonomy.values:
            values.setdefault(item.handle, []).append(item.value)
    category = product.merchant_category_id if product.merchant_category_id in taxonomy.categories else None
    return {"category": category, "values": values}


def train_store(catalog, store: str, catalog_home: Path, taxonomy, extractor=None) -> dict:
    from extractor.local.train import train_store_heads

    products, labels = [], []
    for product in catalog.iter_products(store):
        label = merchant_labels(product, taxonomy)
        if label["category"] or label["values"]:
            products.append(extraction_input(product))
            labels.append(label)
    if len(products) < 10:
        raise ValueError(f"store {store!r} has {len(products)} merchant-labelled products; need at least 10")
    return train_store_heads(products, labels, store_models_dir(catalog_home, store), extractor=extractor)
