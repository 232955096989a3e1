from __future__ import annotations

import uuid

from fastapi import APIRouter, BackgroundTasks, Path
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from indexer.models import Product, Variant
from search_api.deps import RuntimeDep
from search_api.errors import ApiError

router = APIRouter(prefix="/v1/stores/{store}/products", tags=["products"])

StoreName = Path(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")


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
    task_id: str
    store: str
    product_id: str
    status: str


@router.put("/{product_id}", status_code=202, response_model=Accepted)
def upsert_product(runtime: RuntimeDep, body: ProductUpsert, background: BackgroundTasks,
                   store: str = StoreName, product_id: str = Path(min_length=1, max_length=255)) -> Accepted:
    try:
        product = Product(store=store, product_id=product_id, **body.model_dump())
    except ValidationError as exc:
        raise ApiError(422, "invalid_product", str(exc.errors()[0]["msg"])) from exc
    summary = runtime.catalog.upsert_products([product])
    status = "unchanged" if summary.unchanged else "accepted"
    if not summary.unchanged:
        background.add_task(_extract, runtime, store, product_id)
    return Accepted(task_id=uuid.uuid4().hex, store=store, product_id=product_id, status=status)


@router.delete("/{product_id}", status_code=202, response_model=Accepted)
def delete_product(runtime: RuntimeDep, store: str = StoreName,
                   product_id: str = Path(min_length=1, max_length=255)) -> Accepted:
    if not runtime.catalog.delete_product(store, product_id):
        raise ApiError(404, "unknown_product", f"no product {product_id!r} in store {store!r}")
    return Accepted(task_id=uuid.uuid4().hex, store=store, product_id=product_id, status="accepted")


def _extract(runtime, store: str, product_id: str) -> None:
    """Extraction after the response; the sync loop indexes the result (and the merchant data before it)."""
    from indexer.pipeline import extract_products

    extract_products(runtime.catalog, store, [product_id], runtime.extractor, runtime.taxonomy)
