"""Request and response models of the HTTP API, named by role."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer.engines.types import MAX_WINDOW
from search_api.query.models import AppliedFilter
from search_api.sessions import SESSION_ID_PATTERN

# Bounds of a search request, shared by the POST body and the GET query parameters. Every result up to
# offset MAX_OFFSET is reachable: the engines serve windows up to MAX_WINDOW = MAX_OFFSET + MAX_LIMIT.
DEFAULT_LIMIT = 10
MAX_LIMIT = 100
MAX_OFFSET = MAX_WINDOW - MAX_LIMIT  # 10,000
MAX_FILTERS = 100  # explicit filters in one request, and values in one filter: more is no shopper's search
MAX_FILTER_VALUES = 1000
SearchMode = Literal["hybrid", "lexical", "vector"]
SEARCH_MODE_PATTERN = f"^({'|'.join(get_args(SearchMode))})$"


class FilterSpec(BaseModel):
    """A filter a client sends back (e.g. `applied_filters` minus the one the shopper removed)."""

    model_config = ConfigDict(extra="ignore")

    field: str = Field(min_length=1, max_length=255)
    op: Literal["eq", "in", "range"] = "in"
    values: list[str] = Field(default_factory=list, max_length=MAX_FILTER_VALUES)
    gte: float | None = None
    lte: float | None = None
    negated: bool = False
    label: str | None = Field(default=None, max_length=1000)

    @model_validator(mode="after")
    def _a_filter_the_search_can_apply(self) -> FilterSpec:
        # The request's 422, not a 500 when the search builds it: AppliedFilter holds the rules (an 'in'
        # filter needs a value, 'eq' exactly one, a range gte and/or lte in order and no values).
        AppliedFilter(field=self.field, op=self.op, values=self.values, gte=self.gte, lte=self.lte,
                      negated=self.negated, label=self.label or "", source="explicit")
        return self


class SearchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    q: str = ""
    session_id: str | None = Field(default=None, pattern=SESSION_ID_PATTERN)
    filters: list[FilterSpec] | None = Field(default=None, max_length=MAX_FILTERS)  # replaces the parsed ones
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
    # Which of the product's images `image` is: the photo of the colour searched for where one shows it
    # ("red hoodie": the red variant's), else the first (0).
    image_index: int = 0
    # A link a browser can load: that image through GET .../products/{id}/images/{image_index}.
    image_url: str | None = None
    # The same image at most 480 x 480 (WebP), for a result card.
    thumbnail_url: str | None = None
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
    # The number of products the search matched, all of them reachable by offset/limit up to MAX_OFFSET:
    # with a vector query (hybrid and vector modes, no sort) every product under the applied filters,
    # since the vector retriever ranks them all; otherwise (lexical mode, sorts, a browse) the products
    # under the filters that contain a word of the query text (all of them when the text is empty or
    # every word became a filter). The facets count the same set.
    total: int
    # "eq": `total` is exact; "gte": the engine stopped counting (past MAX_WINDOW, Elasticsearch) and
    # `total` is a lower bound, as in Elasticsearch's hits.total.relation.
    total_relation: Literal["eq", "gte"] = "eq"
    applied_filters: list[AppliedFilterPublic]
    relaxed_filters: list[AppliedFilterPublic]
    facets: list[FacetPublic]
    session_id: str
    query_text: str
    sort: str | None = None
    # When the results end inside this page (fewer than `limit` left), products just outside the filters fill
    # the rest of it: the same search with `close_match_filters` given up (never an exclusion or an explicit
    # filter). They are not results: `total`, the facets and paging never count them, and no page but the one
    # where the results end carries them.
    close_matches: list[SearchResult] = Field(default_factory=list)
    close_match_filters: list[AppliedFilterPublic] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)
