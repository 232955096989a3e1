"""Prompts, JSON schemas and image payloads shared by every VLM backend (openai, lmdeploy).

Both stages send OpenAI-format chat messages: LMDeploy's `api_server` takes them over HTTP and its
in-process `pipeline` takes the same list, so one builder serves both backends.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from extractor.images import ImageError, downscale, load_image
from extractor.models import ProductInput
from extractor.vlm.schema_subset import for_decoding
from taxonomy import CategoryMatch

# Safety reasons the model may report; the same vocabulary the local extractor's safety check uses.
SAFETY_REASONS = ("nudity", "weapons", "drugs", "violence", "hate")
MAX_DESCRIPTION_CHARS = 1200  # of the merchant's description, in the prompt (keeps prompts within context)
MAX_CLEAN_DESCRIPTION = 600  # of the description the model writes back

SYSTEM_PROMPT = (
    "You are a product catalog expert. You classify products into the Shopify Standard Product Taxonomy "
    "and extract attribute values from product photos and listing text. Answer with a single JSON object "
    "that follows the requested schema exactly, and nothing else. Only use values you can see in the photos "
    "or read in the text; leave an attribute as an empty list when unsure."
)


@dataclass(frozen=True, slots=True)
class PreparedImage:
    index: int  # position in ProductInput.images
    data_url: str  # data:image/jpeg;base64,...


def image_data_url(source: str | bytes, *, max_side: int, quality: int = 85) -> str:
    """Decode safely (size, pixel and format caps), downscale, re-encode as a JPEG data URL.

    Re-encoding also strips EXIF and anything hostile in the original bytes before it leaves the process.
    """
    image = downscale(load_image(source, draft_size=(max_side, max_side)), max_side)
    buf = io.BytesIO()
    image.save(buf, format="JPEG", quality=quality)
    return "data:image/jpeg;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def prepare_images(images: Sequence[str | bytes], *, max_images: int,
                   max_side: int) -> tuple[list[PreparedImage], list[tuple[int, str]]]:
    """The first `max_images` usable images as data URLs, and (index, reason) for the unusable ones."""
    prepared: list[PreparedImage] = []
    problems: list[tuple[int, str]] = []
    for index, source in enumerate(images):
        if len(prepared) >= max_images:
            break
        try:
            prepared.append(PreparedImage(index, image_data_url(source, max_side=max_side)))
        except ImageError as exc:
            problems.append((index, str(exc)))
    return prepared, problems


def product_text(product: ProductInput) -> str:
    """The listing as the model reads it; empty fields are left out so they do not read as evidence."""
    lines: list[str] = []
    if product.title:
        lines.append(f"Title: {product.title.strip()}")
    if product.product_type:
        lines.append(f"Product type: {product.product_type.strip()}")
    if product.merchant_category:
        lines.append(f"Merchant category: {product.merchant_category.strip()}")
    if product.vendor:
        lines.append(f"Brand: {product.vendor.strip()}")
    if product.tags:
        lines.append("Tags: " + ", ".join(t.strip() for t in product.tags if t.strip()))
    for name, values in product.attributes.items():
        if values:
            lines.append(f"{name}: {', '.join(values)}")
    if product.description:
        text = " ".join(product.description.split())
        if len(text) > MAX_DESCRIPTION_CHARS:
            text = text[:MAX_DESCRIPTION_CHARS] + "..."
        lines.append(f"Description: {text}")
    return "\n".join(lines) if lines else "(no listing text)"


def search_text(product: ProductInput) -> str:
    """What the category shortlist is searched with: the fields that name the product."""
    parts = [product.title, product.product_type, product.merchant_category or "", " ".join(product.tags),
             product.description[:300]]
    return " ".join(p for p in parts if p).strip()


def _user_message(text: str, images: Sequence[PreparedImage]) -> dict[str, Any]:
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    content += [{"type": "image_url", "image_url": {"url": img.data_url}} for img in images]
    return {"role": "user", "content": content}


# ---------------------------------------------------------------- stage 1: category

CATEGORY_SCHEMA_NAME = "product_category"


def category_schema(candidates: Sequence[CategoryMatch]) -> dict[str, Any]:
    """Constrains the answer to one of the shortlisted ids: guided decoding cannot invent a category."""
    return {
        "type": "object",
        "properties": {"category_id": {"type": "string", "enum": [c.category_id for c in candidates]}},
        "required": ["category_id"],
        "additionalProperties": False,
    }


def category_messages(product: ProductInput, candidates: Sequence[CategoryMatch],
                      images: Sequence[PreparedImage]) -> list[dict[str, Any]]:
    options = "\n".join(f"- {c.category_id}: {c.full_name}" for c in candidates)
    text = (
        f"{product_text(product)}\n\n"
        f"Which taxonomy category fits this product best? Candidates (id: full name):\n{options}\n\n"
        'Answer as JSON: {"category_id": "<one of the candidate ids>"}'
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, _user_message(text, images)]


# ---------------------------------------------------------------- stage 2: attributes, description, safety

ATTRIBUTES_SCHEMA_NAME = "product_attributes"


def attributes_schema(category_schema_: dict[str, Any]) -> dict[str, Any]:
    """The taxonomy's schema for the category under `attributes`, plus a clean description and safety.

    Every attribute is made required (an empty list stays allowed) so that guided decoding walks the
    model through each attribute instead of letting it close the object early. Keywords stay within
    `schema_subset` (its `for_decoding` bounds the lists instead of `uniqueItems`).
    """
    attributes = {k: v for k, v in for_decoding(category_schema_).items() if k not in ("$schema", "$id")}
    attributes["required"] = list(category_schema_.get("properties", {}))
    return {
        "$schema": category_schema_.get("$schema", "https://json-schema.org/draft/2020-12/schema"),
        "type": "object",
        "properties": {
            "description": {"type": "string", "maxLength": MAX_CLEAN_DESCRIPTION},
            "attributes": attributes,
            "unsafe": {"type": "array", "items": {"type": "string", "enum": list(SAFETY_REASONS)},
                       "maxItems": len(SAFETY_REASONS)},
        },
        "required": ["description", "attributes", "unsafe"],
        "additionalProperties": False,
    }


def attributes_messages(product: ProductInput, category_full_name: str, category_schema_: dict[str, Any],
                        images: Sequence[PreparedImage]) -> list[dict[str, Any]]:
    listing = []
    for handle, prop in category_schema_.get("properties", {}).items():
        allowed = prop.get("items", {}).get("enum", [])
        shown = ", ".join(allowed[:40]) + (", ..." if len(allowed) > 40 else "")
        listing.append(f"- {handle} ({prop.get('title', handle)}): {shown}")
    text = (
        f"{product_text(product)}\n\n"
        f"Category: {category_full_name}\n"
        "For each attribute below, list the values that apply to this product, using only the allowed "
        "value names (several may apply; an empty list when unknown):\n" + "\n".join(listing) + "\n\n"
        "Also write `description`: a clean, factual one-paragraph product description without marketing "
        "claims, prices or shipping details. Set `unsafe` to the reasons the photos break a marketplace's "
        f"terms of service ({', '.join(SAFETY_REASONS)}), or an empty list.\n"
        'Answer as JSON: {"description": "...", "attributes": {"<attribute>": ["<value>", ...]}, '
        '"unsafe": []}'
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, _user_message(text, images)]


def correction_message(problem: str) -> dict[str, Any]:
    """Appended after a malformed answer, so the retry is told what was wrong with the last one."""
    return {"role": "user", "content": f"Your previous answer was not usable ({problem}). "
                                       "Reply again with only the JSON object, following the schema."}
