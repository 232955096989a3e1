"""The backend-neutral document every index engine takes (derived from store rows, never edited)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

# Namespace for point ids: engines that need UUIDs (Qdrant) derive them from (store, product_id).
_POINT_NAMESPACE = uuid.UUID("6f1c7c0e-3d0a-4c55-9a57-2b7f3f2f5d11")


# Attributes whose names go into the product embedding (the rest are for filters and facets).
EMBEDDED_ATTRIBUTES = frozenset({"color", "target-gender", "age-group", "fabric", "material", "pattern", "activity",
                                 "style"})
# The description's opening that goes into the product embedding (about 30 MiniLM tokens).
EMBEDDED_DESCRIPTION_CHARS = 120


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
    created_at: float = 0.0  # epoch seconds, for "newest"
    flagged: bool = False  # safety: excluded from search by default

    def attribute_values(self, handle: str) -> list[str]:
        return [a.value for a in self.attributes if a.handle == handle]

    def attribute_text(self) -> str:
        """Attribute value names as one text field for lexical retrieval."""
        return " ".join(dict.fromkeys(a.name for a in self.attributes))

    def embedding_text(self) -> str:
        """What the text embedding of a product is computed from: what it is and what it looks like.
        Sizes are left out: a dozen size names drown the few words that tell products apart. Of the
        description only its opening (EMBEDDED_DESCRIPTION_CHARS): the title, category and attributes carry
        the meaning, and MiniLM's cost grows with every token (it was trained on 128-token inputs)."""
        kind = self.category_name.split(" > ")[-1] if self.category_name else ""
        shelf = self.merchant_category.replace("/", " ")
        looks = " ".join(dict.fromkeys(a.name for a in self.attributes if a.handle in EMBEDDED_ATTRIBUTES))
        parts = [self.title, kind, shelf, looks, opening(self.description, EMBEDDED_DESCRIPTION_CHARS)]
        return ". ".join(p for p in parts if p)

    def point_id(self) -> str:
        return point_id(self.store, self.product_id)


def opening(text: str, max_chars: int) -> str:
    """The first sentences of `text` that fit in `max_chars`; at least the first one, cut at a word."""
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    if end >= max_chars // 3:
        return cut[:end + 1]
    return cut.rsplit(" ", 1)[0]


def point_id(store: str, product_id: str) -> str:
    return str(uuid.uuid5(_POINT_NAMESPACE, f"{store}\x1f{product_id}"))
