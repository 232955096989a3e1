"""The VectorEngine contract, run on every available backend (Qdrant Edge always; Qdrant server when
QDRANT_URL is set). Filters are checked against the reference evaluator `filters.matches`."""

from __future__ import annotations

import math
import random
from typing import Any

import pytest

from indexer.documents import IndexDocument
from indexer.engines.types import EngineError
from indexer.filters import Eq, FilterError, In, matches

STORE, OTHER = "alpha", "beta"
DIM = 8


def _cosine(a: list[float], b: list[float]) -> float:
    dot = sum(x * y for x, y in zip(a, b, strict=True))
    return dot / (math.sqrt(sum(x * x for x in a)) * math.sqrt(sum(y * y for y in b)))


def _query(seed: int = 3) -> list[float]:
    rnd = random.Random(seed)
    return [rnd.uniform(-1, 1) for _ in range(DIM)]


def test_filter_matches_reference(loaded_vector: Any, corpus: list[IndexDocument], filter_case: Any,
                                  expect: Any) -> None:
    for store in (STORE, OTHER):
        want = expect(corpus, store, filter_case)
        assert loaded_vector.count(store, filter_case) == len(want)
        hits = loaded_vector.search(store, _query(), filter_case, limit=1000)
        assert {h.product_id for h in hits} == want


def test_nearest_neighbours_in_cosine_order(loaded_vector: Any, corpus: list[IndexDocument],
                                            vectors: list[list[float]]) -> None:
    q = _query()
    flt = Eq(field="category", value="aa-1")
    ranked = sorted(((_cosine(q, v), d.product_id) for d, v in zip(corpus, vectors, strict=True)
                     if d.store == STORE and matches(flt, d)), reverse=True)
    hits = loaded_vector.search(STORE, q, flt, limit=5)
    assert [h.product_id for h in hits] == [pid for _, pid in ranked[:5]]
    assert [h.score for h in hits] == pytest.approx([s for s, _ in ranked[:5]], abs=1e-4)


def test_equal_scores_come_by_product_id(vector_opener: Any, corpus: list[IndexDocument]) -> None:
    # Products with the same text embed alike: a cut through them must not depend on the engine.
    engine = vector_opener()
    docs = [d for d in corpus if d.store == STORE][:12]
    engine.upsert(docs, [[1.0] + [0.0] * (DIM - 1) if i % 2 else [0.0, 1.0] + [0.0] * (DIM - 2)
                         for i in range(len(docs))])
    engine.commit()
    q = [1.0, 0.5] + [0.0] * (DIM - 2)
    full = engine.search(STORE, q, limit=100)
    odd, even = sorted(d.product_id for d in docs[1::2]), sorted(d.product_id for d in docs[0::2])
    assert [h.product_id for h in full] == odd + even
    assert [h.product_id for h in engine.search(STORE, q, limit=3)] == odd[:3]


def test_exact_vector_is_its_own_nearest(loaded_vector: Any, corpus: list[IndexDocument],
                                         vectors: list[list[float]]) -> None:
    i = next(i for i, d in enumerate(corpus) if d.store == OTHER)
    hits = loaded_vector.search(OTHER, vectors[i], limit=1)
    assert hits[0].product_id == corpus[i].product_id and hits[0].score == pytest.approx(1.0, abs=1e-4)


def test_store_never_sees_another_store(loaded_vector: Any, corpus: list[IndexDocument],
                                        vectors: list[list[float]]) -> None:
    alpha = {d.product_id for d in corpus if d.store == STORE}
    # even the exact vector of a beta product finds only alpha products in alpha
    i = next(i for i, d in enumerate(corpus) if d.store == OTHER)
    assert {h.product_id for h in loaded_vector.search(STORE, vectors[i], limit=1000)} == alpha
    own_id = In(field="product_id", values=(corpus[i].product_id,))
    assert loaded_vector.search(STORE, vectors[i], own_id) == []
    assert loaded_vector.ids(STORE) == alpha
    assert loaded_vector.count("nope") == 0 and loaded_vector.search("nope", _query()) == []


def test_flagged_takes_a_boolean(loaded_vector: Any) -> None:
    with pytest.raises(FilterError):
        loaded_vector.count(STORE, Eq(field="flagged", value="true"))


def test_unknown_filter_field_is_rejected(loaded_vector: Any) -> None:
    with pytest.raises(FilterError):
        loaded_vector.count(STORE, Eq.model_construct(field="colour", value="x"))


def test_wrong_dimension_is_refused(loaded_vector: Any) -> None:
    with pytest.raises(ValueError):
        loaded_vector.search(STORE, [0.1] * (DIM + 1))


# --- writes -------------------------------------------------------------------------------------------

def _doc(pid: str, store: str = STORE, **kw: Any) -> IndexDocument:
    base: dict[str, Any] = {"title": "Plain thing", "category_path": ["aa"], "price": 10.0}
    base.update(kw)
    return IndexDocument(store=store, product_id=pid, **base)


def _unit(i: int) -> list[float]:
    v = [0.0] * DIM
    v[i % DIM] = 1.0
    return v


def test_upsert_replaces(vector_opener: Any) -> None:
    engine = vector_opener()
    engine.upsert([_doc("p1", vendor="Acme")], [_unit(0)])
    engine.commit()
    engine.upsert([_doc("p1", vendor="Luma")], [_unit(1)])
    engine.commit()
    assert engine.count(STORE) == 1
    assert engine.count(STORE, Eq(field="vendor", value="Acme")) == 0
    assert engine.count(STORE, Eq(field="vendor", value="Luma")) == 1
    assert engine.search(STORE, _unit(1), limit=1)[0].score == pytest.approx(1.0, abs=1e-4)


def test_delete_removes(vector_opener: Any) -> None:
    engine = vector_opener()
    docs = [_doc(f"p{i}") for i in range(5)] + [_doc("p1", store=OTHER)]
    engine.upsert(docs, [_unit(i) for i in range(len(docs))])
    engine.commit()
    engine.delete(STORE, ["p1", "p3", "missing"])
    engine.commit()
    assert engine.ids(STORE) == {"p0", "p2", "p4"} and engine.ids(OTHER) == {"p1"}


def test_clear(vector_opener: Any) -> None:
    engine = vector_opener()
    engine.upsert([_doc("p1"), _doc("p2", store=OTHER)], [_unit(0), _unit(1)])
    engine.commit()
    engine.clear()
    assert engine.count(STORE) == 0 and engine.count(OTHER) == 0


def test_ids_pages_through_large_store(vector_opener: Any) -> None:
    engine = vector_opener()
    docs = [_doc(f"p{i}") for i in range(2500)]
    engine.upsert(docs, [_unit(i) for i in range(len(docs))])
    engine.commit()
    assert engine.ids(STORE) == {d.product_id for d in docs}


def test_mismatched_vectors_are_refused(vector_opener: Any) -> None:
    engine = vector_opener()
    with pytest.raises(ValueError):
        engine.upsert([_doc("p1")], [[0.1] * (DIM - 1)])
    with pytest.raises(ValueError):
        engine.upsert([_doc("p1"), _doc("p2")], [_unit(0)])


def test_persists_after_close_and_reopen(vector_opener: Any, corpus: list[IndexDocument],
                                         vectors: list[list[float]]) -> None:
    engine = vector_opener()
    engine.upsert(corpus, vectors)
    engine.commit()
    before = engine.search(STORE, _query(), limit=5)
    engine.close()
    reopened = vector_opener(reopen=True)
    assert reopened.ids(STORE) == {d.product_id for d in corpus if d.store == STORE}
    assert [h.product_id for h in reopened.search(STORE, _query(), limit=5)] == [h.product_id for h in before]


def test_reopen_with_another_dimension_fails(vector_opener: Any) -> None:
    engine = vector_opener()
    engine.upsert([_doc("p1")], [_unit(0)])
    engine.commit()
    engine.close()
    with pytest.raises(EngineError):
        vector_opener(reopen=True, dim=DIM * 2)


def test_search_names_products_after_deletes_and_re_adds(vector_opener: Any) -> None:
    """A search after a delete, a re-add and another store's product at the same vector names the right
    products."""
    engine = vector_opener()
    engine.upsert([_doc("p0"), _doc("p1"), _doc("p0", store=OTHER)], [_unit(0), _unit(1), _unit(0)])
    engine.commit()
    assert [h.product_id for h in engine.search(STORE, _unit(0), limit=2)] == ["p0", "p1"]
    engine.delete(STORE, ["p0"])
    engine.commit()
    assert [h.product_id for h in engine.search(STORE, _unit(0), limit=2)] == ["p1"]
    assert [h.product_id for h in engine.search(OTHER, _unit(0), limit=2)] == ["p0"]
    engine.upsert([_doc("p0", vendor="Luma")], [_unit(0)])
    engine.commit()
    assert [h.product_id for h in engine.search(STORE, _unit(0), limit=2)] == ["p0", "p1"]
