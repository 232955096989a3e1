"""The backend-neutral document every index engine takes (derived from store rows, never edited)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Namespace for point ids: engines that need UUIDs (Qdrant) derive them from (store, product_id).
_POINT_NAMESPACE = uuid.UUID("6f1c7c0e-3d0a-4c55-9a57-2b7f3f2f5d11")



class AttributeValue(BaseModel):
    """One attribute value on a product.

    `value` is the filter key: a taxonomy value handle (`color__black`) when the value is in the
    taxonomy, else `<handle>__<slug>` for a store-specific value (`activity__yoga`).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    handle: str  # taxonomy attribute handle, e.g. "color", "target-gender", or a store attribute "activity"
    value: str
    name: str  # display name, e.g. "Black"
    source: Literal["merchant", "text", "image"] = "merchant"
    confidence: float = 1.0


class IndexDocument(BaseModel):
    model_config = ConfigDict(extra="forbid")

    store: str
    product_id: str
    title: str
    description: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = Field(default_factory=list)
    category_id: str | None = None
    category_path: list[str] = Field(default_factory=list)  # taxonomy ids, root first, ending at category_id
    category_name: str = ""  # taxonomy full name
    merchant_category: str = ""
    attributes: list[AttributeValue] = Field(default_factory=list)
    price: float | None = None
    currency: str = "USD"
    image: str | None = None
    # The photo of each colour the product comes in, where a photo shows it (the merchant's variant photo, or
    # the photo the colour was read from): colour value handle -> (index among the product's images, ref).
    color_images: dict[str, tuple[int, str]] = Field(default_factory=dict)
    created_at: float = 0.0  # epoch seconds, for "newest"
    flagged: bool = False  # safety: excluded from search by default

    def attribute_values(self, handle: str) -> list[str]:
        return [a.value for a in self.attributes if a.handle == handle]

    def attribute_text(self) -> str:
        """Attribute value names as one text field for lexical retrieval."""
        return " ".join(dict.fromkeys(a.name for a in self.attributes))

    def embedding_text(self) -> str:
        """What the text embedding of a product is computed from: the local extractor's category query over the
        product's own listing text (title with its taxonomy wording, the merchant's shelf, product type, tags,
        the description's opening; `extractor.local.text.category_query`). The extractor embeds exactly this
        text to rank categories, so the product vector is that same MiniLM pass, not a second one
        (`extractor.embeddings.TextEmbedder` keeps recent vectors, and `indexer.realtime` stores them).
        Only merchant data: it is known before extraction, and a rebuild gives the same text."""
        from extractor.local.text import category_query
        from extractor.models import ProductInput

        return category_query(ProductInput(product_id=self.product_id, title=self.title,
                                           description=self.description, tags=self.tags,
                                           product_type=self.product_type,
                                           merchant_category=self.merchant_category or None))

    def point_id(self) -> str:
        return point_id(self.store, self.product_id)


def point_id(store: str, product_id: str) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{store}\x1f{product_id}"))
