"""Neutral filter -> Qdrant filter, operator-table style, for both Qdrant Edge and Qdrant server.

qdrant-edge-py (pyo3 classes) and qdrant-client (pydantic models) name their filter classes alike
and take the same keyword arguments; only the float range class differs (`RangeFloat` vs `Range`).
So one translation builds either, given a `QdrantModels` naming the classes to instantiate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from indexer.documents import IndexDocument
from indexer.engines.keywords import keyword_values, term
from indexer.filters import And, Eq, Filter, FilterError, In, Not, Or, Range, check_field

# Payload keys with a payload index (filters and the store scope use them instead of scanning payloads),
# by kind; each engine maps them onto its own schema types. They are keys of `point_payload`.
KEYWORD_PAYLOAD_KEYS = ("store", "category", "attrs", "vendor", "tags", "product_type", "flagged")
FLOAT_PAYLOAD_KEYS = ("price",)


def checked_points(docs: Sequence[IndexDocument], vectors: Sequence[Sequence[float]],
                   dim: int) -> list[tuple[IndexDocument, list[float]]]:
    """Pair documents with their vectors, refusing a count or dimension mismatch before any write."""
    if len(docs) != len(vectors):
        raise ValueError(f"{len(docs)} documents but {len(vectors)} vectors")
    out = []
    for doc, vector in zip(docs, vectors, strict=True):
        if len(vector) != dim:
            raise ValueError(f"vector of {doc.store}/{doc.product_id} has {len(vector)} dims, expected {dim}")
        out.append((doc, [float(x) for x in vector]))
    return out


def query_vector(vector: Sequence[float], dim: int) -> list[float]:
    if len(vector) != dim:
        raise ValueError(f"query vector has {len(vector)} dims, expected {dim}")
    # One C loop (the list of numpy scalars this replaced cost 1.7 % of a search's GIL time at 2k).
    return np.asarray(vector, dtype=np.float64).tolist()


def point_payload(doc: IndexDocument) -> dict[str, Any]:
    """The filterable payload: the same keyword values tantivy indexes (see engines/keywords.py)."""
    values = keyword_values(doc)
    return {
        "store": doc.store,
        "product_id": doc.product_id,
        "category": values["category"],
        "attrs": values["attrs"],
        "vendor": doc.vendor,
        "tags": values["tags"],
        "product_type": doc.product_type,
        "flagged": values["flagged"][0],
        "price": doc.price,  # None -> null, which no range matches
    }


@dataclass(frozen=True)
class QdrantModels:
    Filter: Callable[..., Any]
    FieldCondition: Callable[..., Any]
    MatchValue: Callable[..., Any]
    MatchAny: Callable[..., Any]
    Range: Callable[..., Any]


def edge_models() -> QdrantModels:
    import qdrant_edge as q

    return QdrantModels(q.Filter, q.FieldCondition, q.MatchValue, q.MatchAny, q.RangeFloat)


def client_models() -> QdrantModels:
    from qdrant_client import models as m

    return QdrantModels(m.Filter, m.FieldCondition, m.MatchValue, m.MatchAny, m.Range)


def _eq(node: Eq, m: QdrantModels) -> Any:
    key, value = term(node.field, node.value)
    # On a list payload (category, attrs, tags) a match holds when any element equals the value.
    return m.FieldCondition(key=key, match=m.MatchValue(value=value))


def _in(node: In, m: QdrantModels) -> Any:
    encoded = [term(node.field, v) for v in node.values]
    return m.FieldCondition(key=encoded[0][0], match=m.MatchAny(any=[v for _, v in encoded]))


def _range(node: Range, m: QdrantModels) -> Any:
    key = check_field(node.field, numeric=True)  # numeric filter fields are payload keys of the same name
    # A point whose price is null or missing never satisfies a range condition.
    return m.FieldCondition(key=key, range=m.Range(gte=node.gte, gt=node.gt, lte=node.lte, lt=node.lt))


def _and(node: And, m: QdrantModels) -> Any:
    return m.Filter(must=[to_condition(c, m) for c in node.all])


def _or(node: Or, m: QdrantModels) -> Any:
    return m.Filter(should=[to_condition(c, m) for c in node.any])


def _not(node: Not, m: QdrantModels) -> Any:
    # Unlike tantivy, a Qdrant filter with only must_not starts from every point.
    return m.Filter(must_not=[to_condition(node.filter, m)])


OPERATORS: dict[type, Callable[[Any, QdrantModels], Any]] = {Eq: _eq, In: _in, Range: _range, And: _and,
                                                             Or: _or, Not: _not}


def to_condition(node: Filter, m: QdrantModels) -> Any:
    """A Qdrant condition (a FieldCondition or a nested Filter) for one neutral node."""
    translate = OPERATORS.get(type(node))
    if translate is None:
        raise FilterError(f"unknown filter node {node!r}")
    return translate(node, m)


def scoped_filter(store: str, node: Filter | None, m: QdrantModels) -> Any:
    """Store scoping is always a must condition, whatever the filter says."""
    must = [m.FieldCondition(key="store", match=m.MatchValue(value=store))]
    if node is not None:
        must.append(to_condition(node, m))
    return m.Filter(must=must)
