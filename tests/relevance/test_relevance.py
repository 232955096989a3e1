"""Relevance regression: the judged queries over the fixture catalog, plain BM25 and the three retrieval modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from search_api.evaluate import evaluate_relevance, format_table

QUERIES = Path(__file__).parent / "queries.jsonl"
# Issue 17 asks for hybrid >= 0.88 and hybrid >= bm25 + 0.05 on the judged set. Measured on the 160 queries
# (README.md, 14:54 UTC): hybrid 0.907 (development 0.908, held-out 0.906), bm25 0.540. The floor is the
# issue's own 0.88, not the measurement: the vector row moves with the embedding inputs (other issues change
# them: 0.880 -> 0.845 in one commit) by more than the spread a floor at 0.907 could absorb.
HYBRID_FLOOR = 0.88
HYBRID_OVER_BM25 = 0.05


@pytest.mark.relevance
def test_hybrid_holds_the_floor_and_beats_plain_bm25(demo_runtime):
    result = evaluate_relevance(demo_runtime.search, "demo", QUERIES)
    print(format_table(result))
    assert result["queries"] >= 150
    assert result["hybrid"]["ndcg@10"] >= HYBRID_FLOOR
    assert result["hybrid"]["ndcg@10"] >= result["bm25"]["ndcg@10"] + HYBRID_OVER_BM25
    # Every class of the set is reported, on both halves of the split.
    assert {"use", "question", "superlative", "multi", "followup"} <= set(result["classes"])
    assert all(result["splits"][half]["queries"] > 0 for half in ("development", "held_out"))
