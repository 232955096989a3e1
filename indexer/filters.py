"""The backend-neutral filter model and its reference evaluator.

Every engine adapter translates this tree in its own module and must agree with `matches`.
Fields a filter may name:
  - "product_id", "vendor", "product_type", "tags": exact strings
  - "category": a taxonomy category id; matches the category and its whole subtree
  - "attr.<handle>": attribute value keys (see documents.AttributeValue.value)
  - "price": numbers (Range); a product without a price never matches a price range
  - "flagged": bool
Store scoping is not a filter: every engine call takes the store explicitly, so isolation cannot be
forgotten by leaving a filter out.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer.documents import IndexDocument

KEYWORD_FIELDS = frozenset({"product_id", "vendor", "product_type", "tags", "category", "flagged"})
NUMERIC_FIELDS = frozenset({"price"})
ATTR_PREFIX = "attr."


class FilterError(ValueError):
    """A filter names an unknown field or operator, or is malformed."""


def check_field(field: str, *, numeric: bool = False) -> str:
    if numeric:
        if field not in NUMERIC_FIELDS:
            raise FilterError(f"range filters apply to {sorted(NUMERIC_FIELDS)}, not {field!r}")
        return field
    if field in KEYWORD_FIELDS or (field.startswith(ATTR_PREFIX) and len(field) > len(ATTR_PREFIX)):
        return field
    raise FilterError(f"unknown filter field {field!r}")


class _Node(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Eq(_Node):
    op: Literal["eq"] = "eq"
    field: str
    value: str | bool

    @model_validator(mode="after")
    def _field(self) -> Eq:
        check_field(self.field)
        return self


class In(_Node):
    op: Literal["in"] = "in"
    field: str
    values: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _field(self) -> In:
        check_field(self.field)
        return self


class Range(_Node):
    op: Literal["range"] = "range"
    field: str = "price"
    gte: float | None = None
    lte: float | None = None
    gt: float | None = None
    lt: float | None = None

    @model_validator(mode="after")
    def _bounds(self) -> Range:
        check_field(self.field, numeric=True)
        if all(b is None for b in (self.gte, self.lte, self.gt, self.lt)):
            raise FilterError("a range needs at least one bound")
        return self


class And(_Node):
    op: Literal["and"] = "and"
    all: tuple[Filter, ...]


class Or(_Node):
    op: Literal["or"] = "or"
    any: tuple[Filter, ...] = Field(min_length=1)


class Not(_Node):
    op: Literal["not"] = "not"
    filter: Filter


Filter = Annotated[Union[Eq, In, Range, And, Or, Not], Field(discriminator="op")]  # noqa: UP007
And.model_rebuild()
Or.model_rebuild()
Not.model_rebuild()


def and_all(filters: list[Filter | None]) -> Filter | None:
    """Conjunction of the non-empty filters; None when there are none."""
    present = [f for f in filters if f is not None]
    if not present:
        return None
    if len(present) == 1:
        return present[0]
    return And(all=tuple(present))


# --- reference evaluator -------------------------------------------------------------------------

def field_values(doc: IndexDocument, field: str) -> list[str | bool | float]:
    """The values a document holds for a filter field (lists flattened)."""
    if field.startswith(ATTR_PREFIX):
        return list(doc.attribute_values(field[len(ATTR_PREFIX):]))
    if field == "category":
        return list(doc.category_path)
    if field == "tags":
        return list(doc.tags)
    if field == "price":
        return [] if doc.price is None else [doc.price]
    if field in ("product_id", "vendor", "product_type", "flagged"):
        return [getattr(doc, field)]
    raise FilterError(f"unknown filter field {field!r}")


def _in_range(value: float, node: Range) -> bool:
    return ((node.gte is None or value >= node.gte) and (node.lte is None or value <= node.lte)
            and (node.gt is None or value > node.gt) and (node.lt is None or value < node.lt))


def matches(node: Filter | None, doc: IndexDocument) -> bool:
    if node is None:
        return True
    if isinstance(node, Eq):
        return node.value in field_values(doc, node.field)
    if isinstance(node, In):
        held = field_values(doc, node.field)
        return any(v in held for v in node.values)
    if isinstance(node, Range):
        return any(_in_range(float(v), node) for v in field_values(doc, node.field))
    if isinstance(node, And):
        return all(matches(child, doc) for child in node.all)
    if isinstance(node, Or):
        return any(matches(child, doc) for child in node.any)
    if isinstance(node, Not):
        return not matches(node.filter, doc)
    raise FilterError(f"unknown filter node {node!r}")
