"""Result types shared by every engine adapter."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass(frozen=True, slots=True)
class Hit:
    product_id: str
    score: float


@dataclass(frozen=True, slots=True)
class Hits:
    total: int  # every match under the filter, not just this page
    hits: list[Hit] = field(default_factory=list)


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
