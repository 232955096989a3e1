"""What query understanding hands to search: the filters it applied and the words left for retrieval."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from indexer.engines.types import Sort

FilterOp = Literal["eq", "in", "range"]
FilterSource = Literal["parsed", "explicit", "session"]


def format_number(value: float) -> str:
    """60.0 -> "60", 19.5 -> "19.5": the form used in filter ids and labels."""
    return f"{value:.2f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def filter_id(
    field: str, op: str, values: list[str], gte: float | None, lte: float | None, negated: bool
) -> str:
    """Stable id from a filter's content: "attr.color:color__black", "not:...", "price:gte:20:lte:40"."""
    if op == "range":
        parts = [field]
        if gte is not None:
            parts += ["gte", format_number(gte)]
        if lte is not None:
            parts += ["lte", format_number(lte)]
        body = ":".join(parts)
    else:
        body = f"{field}:{','.join(values)}"
    return f"not:{body}" if negated else body


class AppliedFilter(BaseModel):
    """One filter the shopper can see and remove.

    `values` are filter keys (attribute value keys such as ``color__black``, category ids, vendor names);
    a range (price) carries `gte`/`lte` instead. `span` indexes the query text it was read from.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = ""
    field: str
    op: FilterOp = "eq"
    values: list[str] = Field(default_factory=list)
    gte: float | None = None
    lte: float | None = None
    negated: bool = False
    label: str = ""
    span: tuple[int, int] | None = None
    confidence: float = Field(default=1.0, ge=0.0, le=1.0)
    source: FilterSource = "parsed"

    @model_validator(mode="after")
    def _derive(self) -> AppliedFilter:
        if self.op == "range":
            if self.gte is None and self.lte is None:
                raise ValueError("a range filter needs gte or lte")
            if self.gte is not None and self.lte is not None and self.gte > self.lte:
                raise ValueError("a range filter needs gte <= lte")
            if self.values:
                raise ValueError("a range filter takes gte/lte, not values")
        else:
            if not self.values:
                raise ValueError(f"an {self.op!r} filter needs at least one value")
            if self.op == "eq" and len(self.values) != 1:
                raise ValueError("an 'eq' filter takes exactly one value; use 'in' for several")
        # The id is always derived from the content, so equal filters have equal ids whatever made them.
        object.__setattr__(
            self, "id", filter_id(self.field, self.op, self.values, self.gte, self.lte, self.negated)
        )
        if not self.label:
            object.__setattr__(self, "label", _default_label(self))
        return self

    def with_source(self, source: FilterSource) -> AppliedFilter:
        """A copy from another source; a filter carried over from an earlier turn loses its span."""
        span = None if source == "session" else self.span
        return self.model_copy(update={"source": source, "span": span})


def price_label(gte: float | None, lte: float | None) -> str:
    if gte is not None and lte is not None:
        return f"${format_number(gte)} - ${format_number(lte)}"
    if lte is not None:
        return f"Under ${format_number(lte)}"
    return f"Over ${format_number(gte or 0.0)}"


def _default_label(f: AppliedFilter) -> str:
    if f.op == "range":
        text = price_label(f.gte, f.lte) if f.field == "price" else f"{f.field} {f.gte}-{f.lte}"
        return f"Not {text}" if f.negated else text
    names = ", ".join(v.split("__", 1)[-1].replace("-", " ").title() for v in f.values)
    if f.negated:
        return f"Not {names}"
    field = f.field.removeprefix("attr.").replace("-", " ").capitalize()
    return f"{field}: {names}"


class ParsedQuery(BaseModel):
    """A shopper's text split into the filters read from it, a sort, and the words left for retrieval."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    text: str
    filters: list[AppliedFilter] = Field(default_factory=list)
    sort: Sort | None = None
