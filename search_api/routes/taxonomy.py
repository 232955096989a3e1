"""Read-only taxonomy lookups the pages need: a category's attributes with their allowed values (the
listing assistant's chip pickers offer only these), and one attribute's values."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel

from search_api.errors import ApiError
from taxonomy.models import TaxonomyError

router = APIRouter(prefix="/v1/taxonomy", tags=["taxonomy"])


class TaxonomyValuePublic(BaseModel):
    id: int
    handle: str
    name: str


class TaxonomyAttributePublic(BaseModel):
    handle: str
    name: str
    values: list[TaxonomyValuePublic]


class CategoryAttributesPublic(BaseModel):
    id: str
    name: str
    full_name: str
    attributes: list[TaxonomyAttributePublic]


def _attribute(taxonomy, attribute) -> TaxonomyAttributePublic:
    values = [TaxonomyValuePublic(id=v.id, handle=v.handle, name=v.name)
              for v in taxonomy.attribute_values(attribute.handle)]
    return TaxonomyAttributePublic(handle=attribute.handle, name=attribute.name, values=values)


class CategoryPublic(BaseModel):
    id: str
    name: str
    full_name: str


class CategoriesPublic(BaseModel):
    categories: list[CategoryPublic]


@router.get("/categories", response_model=CategoriesPublic)
def search_categories(q: str = Query(min_length=1, max_length=200),
                      limit: int = Query(default=10, ge=1, le=50)) -> CategoriesPublic:
    """Categories whose names match the text, best first (a merchant picking one the suggestions missed)."""
    from taxonomy import Taxonomy

    found = Taxonomy.load().search_categories(q, limit)
    return CategoriesPublic(categories=[CategoryPublic(id=m.category_id, name=m.name, full_name=m.full_name)
                                        for m in found])


@router.get("/categories/{category_id}/attributes", response_model=CategoryAttributesPublic)
def category_attributes(category_id: str = Path(max_length=200)) -> CategoryAttributesPublic:
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    try:
        category = taxonomy.category(category_id)
    except TaxonomyError as exc:
        raise ApiError(404, "unknown_category", str(exc)) from exc
    attributes = [_attribute(taxonomy, a) for a in taxonomy.category_attributes(category.id)]
    return CategoryAttributesPublic(id=category.id, name=category.name, full_name=category.full_name,
                                    attributes=attributes)


@router.get("/attributes/{handle}", response_model=TaxonomyAttributePublic)
def attribute_values(handle: str = Path(max_length=200)) -> TaxonomyAttributePublic:
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    try:
        attribute = taxonomy.attribute(handle)
    except TaxonomyError as exc:
        raise ApiError(404, "unknown_attribute", str(exc)) from exc
    return _attribute(taxonomy, attribute)
