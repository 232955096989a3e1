"""Immutable records handed out by :class:`taxonomy.Taxonomy`."""

from __future__ import annotations

from dataclasses import dataclass


class TaxonomyError(KeyError):
    """An id, handle or gid that the taxonomy does not know. The message names it."""

    def __init__(self, message: str, key: object = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key

    # KeyError.__str__ repr()s its argument; a readable message matters more for CLI and API errors.
    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True, slots=True)
class Category:
    id: str
    gid: str
    name: str
    full_name: str
    parent_id: str | None
    children_ids: tuple[str, ...]
    level: int
    attribute_handles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Attribute:
    handle: str
    id: int | None
    gid: str | None
    friendly_id: str
    name: str
    description: str
    value_handles: tuple[str, ...]
    extended: bool
    values_from: str | None


@dataclass(frozen=True, slots=True)
class Value:
    id: int
    gid: str
    handle: str
    name: str
    attribute_handles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ValueMatch:
    attribute_handle: str
    value_handle: str
    value_id: int
    name: str
    confidence: float


@dataclass(frozen=True, slots=True)
class FoundValue:
    attribute_handle: str
    value_handle: str
    value_id: int
    name: str
    start: int
    end: int
    text: str
    confidence: float


@dataclass(frozen=True, slots=True)
class CategoryMatch:
    category_id: str
    name: str
    full_name: str
    score: float
