"""Request and response models of the HTTP API, named by role."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from search_api.sessions import SESSION_ID_PATTERN

# Bounds of a search request, shared by the POST body and the GET query parameters.
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_OFFSET = 10_000
SearchMode = Literal["hybrid", "lexical", "vector"]
SEARCH_MODE_PATTERN = f"^({'|'.join(get_args(SearchMode))})$"


class FilterSpec(BaseModel):
    """A filter a client sends back (e.g. `applied_filters` minus the one the shopper removed)."""

    model_config = ConfigDict(extra="ignore")

    field: str
    op: Literal["eq", "in", "range"] = "in"
    values: list[str] = Field(default_factory=list)
    gte: float | None = None
    lte: float | None = None
    negated: bool = False
    label: str | None = None


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = ""
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)
    filters: list[FilterSpec] | None = None  # when given, replaces the parsed filters
    limit: int = Field(default=DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)
    mode: SearchMode = "hybrid"


class MatchedAttribute(BaseModel):
    handle: str
    value: str
    name: str
    source: str


class SearchResult(BaseModel):
    product_id: str
    title: str
    price: float | None
    currency: str
    image: str | None
    # A link a browser can load: the product's first image through GET .../products/{id}/images/0.
    image_url: str | None = None
    category: str | None
    score: float
    matched_attributes: list[MatchedAttribute]


class AppliedFilterPublic(BaseModel):
    id: str
    field: str
    op: str
    values: list[str]
    gte: float | None = None
    lte: float | None = None
    negated: bool = False
    label: str
    source: str
    confidence: float


class FacetValuePublic(BaseModel):
    value: str
    name: str
    count: int
    selected: bool = False


class FacetPublic(BaseModel):
    field: str
    name: str
    values: list[FacetValuePublic]


class SearchResponse(BaseModel):
    results: list[SearchResult]
    total: int
    applied_filters: list[AppliedFilterPublic]
    relaxed_filters: list[AppliedFilterPublic]
    facets: list[FacetPublic]
    session_id: str
    query_text: str
    sort: str | None = None
    timings_ms: dict[str, float] = Field(default_factory=dict)
