"""Merchant-side product model: what importers produce and the catalog store keeps."""

from __future__ import annotations

import hashlib
import json
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

STORE_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sku: str
    options: dict[str, str] = Field(default_factory=dict)  # e.g. {"color": "Black", "size": "XS"}
    price: float | None = None
    # The photo of this variant, one of the product's images (Shopify's "Variant Image"). A variant photo
    # whose colour option the merchant named is what a store's colour head learns from (`catalog train`).
    image: str | None = None


class Product(BaseModel):
    """One product of one store, as the merchant gave it. Extractions are kept apart (see store)."""

    model_config = ConfigDict(extra="forbid")

    store: str
    product_id: str = Field(min_length=1, max_length=255)
    title: str = ""
    description: str = ""  # plain text
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = Field(default_factory=list)
    price: float | None = Field(default=None, ge=0)
    currency: str = "USD"
    variants: list[Variant] = Field(default_factory=list)
    # Local file paths (absolute, or relative to the catalog's import root) or http(s) URLs, in order.
    images: list[str] = Field(default_factory=list)
    # Merchant-given attributes, keyed by attribute name as the merchant wrote it ("color", "material").
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    # The merchant's own category, e.g. "Men/Tops/Hoodies & Sweatshirts", and a taxonomy id if given.
    merchant_category: str | None = None
    merchant_category_id: str | None = None
    created_at: str | None = None  # ISO-8601 as given by the source

    @field_validator("store")
    @classmethod
    def _store_name(cls, value: str) -> str:
        if not STORE_RE.match(value):
            raise ValueError("store must be 1-64 chars of lowercase letters, digits, '-' or '_'")
        return value

    @model_validator(mode="after")
    def _variant_images_are_product_images(self) -> Product:
        strays = [v.sku for v in self.variants if v.image is not None and v.image not in self.images]
        if strays:
            raise ValueError(f"variant image of {', '.join(strays[:3])} is not one of the product's images")
        return self

    def content_hash(self) -> str:
        """Hash of everything the extractor and the indexes read; unchanged hash means no work."""
        payload = self.model_dump(mode="json")
        for variant in payload["variants"]:
            # Added after catalogs were hashed: an unset image keeps their hashes, so upgrading re-extracts
            # nothing.
            if variant["image"] is None:
                del variant["image"]
        return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()

    def option_values(self, name: str) -> list[str]:
        """Distinct values of one variant option, in first-seen order."""
        seen: dict[str, None] = {}
        for variant in self.variants:
            value = variant.options.get(name)
            if value:
                seen.setdefault(value, None)
        return list(seen)
