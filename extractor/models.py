"""What an extractor returns for one product: always inside the taxonomy."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class CategoryGuess(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str  # taxonomy category id, e.g. "aa-1-13-8"
    name: str
    full_name: str
    confidence: float = Field(ge=0, le=1)


class ExtractedValue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    value: str  # taxonomy value handle, e.g. "color__black"
    value_id: int
    name: str
    confidence: float = Field(ge=0, le=1)
    source: Literal["image", "text", "merchant"]
    # A store head's answer: the precision its answers reached on the store's held-out products (at the
    # threshold it answers above); None for the general rules and the merchant's own values.
    precision: float | None = Field(default=None, ge=0, le=1)
    # A colour read from (or named on) one photo: that photo's index among the product's images, so that a
    # search for the colour can show the product in it.
    image: int | None = Field(default=None, ge=0)


class ExtractedAttribute(BaseModel):
    model_config = ConfigDict(extra="forbid")

    handle: str  # taxonomy attribute handle
    name: str
    values: list[ExtractedValue]


class Safety(BaseModel):
    model_config = ConfigDict(extra="forbid")

    flagged: bool = False
    reasons: list[str] = Field(default_factory=list)
    scores: dict[str, float] = Field(default_factory=dict)


class ImageNote(BaseModel):
    model_config = ConfigDict(extra="forbid")

    image: int  # index into the product's images
    issue: Literal["too_small", "blurred", "near_blank", "duplicate", "unreadable"]
    detail: str = ""


class Extraction(BaseModel):
    model_config = ConfigDict(extra="forbid")

    category: CategoryGuess | None = None
    alternatives: list[CategoryGuess] = Field(default_factory=list)
    attributes: list[ExtractedAttribute] = Field(default_factory=list)
    description: str = ""
    safety: Safety = Field(default_factory=Safety)
    image_notes: list[ImageNote] = Field(default_factory=list)
    errors: list[str] = Field(default_factory=list)  # per-product problems that left a partial result
    dropped_values: int = 0  # model answers outside the taxonomy, dropped and counted
    extractor: str  # backend name, e.g. "local"
    extractor_version: str
    taxonomy_version: str
    timings_ms: dict[str, float] = Field(default_factory=dict)


class VariantPhoto(BaseModel):
    """The photo of one variant (or of several that share it, e.g. the sizes of one colour)."""

    model_config = ConfigDict(extra="forbid")

    image: int = Field(ge=0)  # index into ProductInput.images
    # The options every variant shown by this photo shares, by the merchant's own names ({"color": "Red"});
    # empty when the merchant named none (a catalog of photos and titles only).
    options: dict[str, str] = Field(default_factory=dict)


class ProductInput(BaseModel):
    """What an extractor reads of a product (the indexer builds it from its Product; the suggest
    endpoint from the listing form). Images are local paths or already-read bytes."""

    model_config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)

    product_id: str = ""
    title: str = ""
    description: str = ""
    tags: list[str] = Field(default_factory=list)
    vendor: str = ""
    product_type: str = ""
    images: list[str | bytes] = Field(default_factory=list)
    # Which of the images are variant photos (Shopify "Variant Image", Magento per-variant images).
    variant_photos: list[VariantPhoto] = Field(default_factory=list)
    # Merchant-given attributes by the merchant's own names ("color": ["Black", "Red"]).
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    merchant_category: str | None = None

    @model_validator(mode="after")
    def _variant_photos_are_images(self) -> ProductInput:
        strays = [p.image for p in self.variant_photos if p.image >= len(self.images)]
        if strays:
            raise ValueError(f"variant photo index {strays[0]} is not one of the {len(self.images)} images")
        return self
