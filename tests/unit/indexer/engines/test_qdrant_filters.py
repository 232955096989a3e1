"""Neutral filter -> Qdrant filter, built with both qdrant-edge and qdrant-client classes."""

from __future__ import annotations

import pytest
from qdrant_client import models as m

from indexer.documents import AttributeValue, IndexDocument
from indexer.engines.types import EngineError
from indexer.engines.vector.qdrant_filters import (
    client_models,
    edge_models,
    point_payload,
    scoped_filter,
    to_condition,
)
from indexer.engines.vector.qdrant_server import QdrantServerVectorEngine
from indexer.filters import And, Eq, FilterError, In, Not, Or, Range

CLIENT = client_models()


def test_client_translation_builds_the_expected_models() -> None:
    node = And(all=(Eq(field="attr.color", value="color__black"),
                    Or(any=(In(field="category", values=("aa", "sg")), Range(gte=5, lt=10))),
                    Not(filter=Eq(field="flagged", value=True))))
    assert scoped_filter("s", node, CLIENT) == m.Filter(must=[
        m.FieldCondition(key="store", match=m.MatchValue(value="s")),
        m.Filter(must=[
            m.FieldCondition(key="attrs", match=m.MatchValue(value="color=color__black")),
            m.Filter(should=[m.FieldCondition(key="category", match=m.MatchAny(any=["aa", "sg"])),
                             m.FieldCondition(key="price", range=m.Range(gte=5.0, lt=10.0))]),
            m.Filter(must_not=[m.FieldCondition(key="flagged", match=m.MatchValue(value="true"))]),
        ]),
    ])


def test_edge_translation_uses_edge_classes() -> None:
    import qdrant_edge as q

    cond = to_condition(Range(lte=3), edge_models())
    assert isinstance(cond, q.FieldCondition) and isinstance(cond.range, q.RangeFloat)
    assert cond.range.lte == 3.0
    flt = scoped_filter("s", None, edge_models())
    assert isinstance(flt, q.Filter) and flt.must[0].match.value == "s"


def test_store_scope_without_filter() -> None:
    assert scoped_filter("s", None, CLIENT) == m.Filter(
        must=[m.FieldCondition(key="store", match=m.MatchValue(value="s"))])


def test_unknown_nodes_raise_filter_error() -> None:
    with pytest.raises(FilterError):
        to_condition(Eq.model_construct(field="colour", value="x"), CLIENT)
    with pytest.raises(FilterError):
        to_condition(In(field="flagged", values=("true",)), CLIENT)
    with pytest.raises(FilterError):
        to_condition(object(), CLIENT)  # type: ignore[arg-type]


def test_payload_encoding() -> None:
    doc = IndexDocument(store="s", product_id="p", title="t", category_path=["aa", "aa-1"], price=None,
                        tags=["x", "x"],
                        attributes=[AttributeValue(handle="color", value="color__red", name="Red")])
    assert point_payload(doc) == {"store": "s", "product_id": "p", "category": ["aa", "aa-1"],
                                  "attrs": ["color=color__red"], "vendor": "", "tags": ["x"],
                                  "product_type": "",
                                  "flagged": "false", "price": None}


def test_unreachable_server_is_a_clear_engine_error() -> None:
    with pytest.raises(EngineError, match="unreachable"):
        QdrantServerVectorEngine("http://127.0.0.1:9", dim=4)
