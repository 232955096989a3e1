"""The two-stage VLM extraction that every VLM backend shares.

Stage 1 picks the category from a text shortlist (the taxonomy's own search over the listing), with the
answer constrained to the shortlist's ids; stage 2 asks for that category's attributes, constrained by the
taxonomy's JSON schema for it. A backend supplies only `complete(messages, schema, schema_name) -> str`:
one chat completion under a JSON schema, with its own transport retries. Everything else (prompts,
retries of malformed answers, mapping onto the taxonomy, per-product error isolation) lives here.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from extractor.base import ExtractorUnavailable
from extractor.models import Extraction, ImageNote, ProductInput
from extractor.vlm import mapping, prompts
from taxonomy import CategoryMatch, Taxonomy

log = logging.getLogger(__name__)

Messages = list[dict[str, Any]]
# (OpenAI-format messages, JSON schema, schema name) -> the model's raw answer text.
CompleteFn = Callable[[Messages, dict[str, Any], str], str]
T = TypeVar("T")

MAX_ANSWER_ECHO = 2000  # of a malformed answer, echoed back to the model on retry


class CompletionError(RuntimeError):
    """One completion failed for good (server errors, a refused request) after the backend's own retries.
    The product gets an error; the batch goes on. A failure that is also a `TimeoutError` (the server did not
    answer in time: it hangs or is overloaded) is raised instead, for the caller's retry with backoff and
    then its dead letters (indexer.realtime): a fallback guess stored for good would hide the outage."""


class TwoStageDriver:
    def __init__(self, complete: CompleteFn, *, name: str, version: str, taxonomy: Taxonomy | None = None,
                 max_retries: int = 2, max_images: int = 1, max_image_side: int = 768,
                 shortlist_k: int = 10) -> None:
        self.complete = complete
        self.name = name
        self.version = version
        self.taxonomy = taxonomy or Taxonomy.load()
        self.max_retries = max(0, max_retries)
        self.max_images = max_images
        self.max_image_side = max_image_side
        self.shortlist_k = shortlist_k

    # ------------------------------------------------------------------ batch

    def extract_many(self, products: Sequence[ProductInput], *, concurrency: int = 1) -> list[Extraction]:
        """One Extraction per product, in order. At most `concurrency` products are in flight at once
        (each has at most one request outstanding), which bounds the load put on the model server."""
        if not products:
            return []
        if concurrency <= 1 or len(products) == 1:
            return [self.extract_one(p) for p in products]
        pool = ThreadPoolExecutor(max_workers=min(concurrency, len(products)),
                                  thread_name_prefix=f"{self.name}-extract")
        try:
            futures = [pool.submit(self.extract_one, p) for p in products]
            return [f.result() for f in futures]
        except ExtractorUnavailable:
            # The server is gone: every other product would fail the same way, so stop the batch now.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)

    # ------------------------------------------------------------------ one product

    def extract_one(self, product: ProductInput) -> Extraction:
        try:
            return self._extract(product)
        except (ExtractorUnavailable, TimeoutError):
            raise
        except Exception as exc:  # never let one product fail the batch
            log.exception("%s extractor failed on product %r", self.name, product.product_id)
            return self._empty(errors=[f"extraction failed: {type(exc).__name__}: {exc}"])

    def _empty(self, **kwargs: Any) -> Extraction:
        return Extraction(extractor=self.name, extractor_version=self.version,
                          taxonomy_version=self.taxonomy.version, **kwargs)

    def shortlist(self, product: ProductInput) -> list[CategoryMatch]:
        text = prompts.search_text(product)
        candidates = self.taxonomy.search_categories(text, self.shortlist_k) if text else []
        if candidates:
            return candidates
        # Nothing in the text names a category (an image-only listing): let the model pick a vertical.
        roots = [c for c in self.taxonomy.categories.values() if c.parent_id is None]
        return [CategoryMatch(c.id, c.name, c.full_name, 0.0) for c in roots]

    def _extract(self, product: ProductInput) -> Extraction:
        tax = self.taxonomy
        started = time.perf_counter()
        timings: dict[str, float] = {}
        result = self._empty()

        images, problems = prompts.prepare_images(product.images, max_images=self.max_images,
                                                  max_side=self.max_image_side)
        result.image_notes = [ImageNote(image=i, issue="unreadable", detail=why) for i, why in problems]
        timings["images"] = _ms(started)
        if not images and not (product.title.strip() or product.description.strip()):
            result.errors.append("nothing to extract from: no title, no description and no usable image")
            result.timings_ms = timings
            return result

        # Stage 1: category.
        t = time.perf_counter()
        candidates = self.shortlist(product)
        try:
            category = self._ask(
                prompts.category_messages(product, candidates, images), prompts.category_schema(candidates),
                prompts.CATEGORY_SCHEMA_NAME, lambda answer: mapping.map_category(tax, answer, candidates))
        except mapping.MalformedAnswer as exc:
            category = mapping.fallback_category(tax, candidates)
            result.errors.append(f"category: unusable model answer after {self.max_retries + 1} attempts "
                                 f"({exc}); fell back to the text shortlist")
        except CompletionError as exc:
            if isinstance(exc, TimeoutError):
                raise
            # Partial result: the shortlist's best guess; attributes are skipped since the next call
            # would most likely fail the same way and double the time spent on a failing product.
            fallback = mapping.fallback_category(tax, candidates)
            result.category, result.alternatives = fallback.category, fallback.alternatives
            result.errors.append(f"category: {exc}")
            timings["category"] = _ms(t)
            timings["total"] = _ms(started)
            result.timings_ms = timings
            return result
        result.category, result.alternatives = category.category, category.alternatives
        result.dropped_values += category.dropped
        timings["category"] = _ms(t)

        # Stage 2: attributes, clean description, safety.
        t = time.perf_counter()
        category_id = category.category.id
        tax_schema = tax.json_schema(category_id)
        source = "image" if images else "text"
        try:
            attrs = self._ask(
                prompts.attributes_messages(product, category.category.full_name, tax_schema, images),
                prompts.attributes_schema(tax_schema), prompts.ATTRIBUTES_SCHEMA_NAME,
                lambda answer: mapping.map_attributes(tax, category_id, answer, source=source))
        except mapping.MalformedAnswer as exc:
            result.errors.append(f"attributes: unusable model answer after {self.max_retries + 1} attempts "
                                 f"({exc})")
        except CompletionError as exc:
            if isinstance(exc, TimeoutError):
                raise
            result.errors.append(f"attributes: {exc}")
        else:
            result.attributes = attrs.attributes
            result.description = attrs.description
            result.safety = attrs.safety
            result.dropped_values += attrs.dropped
            if attrs.dropped_detail:
                log.debug("product %r: dropped %s", product.product_id, "; ".join(attrs.dropped_detail))
        timings["attributes"] = _ms(t)
        timings["total"] = _ms(started)
        result.timings_ms = timings
        return result

    def _ask(self, messages: Messages, schema: dict[str, Any], schema_name: str,
             mapper: Callable[[dict[str, Any]], T]) -> T:
        """Complete and map; on a malformed answer ask again (bounded), telling the model what was wrong."""
        last: mapping.MalformedAnswer | None = None
        for _attempt in range(self.max_retries + 1):
            raw: str | None = None
            try:
                # A backend may itself raise MalformedAnswer (an unreadable response envelope).
                raw = self.complete(messages, schema, schema_name)
                return mapper(mapping.parse_json_object(raw))
            except mapping.MalformedAnswer as exc:
                last = exc
                if raw is not None:
                    messages = [*messages, {"role": "assistant", "content": str(raw)[:MAX_ANSWER_ECHO]},
                                prompts.correction_message(str(exc))]
        assert last is not None
        raise last


def _ms(since: float) -> float:
    return round((time.perf_counter() - since) * 1000, 2)
