"""Store rows to engine documents and extractor inputs: pure functions, no I/O.

The merchant's own data wins over extraction: an attribute the merchant filled keeps the merchant's
values, and a merchant-given taxonomy category beats the extracted one.
"""

from __future__ import annotations

import re
from datetime import datetime

from extractor.models import Extraction, ProductInput, VariantPhoto
from indexer.documents import AttributeValue, IndexDocument
from indexer.models import Product

# Merchant attribute names to taxonomy attribute handles, tried in order; the first handle whose
# values match wins. Names not listed here are tried as handles directly, then kept store-specific.
ATTRIBUTE_ALIASES: dict[str, tuple[str, ...]] = {
    "color": ("color",),
    "colour": ("color",),
    "size": ("size",),
    "gender": ("target-gender",),
    "target_gender": ("target-gender",),
    "material": ("fabric", "material"),
    "fabric": ("fabric", "material"),
    "pattern": ("pattern",),
    "activity": ("activity",),
    "style_general": ("style",),
    "style_bottom": ("style",),
    "style_bags": ("style",),
    "strap_bags": ("strap",),
    "features_bags": ("features",),
    "category_gear": ("gear-type",),
    "climate": ("climate",),
    "age_group": ("age-group",),
    "sleeve": ("sleeve-length-type",),
}
# Flags and bookkeeping that are not shopper-facing attributes.
IGNORED_ATTRIBUTES = frozenset({
    "has_options", "required_options", "eco_collection", "performance_fabric", "erin_recommends",
    "new", "sale", "gift_message_available", "quantity_and_stock_status",
})
_SLUG_RE = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    return _SLUG_RE.sub("_", text.lower()).strip("_")


def merchant_attribute_values(product: Product, taxonomy) -> list[AttributeValue]:
    """Merchant attributes and variant options, mapped onto taxonomy values where they match."""
    raw: dict[str, list[str]] = {}
    for name, values in product.attributes.items():
        raw.setdefault(slug(name), []).extend(values)
    for variant in product.variants:
        for name, value in variant.options.items():
            raw.setdefault(slug(name), []).append(value)

    out: dict[tuple[str, str], AttributeValue] = {}
    for name, values in raw.items():
        if name in IGNORED_ATTRIBUTES:
            continue
        candidates = ATTRIBUTE_ALIASES.get(name, (name.replace("_", "-"),))
        for value in dict.fromkeys(v.strip() for v in values if v and v.strip()):
            mapped = _map_value(taxonomy, candidates, value)
            out.setdefault((mapped.handle, mapped.value), mapped)
    # The merchant's category path often carries the audience ("Men/Tops/...").
    if product.merchant_category:
        for found in taxonomy.find_values(product.merchant_category, attributes={"target-gender", "age-group"}):
            item = AttributeValue(handle=found.attribute_handle, value=found.value_handle, name=found.name)
            out.setdefault((item.handle, item.value), item)
    return list(out.values())


def variant_color_photos(product: Product, taxonomy) -> list[tuple[str, str]]:
    """(image, taxonomy colour value handle) for each variant photo whose colour the merchant named in a
    taxonomy colour, one per image."""
    out: dict[str, str] = {}
    for variant in product.variants:
        color = next((v for k, v in variant.options.items() if slug(k) in ("color", "colour") and v.strip()), None)
        if variant.image and color and variant.image not in out:
            mapped = _map_value(taxonomy, ATTRIBUTE_ALIASES["color"], color.strip())
            if mapped.value in taxonomy.values:
                out[variant.image] = mapped.value
    return list(out.items())


def _map_value(taxonomy, handles: tuple[str, ...], value: str) -> AttributeValue:
    for handle in handles:
        try:
            matches = taxonomy.match_value(handle, value)
        except KeyError:  # not a taxonomy attribute: stays store-specific
            continue
        if matches:
            best = matches[0]
            return AttributeValue(handle=best.attribute_handle, value=best.value_handle, name=best.name)
    handle = handles[0]
    return AttributeValue(handle=handle, value=f"{handle}__{slug(value)}", name=value)


def extracted_attribute_values(extraction: Extraction, merchant_handles: set[str]) -> list[AttributeValue]:
    """Extracted values for attributes the merchant left empty."""
    out = []
    for attribute in extraction.attributes:
        if attribute.handle in merchant_handles:
            continue
        for v in attribute.values:
            out.append(AttributeValue(handle=attribute.handle, value=v.value, name=v.name,
                                      source="image" if v.source == "image" else "text",
                                      confidence=v.confidence))
    return out


def build_document(product: Product, extraction: Extraction | None, taxonomy) -> IndexDocument:
    merchant = merchant_attribute_values(product, taxonomy)
    attributes = list(merchant)
    if extraction is not None:
        attributes += extracted_attribute_values(extraction, {a.handle for a in merchant})

    category_id = None
    if product.merchant_category_id and product.merchant_category_id in taxonomy.categories:
        category_id = product.merchant_category_id
    elif extraction is not None and extraction.category is not None:
        category_id = extraction.category.id
    category_path: list[str] = []
    category_name = ""
    if category_id:
        category_path = [c.id for c in taxonomy.ancestors(category_id)] + [category_id]
        category_name = taxonomy.category(category_id).full_name

    description = product.description
    if not description and extraction is not None:
        description = extraction.description
    return IndexDocument(
        store=product.store,
        product_id=product.product_id,
        title=product.title,
        description=description,
        vendor=product.vendor,
        product_type=product.product_type,
        tags=product.tags,
        category_id=category_id,
        category_path=category_path,
        category_name=category_name,
        merchant_category=product.merchant_category or "",
        attributes=attributes,
        price=product.price if product.price is not None else _min_variant_price(product),
        currency=product.currency,
        image=product.images[0] if product.images else None,
        color_images=color_images(product, extraction, taxonomy),
        created_at=_epoch(product.created_at),
        flagged=bool(extraction and extraction.safety.flagged),
    )


def color_images(product: Product, extraction: Extraction | None, taxonomy) -> dict[str, tuple[int, str]]:
    """Colour value handle -> (image index, image ref) of the photo that shows the product in it: the
    merchant's variant photos first, then the photos the extractor read each colour from."""
    images = list(product.images)
    out: dict[str, tuple[int, str]] = {}
    for ref, color in variant_color_photos(product, taxonomy):
        if ref in images:
            out.setdefault(color, (images.index(ref), ref))
    for attribute in extraction.attributes if extraction is not None else []:
        if attribute.handle != "color":
            continue
        for v in attribute.values:
            if v.image is not None and v.image < len(images) and isinstance(images[v.image], str):
                out.setdefault(v.value, (v.image, images[v.image]))
    return out


def extraction_input(product: Product) -> ProductInput:
    return ProductInput(
        product_id=product.product_id,
        title=product.title,
        description=product.description,
        tags=product.tags,
        vendor=product.vendor,
        product_type=product.product_type,
        images=list(product.images),
        variant_photos=variant_photos(product),
        attributes=dict(product.attributes),
        merchant_category=product.merchant_category,
    )


def variant_photos(product: Product) -> list[VariantPhoto]:
    """One per distinct variant photo: its position among the product's images and the options that every
    variant it shows shares (the sizes of one colour share a photo: their colour, not their sizes)."""
    shared: dict[str, dict[str, str]] = {}
    for variant in product.variants:
        if variant.image is None:
            continue
        options = shared.setdefault(variant.image, dict(variant.options))
        for name in [n for n, value in options.items() if variant.options.get(n) != value]:
            del options[name]
    return [VariantPhoto(image=product.images.index(image), options=options) for image, options in shared.items()]


def _min_variant_price(product: Product) -> float | None:
    prices = [v.price for v in product.variants if v.price is not None]
    return min(prices) if prices else None


def _epoch(value: str | None) -> float:
    if not value:
        return 0.0
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        for fmt in ("%m/%d/%y %H:%M", "%m/%d/%Y %H:%M", "%Y-%m-%d %H:%M:%S"):
            try:
                return datetime.strptime(value, fmt).timestamp()
            except ValueError:
                continue
    return 0.0
