"""ProductIds: a vector hit's product id without its payload, read once per point while it is kept."""

from __future__ import annotations

from pathlib import Path

from indexer.documents import IndexDocument
from indexer.engines.vector.point_ids import ProductIds
from indexer.engines.vector.qdrant_edge import QdrantEdgeVectorEngine


def test_only_points_not_kept_are_read() -> None:
    reads: list[list[str]] = []

    def read(ids):
        reads.append(list(ids))
        return {i: f"product-{i}" for i in ids if i != "gone"}

    ids = ProductIds(read, size=3)
    assert ids.resolve(["a", "b", "a"]) == ["product-a", "product-b", "product-a"]
    assert ids.resolve(["b", "c", "gone"]) == ["product-b", "product-c", None]
    assert reads == [["a", "b"], ["c", "gone"]]
    assert ids.stats() == {"hits": 2, "misses": 4, "entries": 3}


def test_the_least_recently_returned_point_goes_first() -> None:
    reads: list[str] = []

    def read(ids):
        reads.extend(ids)
        return {i: i.upper() for i in ids}

    ids = ProductIds(read, size=2)
    ids.resolve(["a", "b"])
    ids.resolve(["a"])  # b is now the oldest
    ids.resolve(["c"])
    assert len(ids) == 2
    reads.clear()
    ids.resolve(["a", "b", "c"])
    assert reads == ["b"]


def _doc(pid: str) -> IndexDocument:
    return IndexDocument(store="s", product_id=pid, title=pid)


def test_the_embedded_engine_reads_a_payload_once_per_point(tmp_path: Path) -> None:
    engine = QdrantEdgeVectorEngine(tmp_path / "q", dim=4)
    try:
        engine.upsert([_doc("p0"), _doc("p1"), _doc("p2")],
                      [[1, 0, 0, 0], [0.9, 0.1, 0, 0], [0, 1, 0, 0]])
        engine.commit()
        first = [h.product_id for h in engine.search("s", [1, 0, 0, 0], limit=3)]
        misses = engine.product_ids.misses
        again = [h.product_id for h in engine.search("s", [0, 1, 0, 0], limit=3)]
        assert first == ["p0", "p1", "p2"] and again == ["p2", "p1", "p0"]
        assert misses == 3 and engine.product_ids.misses == 3
    finally:
        engine.close()
