"""Result types shared by every engine adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

# The deepest hit (offset + limit) a search asks an engine for: the API's maximum offset plus its largest
# page. Elasticsearch's result window is set to it; counts up to it are exact on every engine.
MAX_WINDOW = 10_100


@dataclass(frozen=True, slots=True)
class Hit:
    product_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Hits:
    total: int  # every match under the filter, not just this page
    hits: list[Hit] = field(default_factory=list)
    # False when the engine stopped counting (Elasticsearch past MAX_WINDOW): `total` is then a lower bound.
    exact: bool = True


@dataclass(frozen=True, slots=True)
class Sort:
    """Order by a numeric field instead of relevance."""

    field: Literal["price", "created_at"]
    descending: bool = False


@dataclass(frozen=True, slots=True)
class FacetCount:
    value: str
    count: int


class EngineError(RuntimeError):
    """An engine is unreachable, missing, or answered something we cannot use."""
