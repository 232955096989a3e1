from __future__ import annotations

import uuid
from pathlib import Path as FsPath

from fastapi import APIRouter, BackgroundTasks, Depends, Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from extractor.models import CategoryGuess
from indexer.models import Product, Variant
from search_api.auth import require_write
from search_api.deps import RuntimeDep, StoreName, require_catalog_store
from search_api.errors import ApiError
from search_api.routes.photos import uploads_dir

router = APIRouter(prefix="/v1/stores/{store}/products", tags=["products"])



class ProductUpsert(BaseModel):
    """A product as a merchant sends it; store and id come from the path."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(default="", max_length=1000)
    description: str = Field(default="", max_length=100_000)
    description_html: str = ""
    vendor: str = ""
    product_type: str = ""
    tags: list[str] = Field(default_factory=list, max_length=250)
    price: float | None = Field(default=None, ge=0)
    currency: str = "USD"
    variants: list[Variant] = Field(default_factory=list, max_length=2000)
    images: list[str] = Field(default_factory=list, max_length=50)
    attributes: dict[str, list[str]] = Field(default_factory=dict)
    merchant_category: str | None = None
    merchant_category_id: str | None = None
    created_at: str | None = None


class Accepted(BaseModel):
    task_id: str | None
    store: str
    product_id: str
    status: str


def queue_task(task, args: list, background: BackgroundTasks) -> str:
    """Send a task to its queue (routed by name); in eager mode run it after the response instead."""
    from indexer.tasks.app import is_eager

    task_id = uuid.uuid4().hex
    if is_eager():
        background.add_task(task.apply, args=args, task_id=task_id)
    else:
        task.apply_async(args=args, task_id=task_id)
    return task_id


def foreign_image(images: list[str], *, own: list[str], uploads: FsPath) -> str | None:
    """The first image a client may not name, or None. The server reads and serves a product's local image
    files, so over HTTP a client names only URLs, photos uploaded to this store, and images the product
    already has (an import put them there); never another path on the server."""
    uploads = uploads.resolve()
    for image in images:
        if image.startswith(("http://", "https://")) or image in own:
            continue
        if FsPath(image).resolve().is_relative_to(uploads):
            continue
        return image
    return None


@router.put("/{product_id}", status_code=202, response_model=Accepted, dependencies=[Depends(require_write)])
def upsert_product(runtime: RuntimeDep, body: ProductUpsert, background: BackgroundTasks,
                   store: str = StoreName, product_id: str = Path(min_length=1, max_length=255)) -> Accepted:
    """Store the product (and its change-log row: the merchant data is searchable at once), then queue its
    extraction on `realtime`."""
    from indexer.tasks.products import extract_and_index

    try:
        product = Product(store=store, product_id=product_id, **body.model_dump())
    except ValidationError as exc:
        raise ApiError(422, "invalid_product", str(exc.errors()[0]["msg"])) from exc
    stored = runtime.catalog.get_product(store, product_id)
    refused = foreign_image(product.images, own=stored.images if stored else [],
                            uploads=uploads_dir(runtime.settings.catalog_home, store))
    if refused is not None:
        raise ApiError(422, "invalid_image_ref", f"image {refused!r} is not an http(s) URL, a photo uploaded to "
                       f"this store (POST /v1/stores/{store}/photos) or one of the product's own images")
    summary = runtime.catalog.upsert_products([product])
    if summary.unchanged:
        return Accepted(task_id=None, store=store, product_id=product_id, status="unchanged")
    task_id = queue_task(extract_and_index, [store, product_id], background)
    return Accepted(task_id=task_id, store=store, product_id=product_id, status="queued")


class ProductValuePublic(BaseModel):
    id: int
    handle: str
    name: str
    confidence: float
    source: str


class ProductAttributePublic(BaseModel):
    handle: str
    name: str
    values: list[ProductValuePublic]


class ProductExtractionPublic(BaseModel):
    """The latest extraction of the product's current content."""

    extractor: str
    extractor_version: str
    category: CategoryGuess | None
    attributes: list[ProductAttributePublic]


class ProductIndexState(BaseModel):
    change_seq: int | None  # the product's latest change-log row
    applied_seq: int  # how far the index sync has applied the change log
    indexed: bool  # the index has applied the product's latest change: searchable as it is now


class ProductPublic(BaseModel):
    store: str
    product_id: str
    product: ProductUpsert
    extraction: ProductExtractionPublic | None  # None: not extracted yet (or it failed: see `error`)
    index: ProductIndexState
    error: str | None = None  # the last extraction failure, when it keeps failing (a dead letter)


@router.get("/{product_id}", response_model=ProductPublic, dependencies=[Depends(require_write)])
def read_product(runtime: RuntimeDep, store: str = StoreName,
                 product_id: str = Path(min_length=1, max_length=255)) -> ProductPublic:
    """The stored product, its latest extraction and whether the index has applied its latest change (the
    listing assistant polls this after a save to show when the product is searchable)."""
    from indexer.sync import SYNC_NAME

    require_catalog_store(runtime, store)
    catalog = runtime.catalog
    product = catalog.get_product(store, product_id)
    if product is None:
        raise ApiError(404, "unknown_product", f"no product {product_id!r} in store {store!r}")
    extraction = catalog.latest_extraction(store, product_id)
    extracted = None
    if extraction is not None:
        extracted = ProductExtractionPublic(
            extractor=extraction.extractor, extractor_version=extraction.extractor_version,
            category=extraction.category,
            attributes=[ProductAttributePublic(handle=a.handle, name=a.name, values=[
                ProductValuePublic(id=v.value_id, handle=v.value, name=v.name, confidence=v.confidence,
                                   source=v.source) for v in a.values]) for a in extraction.attributes])
    change_seq = catalog.product_change_seq(store, product_id)
    applied = catalog.get_sync_position(SYNC_NAME)
    error = next((d.error for d in catalog.dead_letters(store) if d.product_id == product_id), None)
    return ProductPublic(store=store, product_id=product_id,
                         product=ProductUpsert(**product.model_dump(exclude={"store", "product_id"})),
                         extraction=extracted, error=error,
                         index=ProductIndexState(change_seq=change_seq, applied_seq=applied,
                                                 indexed=change_seq is not None and applied >= change_seq))


@router.delete("/{product_id}", status_code=202, response_model=Accepted, dependencies=[Depends(require_write)])
def delete_product(runtime: RuntimeDep, background: BackgroundTasks, store: str = StoreName,
                   product_id: str = Path(min_length=1, max_length=255)) -> Accepted:
    from indexer.tasks.products import delete_product as delete_task

    if runtime.catalog.content_hash(store, product_id) is None:
        raise ApiError(404, "unknown_product", f"no product {product_id!r} in store {store!r}")
    task_id = queue_task(delete_task, [store, product_id], background)
    return Accepted(task_id=task_id, store=store, product_id=product_id, status="queued")
