"""The review queue of the offline re-tagger: proposals (what extraction adds to or contradicts in the
merchant's data) grouped by attribute, and the merchant's decisions on one proposal or a whole group.

An accepted value becomes merchant data through the products API's own upsert (`PUT .../products/{id}`):
stored with its change-log row, so it is indexed and wins over extraction. Every decision is kept per
product version (content hash); a decided proposal is not proposed again for that content. A product the
merchant edits may be proposed again; one changed by an accept here keeps its rejections.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from typing import Literal

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer import review
from indexer.review import CannotApply, Filters, Proposal
from indexer.store.reviews import ReviewDecision
from search_api.auth import require_write
from search_api.deps import RuntimeDep, StoreName, require_catalog_store
from search_api.errors import ApiError
from search_api.routes.products import ProductUpsert, upsert_product

router = APIRouter(prefix="/v1/stores/{store}/review", tags=["review"])

BATCH = 500


def _taxonomy(runtime):
    sync = getattr(runtime, "sync", None)
    if sync is not None and getattr(sync, "taxonomy", None) is not None:
        return sync.taxonomy
    from taxonomy import Taxonomy

    return Taxonomy.load()


def _all_proposals(catalog, taxonomy, store: str) -> list[Proposal]:
    """Every proposal of the store (decided or not), from each product's latest extraction of its content."""
    out: list[Proposal] = []
    batch = []

    def flush() -> None:
        extractions = catalog.latest_extractions(store, [p.product_id for p in batch])
        for product in batch:
            out.extend(review.proposals(product, extractions.get(product.product_id), taxonomy))
        batch.clear()

    for product in catalog.iter_products(store, batch_size=BATCH):
        batch.append(product)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    return review.order(out)


class ProposalCache:
    """A store's proposals as of a change-log position. Every product change and every extraction of a
    product's current content writes a change-log row, so an unchanged position means unchanged proposals;
    a request then reads only the decisions. Kept per app (`app.state`), not per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_store: dict[str, tuple[int, list[Proposal]]] = {}

    def get(self, catalog, taxonomy, store: str) -> list[Proposal]:
        position = catalog.max_seq()  # before reading: a change landing meanwhile only makes the entry older
        with self._lock:
            hit = self._by_store.get(store)
        if hit is not None and hit[0] == position:
            return hit[1]
        items = _all_proposals(catalog, taxonomy, store)
        with self._lock:
            self._by_store[store] = (position, items)
        return items


def store_proposals(catalog, taxonomy, store: str, cache: ProposalCache | None = None) -> list[Proposal]:
    """Every undecided proposal of the store, in queue order."""
    items = cache.get(catalog, taxonomy, store) if cache is not None else _all_proposals(catalog, taxonomy, store)
    decided = {(d.product_id, d.attribute, d.value, d.content_hash) for d in catalog.review_decisions(store)}
    return review.undecided(items, decided)


def _cache(request: Request) -> ProposalCache:
    cache = getattr(request.app.state, "review_proposals", None)
    if cache is None:
        cache = request.app.state.review_proposals = ProposalCache()
    return cache


def photo_url(store: str, product_id: str, index: int) -> str:
    from urllib.parse import quote

    return f"/v1/stores/{store}/products/{quote(product_id, safe='')}/images/{index}"


def _shown(proposal: Proposal, images: int) -> dict:
    body = proposal.model_dump()
    photo = proposal.evidence.images[0] if proposal.evidence.images else 0
    body["image_url"] = photo_url(proposal.store, proposal.product_id, photo) if photo < images else None
    return body


def _check_attribute(taxonomy, attribute: str | None) -> None:
    if attribute is None or attribute == review.CATEGORY:
        return
    try:
        taxonomy.attribute(attribute)
    except KeyError as exc:
        raise ApiError(422, "invalid_filter", f"unknown attribute {attribute!r}: a taxonomy attribute handle "
                       "or 'category'") from exc


@router.get("", dependencies=[Depends(require_write)])
def list_proposals(runtime: RuntimeDep, request: Request, store: str = StoreName,
                   attribute: str | None = Query(default=None, min_length=1, max_length=255),
                   value: str | None = Query(default=None, min_length=1, max_length=255),
                   min_confidence: float = Query(default=0.0, ge=0, le=1),
                   limit: int = Query(default=50, ge=1, le=500),
                   offset: int = Query(default=0, ge=0, le=100_000)) -> dict:
    """Undecided proposals under the filters, a page of them in group order, and the counts of every group
    (by attribute, and by value within one) under the confidence filter."""
    require_catalog_store(runtime, store)
    taxonomy = _taxonomy(runtime)
    _check_attribute(taxonomy, attribute)
    filters = Filters(attribute=attribute, value=value, min_confidence=min_confidence)
    everything = store_proposals(runtime.catalog, taxonomy, store, _cache(request))
    confident = [p for p in everything if p.confidence >= min_confidence]
    selected = [p for p in confident if review.matches(p, filters)]
    page = selected[offset:offset + limit]
    images = {pid: len(p.images) for pid, p in runtime.catalog.get_products(
        store, list({p.product_id for p in page})).items()}
    return {
        "store": store,
        "filters": filters.model_dump(),
        "total": len(selected),
        "limit": limit,
        "offset": offset,
        "groups": review.groups(confident),
        "proposals": [_shown(p, images.get(p.product_id, 0)) for p in page],
    }


class DecisionRequest(BaseModel):
    """One proposal (product_id, attribute, value), or a whole group: attribute and value, or attribute
    alone, within the confidence filter."""

    model_config = ConfigDict(extra="forbid")

    decision: Literal["accept", "reject"]
    attribute: str = Field(min_length=1, max_length=255)
    value: str | None = Field(default=None, min_length=1, max_length=255)
    product_id: str | None = Field(default=None, min_length=1, max_length=255)
    # The product version the page showed: a product changed since answers 409, nothing decided.
    content_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    min_confidence: float = Field(default=0.0, ge=0, le=1)

    @model_validator(mode="after")
    def _one_or_group(self) -> DecisionRequest:
        if self.product_id is not None and self.value is None:
            raise ValueError("a decision on one product names its value too")
        if self.content_hash is not None and self.product_id is None:
            raise ValueError("content_hash goes with product_id")
        return self


@router.post("/decisions", dependencies=[Depends(require_write)])
def decide(runtime: RuntimeDep, request: Request, body: DecisionRequest, background: BackgroundTasks,
           store: str = StoreName) -> dict:
    require_catalog_store(runtime, store)
    taxonomy = _taxonomy(runtime)
    _check_attribute(taxonomy, body.attribute)
    filters = Filters(attribute=body.attribute, value=body.value, min_confidence=body.min_confidence)
    targets = [p for p in store_proposals(runtime.catalog, taxonomy, store, _cache(request))
               if review.matches(p, filters)]
    if body.product_id is not None:
        targets = [p for p in targets if p.product_id == body.product_id]
        if targets and body.content_hash is not None and targets[0].content_hash != body.content_hash:
            raise ApiError(409, "stale_proposal", f"product {body.product_id!r} changed since it was proposed; "
                           "reload the queue")
    if not targets:
        what = f"{body.attribute}" + (f" = {body.value}" if body.value else "")
        who = f" for product {body.product_id!r}" if body.product_id else ""
        raise ApiError(404, "no_proposals", f"no undecided proposal of {what}{who} at confidence >= "
                       f"{body.min_confidence:g}")

    tasks: list[str] = []
    if body.decision == "accept":
        by_product: dict[str, list[Proposal]] = {}
        for p in targets:
            by_product.setdefault(p.product_id, []).append(p)
        products = runtime.catalog.get_products(store, list(by_product))
        updated = {}
        try:  # every product first: one that cannot take its value changes nothing
            for pid, items in by_product.items():
                updated[pid] = review.apply_accepted(products[pid], items, taxonomy)
        except CannotApply as exc:
            raise ApiError(422, "cannot_apply", str(exc)) from exc
        for pid, product in updated.items():
            upsert = ProductUpsert(**product.model_dump(exclude={"store", "product_id"}))
            accepted = upsert_product(runtime, upsert, background, store=store, product_id=pid)
            if accepted.task_id:
                tasks.append(accepted.task_id)
    decisions = [ReviewDecision(store=store, product_id=p.product_id, attribute=p.attribute, value=p.value,
                                decision=body.decision, content_hash=p.content_hash) for p in targets]
    if body.decision == "accept":
        # An accepted value changes the product's content, and only that: what the merchant rejected of the
        # version they reviewed stays rejected for the version the queue made.
        was = {p.product_id: p.content_hash for p in targets}
        now = {pid: product.content_hash() for pid, product in updated.items()}
        decisions += [replace(d, content_hash=now[d.product_id], decided_at=None)
                      for d in runtime.catalog.review_decisions(store, list(updated))
                      if d.decision == "reject" and d.content_hash == was[d.product_id]]
    runtime.catalog.record_review_decisions(decisions)
    return {
        "store": store,
        "decision": body.decision,
        "decided": len(targets),
        "products": sorted({p.product_id for p in targets}),
        "proposals": [{"product_id": p.product_id, "attribute": p.attribute, "value": p.value} for p in targets],
        "task_ids": tasks,
    }
