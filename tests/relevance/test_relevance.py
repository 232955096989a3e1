"""Relevance regression: the judged queries over the fixture catalog, all three retrieval modes."""

from __future__ import annotations

from pathlib import Path

import pytest

from search_api.evaluate import evaluate_relevance

QUERIES = Path(__file__).parent / "queries.jsonl"
HYBRID_FLOOR = 0.85
HYBRID_OVER_LEXICAL = 0.05


@pytest.mark.relevance
def test_hybrid_holds_the_floor_and_beats_lexical(demo_runtime):
    result = evaluate_relevance(demo_runtime.search, "demo", QUERIES)
    print({mode: result[mode] for mode in ("lexical", "vector", "hybrid")})
    assert result["queries"] >= 60
    assert result["hybrid"]["ndcg@10"] >= HYBRID_FLOOR
    assert result["hybrid"]["ndcg@10"] >= result["lexical"]["ndcg@10"] + HYBRID_OVER_LEXICAL
