"""The `local` CPU extractor: listing text + pixels -> taxonomy category, attributes, safety, notes."""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from extractor.local import colors as colors_mod
from extractor.local import product_colors
from extractor.local.category import get_category_index
from extractor.local.features import (  # noqa: F401  (DRAFT, MODEL_SIDE, decode_photo: imported from here too)
    DRAFT,
    MAX_IMAGES,
    MODEL_SIDE,
    HeadInput,
    decode_photo,
    load_photos,
    pooled,
    text_kind,
)
from extractor.local.imagenet import ImageLabels, category_evidence, get_model, set_torch_threads
from extractor.local.safety import get_nudity_model, nudity_verdict, text_reasons
from extractor.local.text import (
    ValueHit,
    category_query,
    clean_text,
    find_text_values,
    merchant_values,
    title_is_footwear,
)
from extractor.local.train import StoreHeads, load_heads
from extractor.models import (
    CategoryGuess,
    ExtractedAttribute,
    ExtractedValue,
    Extraction,
    ImageNote,
    ProductInput,
    Safety,
)
from taxonomy import Taxonomy

log = logging.getLogger(__name__)

MAX_VALUES = 5  # values kept per attribute; colours: one per photo (a product sold in many colours)
WORKERS = max(1, min(2, os.cpu_count() or 1))  # extraction threads: the models and PIL release the GIL
MIN_SHARD = 4  # a batch smaller than two shards of this runs inline

_pool_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_text_executor: ThreadPoolExecutor | None = None


def _text_pool() -> ThreadPoolExecutor:
    """One thread for the text model (its calls are serialised by the shared embedder anyway)."""
    global _text_executor
    with _pool_lock:
        if _text_executor is None:
            _text_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="local-extractor-text")
        return _text_executor


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _pool_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(max_workers=WORKERS, thread_name_prefix="local-extractor")
        return _executor


@dataclass
class _Work:
    product: ProductInput
    images: list[Image.Image] = field(default_factory=list)
    image_index: list[int] = field(default_factory=list)  # position in product.images
    labels: list[ImageLabels] = field(default_factory=list)
    notes: list[ImageNote] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    nudity: list[dict[str, float]] = field(default_factory=list)  # nudity-model scores per image


class LocalExtractor:
    name = "local"
    # 7: a colour says which photo shows it; 6: a white garment on a white backdrop is read from its shading;
    # 5: every photo read for colour, variant photos' colours, colour-aware duplicates; 4: one-colour garments
    # are Solid, shoe-sized titles are footwear; 3: colour names, sizes
    version = "7"

    def __init__(self, models_dir: Path | None = None, ocr: bool = False, safety: bool = True,
                 store_head: Any = None) -> None:
        self.models_dir = Path(models_dir) if models_dir else None
        self.ocr = ocr
        self.safety = safety
        self.store_head: StoreHeads | None = store_head  # a store's trained heads, or a path to them
        self.taxonomy = Taxonomy.load()
        if isinstance(store_head, (str, Path)):
            self.store_head = load_heads(Path(store_head))

    # ---------------------------------------------------------------- public
    def extract(self, products: Sequence[ProductInput]) -> list[Extraction]:
        """One extraction per product, in order. A batch is split into one contiguous shard per worker
        (a core each, one intra-op thread per model call); a few products run inline."""
        products = list(products)
        workers = min(WORKERS, len(products) // MIN_SHARD)
        if workers <= 1:
            return self._extract_serial(products)
        self._warm()
        size = -(-len(products) // workers)
        shards = [products[i:i + size] for i in range(0, len(products), size)]
        return [ex for part in _pool().map(self._extract_serial, shards) for ex in part]

    def _warm(self) -> None:
        """Load the shared models once, before worker threads race to."""
        get_model()
        get_category_index(self.taxonomy, self.models_dir)
        if self.safety:
            get_nudity_model()
        set_torch_threads()

    def _extract_serial(self, products: Sequence[ProductInput]) -> list[Extraction]:
        works = [_Work(product=p) for p in products]
        footwear = [title_is_footwear(w.product) for w in works]
        queries = [category_query(w.product, footwear=f) for w, f in zip(works, footwear, strict=True)]
        index = get_category_index(self.taxonomy, self.models_dir)
        # The text model runs on its own thread while this one decodes and runs the image models: on the
        # listing-time path (one product) that overlaps the two halves of the work.
        text_job = _text_pool().submit(self._embed, index, queries)
        for work in works:
            self._load_images(work)
        set_torch_threads()  # the shared text model sets its own count when it loads
        self._run_imagenet(works)
        if self.safety:
            self._run_safety_models(works)
        vectors, similarities, embed_ms = text_job.result()
        out: list[Extraction] = []
        for i, work in enumerate(works):
            work.timings["text_embed"] = round(embed_ms, 2)
            try:
                out.append(self._finish(work, queries[i], vectors.get(i), similarities.get(i), index,
                                        footwear[i]))
            except Exception as exc:  # one product never fails the batch
                log.exception("local extraction failed for %s", work.product.product_id)
                out.append(self._empty(work, [*work.errors, f"extraction failed: {exc}"]))
        return out

    @staticmethod
    def _embed(index: Any, queries: list[str]) -> tuple[dict[int, np.ndarray], dict[int, np.ndarray], float]:
        """Per non-empty query: its vector and its similarities to every category (`CategoryIndex.embed_batch`)."""
        started = time.perf_counter()
        set_torch_threads()
        vectors, similarities = index.embed_batch(queries)
        return vectors, similarities, (time.perf_counter() - started) * 1000 / max(1, len(queries))

    # ---------------------------------------------------------------- stages
    def _load_images(self, work: _Work) -> None:
        photos = load_photos(work.product)
        work.images, work.image_index = photos.images, photos.image_index
        work.notes.extend(photos.notes)
        work.errors.extend(photos.errors)
        work.timings["decode"] = photos.ms

    def _run_imagenet(self, works: list[_Work]) -> None:
        flat = [im for w in works for im in w.images]
        if not flat:
            return
        started = time.perf_counter()
        labels = get_model().run(flat)
        per = (time.perf_counter() - started) * 1000 / len(flat)
        pos = 0
        for w in works:
            w.labels = labels[pos:pos + len(w.images)]
            pos += len(w.images)
            w.timings["image_model"] = round(per * len(w.images), 2)

    def _run_safety_models(self, works: list[_Work]) -> None:
        flat = [(w, im) for w in works for im in w.images]
        if not flat:
            return
        started = time.perf_counter()
        scores = get_nudity_model().scores([im for _, im in flat])
        per = (time.perf_counter() - started) * 1000 / len(flat)
        for (w, _), s in zip(flat, scores, strict=True):
            w.timings["safety"] = round(w.timings.get("safety", 0.0) + per, 2)
            w.nudity.append(s)

    def _finish(self, work: _Work, query: str, vector: np.ndarray | None, similarities: np.ndarray | None,
                index: Any, footwear: bool) -> Extraction:
        started = time.perf_counter()
        product = work.product
        errors = list(work.errors)
        if not product.title.strip():
            errors.append("empty title")
        evidence: dict[str, float] = {}
        for lab in work.labels:
            for cid, p in category_evidence(lab).items():
                evidence[cid] = max(evidence.get(cid, 0.0), p)
        store_scores = image_mean = image_max = None
        if self.store_head is not None:
            image_mean, image_max = pooled(work.labels)
            store_scores = self.store_head.category_scores(vector, image_mean)
        # Only categories sized by shoe size compete for a title that gives one.
        ranked = index.rank(query, vector, evidence, k=5, store_scores=store_scores,
                            sized_by="shoe-size" if footwear else None, similarities=similarities)
        category = alternatives = None
        if ranked:
            guesses = [self._guess(r.id, r.confidence) for r in ranked]
            category, alternatives = guesses[0], guesses[1:]
        else:
            errors.append("no title, text or usable image to categorise")
        work.timings["category"] = round((time.perf_counter() - started) * 1000, 2)

        started = time.perf_counter()
        hits = find_text_values(self.taxonomy, product)
        merchant, unmapped = merchant_values(self.taxonomy, product)
        hits.extend(merchant)
        region = colors_mod.region_for(category.full_name if category else "")
        namer = ((lambda reading: self.store_head.color_guesses(reading, self.taxonomy))
                 if self.store_head is not None else None)
        photos = product_colors.read_photos(zip(work.image_index, work.images, strict=True), region, namer)
        hits.extend(product_colors.color_hits(self.taxonomy, photos,
                                              product_colors.variant_colors(self.taxonomy, product),
                                              frozenset(p.image for p in product.variant_photos)))
        if self.store_head is not None:  # the store's attribute heads, under the category predicted
            hits.extend(self.store_head.value_hits(self.taxonomy, HeadInput(
                vector, image_mean, image_max, category.id if category else None, text_kind(product))))
        attributes, dropped = self._attributes(category.id if category else None, hits)
        work.timings["attributes"] = round((time.perf_counter() - started) * 1000, 2)

        safety = self._safety(work, product)
        description = clean_text(product.description)
        if self.ocr and work.images:
            description = self._ocr_append(work, description, errors)
        return Extraction(
            category=category, alternatives=alternatives or [], attributes=attributes,
            description=description, safety=safety, image_notes=work.notes, errors=errors,
            dropped_values=dropped + unmapped, extractor=self.name, extractor_version=self.version,
            taxonomy_version=self.taxonomy.version, timings_ms=work.timings,
        )

    # ---------------------------------------------------------------- helpers
    def _guess(self, cid: str, confidence: float) -> CategoryGuess:
        cat = self.taxonomy.category(cid)
        return CategoryGuess(id=cat.id, name=cat.name, full_name=cat.full_name,
                             confidence=max(0.0, min(1.0, confidence)))

    def _attributes(self, category_id: str | None, hits: list[ValueHit]) -> tuple[list[ExtractedAttribute], int]:
        """Keep values of the category's attributes; merchant beats text beats image on conflict."""
        allowed = set(self.taxonomy.category(category_id).attribute_handles) if category_id else set()
        rank = {"merchant": 3, "text": 2, "image": 1}
        by_attr: dict[str, dict[str, ValueHit]] = {}
        dropped: set[tuple[str, str]] = set()
        for hit in hits:
            if hit.attribute not in allowed:
                dropped.add((hit.attribute, hit.value))
                continue
            current = by_attr.setdefault(hit.attribute, {}).get(hit.value)
            if current is None or (rank[hit.source], hit.confidence) > (rank[current.source], current.confidence):
                by_attr[hit.attribute][hit.value] = hit
        attributes: list[ExtractedAttribute] = []
        for handle in sorted(by_attr):
            values = list(by_attr[handle].values())
            best_source = max(rank[v.source] for v in values)
            if best_source == rank["merchant"]:  # the merchant said it: other sources do not add values
                values = [v for v in values if v.source == "merchant"]
            values.sort(key=lambda v: (-rank[v.source], -v.confidence))
            attr = self.taxonomy.attribute(handle)
            attributes.append(ExtractedAttribute(handle=handle, name=attr.name, values=[
                ExtractedValue(value=v.value, value_id=v.value_id, name=v.name,
                               confidence=max(0.0, min(1.0, v.confidence)), source=v.source,  # type: ignore[arg-type]
                               precision=v.precision, image=v.image)
                for v in values[:MAX_IMAGES if handle == "color" else MAX_VALUES]]))
        # Hits of attributes outside the category: count each (attribute, value) pair once, but not the
        # alternative readings of a value the category did keep under another attribute.
        kept_values = {v.value.split("__", 1)[-1] for a in attributes for v in a.values}
        dropped_count = sum(1 for _, vh in dropped if vh.split("__", 1)[-1] not in kept_values)
        return attributes, dropped_count

    def _safety(self, work: _Work, product: ProductInput) -> Safety:
        reasons: list[str] = []
        scores: dict[str, float] = {}
        for per_image in work.nudity:
            for cls, score in per_image.items():
                scores[cls] = round(max(scores.get(cls, 0.0), score), 4)
            if nudity_verdict(per_image) and "nudity" not in reasons:
                reasons.append("nudity")
        text = " ".join([product.title, product.description, " ".join(product.tags)])
        for reason in text_reasons(text):
            if reason not in reasons:
                reasons.append(reason)
        return Safety(flagged=bool(reasons), reasons=reasons, scores=scores)

    def _ocr_append(self, work: _Work, description: str, errors: list[str]) -> str:
        started = time.perf_counter()
        try:
            from extractor.local.ocr import read_text

            found = [t for im in work.images[:2] for t in read_text(im)]
        except Exception as exc:
            errors.append(f"ocr failed: {exc}")
            return description
        work.timings["ocr"] = round((time.perf_counter() - started) * 1000, 2)
        extra = " ".join(found).strip()
        return f"{description}\n\nText on image: {extra}".strip() if extra else description

    def _empty(self, work: _Work, errors: list[str]) -> Extraction:
        return Extraction(errors=errors, image_notes=work.notes, extractor=self.name,
                          extractor_version=self.version, taxonomy_version=self.taxonomy.version,
                          timings_ms=work.timings)
