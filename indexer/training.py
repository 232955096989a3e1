"""`catalog train`: fit a store's light heads on its merchant-labelled products (used only for that store).
Labels are what the merchant gave in the catalog and what they kept of the listing assistant's suggestions
(accepted or edited to) and of the review queue's proposals (an accepted proposal is merchant data);
negatives are the suggestions they rejected (or edited away) and the proposals they rejected."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from extractor.local.colors import region_for
from indexer.conversions import extraction_input, merchant_attribute_values, variant_color_photos
from indexer.store.feedback import CATEGORY

TRAIN_READ_BATCH = 500  # products whose latest extractions are read in one query


def _batches(items: Iterable, size: int) -> Iterator[list]:
    batch: list = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def store_models_dir(catalog_home: Path, store: str) -> Path:
    return catalog_home / "models" / "stores" / store


def merchant_labels(product, taxonomy, extracted_category: str | None = None,
                    confirmed: dict[str, list[str]] | None = None,
                    rejected: dict[str, list[str]] | None = None) -> dict:
    """What the merchant said, in taxonomy terms: a taxonomy category id if given, attribute values that
    map onto the taxonomy (store-specific values are not taxonomy labels), and the variant photos whose
    colour the merchant named. Where the garment sits in those photos follows the merchant's category,
    else the extracted one (`extracted_category`, a taxonomy id).

    `confirmed` is the merchant's feedback on suggestions for this product (attribute or "category" -> the
    values kept: accepted, or edited to): merchant-confirmed labels where the catalog data has none for
    that attribute (the product as saved is newer than a suggestion it answered).

    `rejected` is attribute -> the values the merchant turned down for this product (the listing assistant's
    rejections and edits, the review queue's rejections): negatives, except where they are labels too."""
    values: dict[str, list[str]] = {}
    for item in merchant_attribute_values(product, taxonomy):
        if item.value in taxonomy.values:
            values.setdefault(item.handle, []).append(item.value)
    category = product.merchant_category_id if product.merchant_category_id in taxonomy.categories else None
    for attribute, kept in (confirmed or {}).items():
        if attribute == CATEGORY:
            known = [c for c in kept if c in taxonomy.categories]
            category = category or (known[-1] if known else None)
        elif attribute not in values:
            known = [v for v in kept if v in taxonomy.values]
            if known:
                values[attribute] = known
    negatives: dict[str, list[str]] = {}
    for attribute, turned_down in (rejected or {}).items():
        if attribute == CATEGORY:
            continue
        known = [v for v in dict.fromkeys(turned_down) if v in taxonomy.values and v not in values.get(attribute, ())]
        if known:
            negatives[attribute] = known
    placed_by = category or (extracted_category if extracted_category in taxonomy.categories else None)
    region = region_for(taxonomy.category(placed_by).full_name) if placed_by else "full"
    photos = [{"image": image, "value": value, "region": region}
              for image, value in variant_color_photos(product, taxonomy)]
    return {"category": category, "values": values, "color_photos": photos, "negatives": negatives}


def rejections(catalog, store: str) -> dict[str, dict[str, list[tuple[str, str | None]]]]:
    """product id -> attribute -> (value, content hash or None) the merchant rejected: in the listing
    assistant (any version of the product: None) and in the review queue (per product version)."""
    out: dict[str, dict[str, list[tuple[str, str | None]]]] = {}
    for product_id, attributes in catalog.rejected_values(store).items():
        for attribute, values in attributes.items():
            out.setdefault(product_id, {}).setdefault(attribute, []).extend((v, None) for v in values)
    for decision in catalog.review_decisions(store):
        if decision.decision == "reject" and decision.attribute != CATEGORY:
            out.setdefault(decision.product_id, {}).setdefault(decision.attribute, []).append(
                (decision.value, decision.content_hash))
    return out


def _rejected_now(product, rejected: dict[str, list[tuple[str, str | None]]] | None) -> dict[str, list[str]]:
    """The rejections that hold for the product as it is: a review rejection holds for the version it was
    made on (a merchant who changes the product may have changed what it is)."""
    if not rejected:
        return {}
    digest = product.content_hash()
    return {attribute: [v for v, h in values if h is None or h == digest] for attribute, values in rejected.items()}


def localized(photos, products: list, labels: list[dict]) -> tuple[list, list[dict]]:
    """Products and labels whose photo URLs point at the photo cache (fetched now where needed), so the
    heads learn from a store's remote photos as `catalog index` reads them."""
    products = photos.localize(products)
    labels = [{**label, "color_photos": [{**photo, "image": photos.local(photo["image"])}
                                         for photo in label["color_photos"]]} for label in labels]
    return products, labels


def store_training_data(catalog, store: str, taxonomy) -> tuple[list, list[dict]]:
    """The store's labelled products (as the extractor reads them) and their labels (`merchant_labels`)."""
    products, labels = [], []
    confirmed = catalog.confirmed_values(store)  # the merchant's feedback on suggestions: labels too
    rejected = rejections(catalog, store)  # and what they turned down: negatives
    for batch in _batches(catalog.iter_products(store), TRAIN_READ_BATCH):
        extractions = catalog.latest_extractions(store, [p.product_id for p in batch])
        for product in batch:
            extraction = extractions.get(product.product_id)
            extracted = extraction.category.id if extraction and extraction.category else None
            label = merchant_labels(product, taxonomy, extracted, confirmed.get(product.product_id),
                                    _rejected_now(product, rejected.get(product.product_id)))
            if label["category"] or label["values"] or label["color_photos"] or label["negatives"]:
                products.append(extraction_input(product))
                labels.append(label)
    return products, labels


def train_store(catalog, store: str, catalog_home: Path, taxonomy, extractor=None, photos=None,
                target_precision: float | None = None, curve: bool = False) -> dict:
    """`photos`: a PhotoResolver (indexer.photos.resolve) for products whose photos are URLs.
    `target_precision`: the precision each attribute head's threshold is chosen for (default the setting
    HEAD_TARGET_PRECISION); `curve`: add the learning curve to the report."""
    from extractor.local.train import train_store_heads

    products, labels = store_training_data(catalog, store, taxonomy)
    if len(products) < 10:
        raise ValueError(f"store {store!r} has {len(products)} merchant-labelled products; need at least 10")
    if photos is not None:
        products, labels = localized(photos, products, labels)
    if target_precision is None:
        from indexer.settings import get_settings

        target_precision = get_settings().head_target_precision
    return train_store_heads(products, labels, store_models_dir(catalog_home, store), extractor=extractor,
                             target_precision=target_precision, curve=curve)
