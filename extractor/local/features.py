"""What the local extractor and a store's trained heads read of a product, shared by both (extractor.py
runs the rules on it, train.py fits and applies the heads; neither imports the other's internals).

- Photos: every photo of the product decoded as the extractor decodes it (`decode_photo`, `load_photos`:
  unreadable ones noted and skipped, exact duplicates skipped, at most MAX_IMAGES), then the EfficientNet-
  Lite0 pooled feature of each; `pooled` gives their mean and their element-wise max over ALL the photos.
- Text: the MiniLM vector of `category_query` (title, the title's taxonomy wording, the merchant's path,
  product type and tags, then the opening of the description): the vector the category ranking uses, so a
  listing costs no second embedding.
- Category: the predicted taxonomy category.

`read_head_inputs` computes these for training, for several views of each product (the catalog product as
it is; the listing form: title and description; title only; photos only), with one pass of the image model.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from PIL import Image

from extractor.embeddings import DIM as TEXT_DIM
from extractor.images import ImageError, downscale, load_image
from extractor.local.imagenet import FEATURE_DIM, ImageLabels
from extractor.local.quality import PhotoPrint, image_notes
from extractor.local.text import clean_text
from extractor.models import ImageNote, ProductInput

DRAFT = (448, 448)  # JPEG decodes at 1/2..1/8 scale: a 1000 px photo decodes at ~500 px
MODEL_SIDE = 640  # the largest side the image models and the colour reading see
# Photos per product that go through the models: every photo of a real product (Shopify allows 250, but
# product pages show a dozen or so; each colour variant has its own). They run batched across products.
MAX_IMAGES = 16

TextKind = Literal["description", "title", "none"]
TEXT_KINDS: tuple[TextKind, ...] = ("description", "title", "none")
# Views of a product that training reads: the product as the catalog has it, and what a listing gives.
View = Literal["catalog", "listing", "title", "photos"]
VIEWS: tuple[View, ...] = ("catalog", "listing", "title", "photos")


def decode_photo(source: str | bytes) -> tuple[Image.Image, tuple[int, int]]:
    """A product photo as the local extractor reads it (a path or the file's bytes), and its size as decoded
    before it was brought down to MODEL_SIDE (what the quality notes judge). Raises ImageError."""
    image = load_image(source, draft_size=DRAFT)
    return downscale(image, MODEL_SIDE), image.size


@dataclass
class LoadedPhotos:
    images: list[Image.Image] = field(default_factory=list)
    image_index: list[int] = field(default_factory=list)  # position in product.images
    notes: list[ImageNote] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    ms: float = 0.0


def load_photos(product: ProductInput) -> LoadedPhotos:
    """Every readable photo of the product, in order: an unreadable one is noted (and an error), a duplicate
    of an earlier one is noted and skipped, and at most MAX_IMAGES go on to the models."""
    started = time.perf_counter()
    out = LoadedPhotos()
    seen: list[PhotoPrint] = []
    for idx, source in enumerate(product.images):
        try:
            image, original = decode_photo(source)
        except ImageError as exc:
            out.errors.append(f"image {idx}: {exc}")
            out.notes.append(ImageNote(image=idx, issue="unreadable", detail=str(exc)[:200]))
            continue
        except Exception as exc:  # never let one file take the batch down
            out.errors.append(f"image {idx}: unreadable ({type(exc).__name__})")
            out.notes.append(ImageNote(image=idx, issue="unreadable", detail=type(exc).__name__))
            continue
        notes = image_notes(idx, image, original, seen)
        out.notes.extend(notes)
        if any(n.issue == "duplicate" for n in notes) or len(out.images) >= MAX_IMAGES:
            continue
        out.images.append(image)
        out.image_index.append(idx)
    out.ms = round((time.perf_counter() - started) * 1000, 2)
    return out


def pooled(labels: Sequence[ImageLabels]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Mean and element-wise max of the photos' pooled image features; (None, None) without a photo."""
    if not labels:
        return None, None
    stack = np.stack([lab.features for lab in labels]).astype(np.float32)
    return stack.mean(0), stack.max(0)


def text_kind(product: ProductInput) -> TextKind:
    """How much listing text the product has: a description, a title alone, or none."""
    if clean_text(product.description):
        return "description"
    return "title" if clean_text(product.title) else "none"


def view(product: ProductInput, which: View) -> ProductInput:
    """The product as one view shows it: `catalog` as it is; `listing` what the listing form gives (title,
    description, photos: no merchant path, type, tags, attributes or variant options); `title` without the
    description too; `photos` the photos alone."""
    if which == "catalog":
        return product
    update: dict = {"merchant_category": None, "product_type": "", "tags": [], "attributes": {}, "vendor": "",
                    "variant_photos": []}
    if which in ("title", "photos"):
        update["description"] = ""
    if which == "photos":
        update["title"] = ""
    return product.model_copy(update=update)


@dataclass(frozen=True)
class HeadInput:
    """One product (in one view) as the attribute heads read it."""

    text: np.ndarray | None  # (TEXT_DIM,) MiniLM vector of category_query, None without text
    image_mean: np.ndarray | None  # (FEATURE_DIM,) over every photo read, None without one
    image_max: np.ndarray | None
    category: str | None  # the predicted taxonomy category id
    kind: TextKind = "description"


def read_head_inputs(products: Sequence[ProductInput], taxonomy, models_dir=None,
                     views: Sequence[View] = ("catalog",), batch_size: int = 32,
                     progress=None) -> list[dict[View, HeadInput]]:
    """Per product, its HeadInput in each view: the photos go through the image model once, each view's text
    through the text model, and the predicted category is the rules' (the category index on the view's text
    and the photos' ImageNet evidence; no store head)."""
    from extractor.local.category import get_category_index
    from extractor.local.imagenet import category_evidence, get_model, set_torch_threads
    from extractor.local.text import category_query, title_is_footwear

    index = get_category_index(taxonomy, models_dir)
    model = get_model()
    out: list[dict[View, HeadInput]] = []
    for start in range(0, len(products), batch_size):
        chunk = list(products[start:start + batch_size])
        loaded = [load_photos(p) for p in chunk]
        set_torch_threads()
        flat = model.run([im for photos in loaded for im in photos.images])
        per: list[list[ImageLabels]] = []
        pos = 0
        for photos in loaded:
            per.append(flat[pos:pos + len(photos.images)])
            pos += len(photos.images)
        rows: list[dict[View, HeadInput]] = [{} for _ in chunk]
        for which in views:
            shown = [view(p, which) for p in chunk]
            footwear = [title_is_footwear(p) for p in shown]
            queries = [category_query(p, footwear=f) for p, f in zip(shown, footwear, strict=True)]
            vectors, similarities = index.embed_batch(queries)
            for i, (product, labels) in enumerate(zip(shown, per, strict=True)):
                evidence: dict[str, float] = {}
                for lab in labels:
                    for cid, p in category_evidence(lab).items():
                        evidence[cid] = max(evidence.get(cid, 0.0), p)
                ranked = index.rank(queries[i], vectors.get(i), evidence, k=1,
                                    sized_by="shoe-size" if footwear[i] else None,
                                    similarities=similarities.get(i))
                mean, peak = pooled(labels)
                rows[i][which] = HeadInput(vectors.get(i), mean, peak, ranked[0].id if ranked else None,
                                           text_kind(product))
        out.extend(rows)
        if progress is not None:
            progress(len(chunk))
    return out


__all__ = ["DRAFT", "FEATURE_DIM", "MAX_IMAGES", "MODEL_SIDE", "TEXT_DIM", "TEXT_KINDS", "VIEWS", "HeadInput",
           "LoadedPhotos", "decode_photo", "load_photos", "pooled", "read_head_inputs", "text_kind", "view"]
