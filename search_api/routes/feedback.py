"""Merchant feedback on suggestions: what the merchant accepted, edited or rejected (the listing assistant
sends it on save), and the acceptance rates it adds up to."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from indexer.feedback import FeedbackError, acceptance_report, checked_items
from indexer.store.feedback import FeedbackItem
from search_api.auth import require_suggest, require_write
from search_api.deps import RuntimeDep, require_catalog_store
from search_api.errors import ApiError

router = APIRouter(prefix="/v1/stores/{store}/feedback", tags=["feedback"])

MAX_DECISIONS = 500


class FeedbackCreate(BaseModel):
    """One listing's decisions. `extractor` and `extractor_version` are those of the suggest response the
    merchant answered; `product_id` is null for a listing not saved (yet)."""

    model_config = ConfigDict(extra="forbid")

    product_id: str | None = Field(default=None, min_length=1, max_length=255)
    extractor: str = Field(min_length=1, max_length=64)
    extractor_version: str = Field(min_length=1, max_length=64)
    decisions: list[FeedbackItem] = Field(min_length=1, max_length=MAX_DECISIONS)


class FeedbackRecorded(BaseModel):
    submission_id: str
    recorded: int


@router.post("", status_code=201, response_model=FeedbackRecorded, dependencies=[Depends(require_write)])
def record_feedback(runtime: RuntimeDep, body: FeedbackCreate,
                    store: str = Path(max_length=64)) -> FeedbackRecorded:
    """Keep the decisions, all of them or (on any bad one: 422) none."""
    from taxonomy import Taxonomy

    require_catalog_store(runtime, store)
    if body.product_id is not None and runtime.catalog.content_hash(store, body.product_id) is None:
        raise ApiError(422, "unknown_product", f"no product {body.product_id!r} in store {store!r}: save the "
                                               "product first, or send product_id null")
    try:
        items = checked_items(Taxonomy.load(), body.decisions)
    except FeedbackError as exc:
        raise ApiError(422, "invalid_feedback", str(exc)) from exc
    submission = runtime.catalog.record_feedback(store, items, product_id=body.product_id, extractor=body.extractor,
                                                 extractor_version=body.extractor_version)
    return FeedbackRecorded(submission_id=submission, recorded=len(items))


@router.get("/acceptance", dependencies=[Depends(require_suggest)])
def acceptance(runtime: RuntimeDep, store: str = Path(max_length=64),
               extractor_version: str | None = Query(default=None, max_length=64)) -> dict[str, Any]:
    """What `catalog report acceptance --json` prints: acceptance per attribute, the category apart."""
    require_catalog_store(runtime, store)
    return acceptance_report(runtime.catalog, store, extractor_version)
