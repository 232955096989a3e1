"""The relevance evaluation's bookkeeping: query ids, the development / held-out split, per-class means."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from search_api.evaluate import (
    MODES,
    RESULTS_ALONE,
    evaluate_relevance,
    format_table,
    is_held_out,
    load_queries,
    query_id,
)


class _Ranking:
    """Answers `rank` from a table: this checks the arithmetic over classes and splits, not retrieval."""

    def __init__(self, answers: dict[tuple[str, str], list[str]]) -> None:
        self.answers = answers
        self.calls: list[tuple[str, str, tuple[str, ...]]] = []

    def rank(self, store: str, q: str, mode: str = "hybrid", previous=(), with_close_matches=True) -> list[str]:
        self.calls.append((q, mode, tuple(previous)))
        answer = self.answers.get((q, mode), [])
        return answer if with_close_matches else answer[:1]


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    return path


def test_split_is_deterministic_and_roughly_half() -> None:
    ids = [f"query {i}" for i in range(400)]
    held = [q for q in ids if is_held_out(q)]
    assert held == [q for q in ids if is_held_out(q)]
    assert 150 < len(held) < 250
    assert query_id("in black", ["mens hoodie"]) == "mens hoodie | in black"


def test_per_class_and_split_means(tmp_path: Path) -> None:
    rows = [{"query": "a", "judgments": {"p": 2}, "kind": "one"},
            {"query": "b", "judgments": {"q": 2}, "kind": "two"},
            {"query": "in red", "previous": ["b"], "judgments": {"r": 2}, "kind": "two"}]
    path = _write(tmp_path / "q.jsonl", rows)
    answers = {(q, mode): [pid] for q, pid in (("a", "p"), ("b", "q"), ("in red", "r")) for mode in MODES}
    answers[("b", "bm25")] = ["x"]  # bm25 misses query "b"
    ranking = _Ranking(answers)
    result = evaluate_relevance(ranking, "s", path)
    assert result["hybrid"]["ndcg@10"] == 1.0 and result["bm25"]["ndcg@10"] == round(2 / 3, 4)
    assert result["classes"]["one"] == {"queries": 1, **dict.fromkeys(MODES, 1.0)}
    assert result["classes"]["two"]["bm25"] == 0.5 and result["classes"]["two"]["hybrid"] == 1.0
    assert sum(s["queries"] for s in result["splits"].values()) == 3
    assert ("in red", "lexical", ("b",)) in ranking.calls  # a follow-up is ranked with its earlier turns
    # Results alone: the first id of each answer (the rest stand for close matches here).
    assert result[RESULTS_ALONE]["ndcg@10"] == 1.0
    table = format_table(result)
    assert "bm25" in table and "nDCG@10 by class" in table and "held_out" in table


def test_a_malformed_line_names_its_place(tmp_path: Path) -> None:
    path = tmp_path / "q.jsonl"
    path.write_text('{"query": "a", "judgments": {"p": 2}}\n{"query": "b"}\n')
    with pytest.raises(ValueError, match=r"q.jsonl:2"):
        load_queries(path)


def test_the_command_refuses_a_missing_file(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from search_api.cli import app

    result = CliRunner().invoke(app, ["eval", "relevance", "--store", "demo", "--queries", str(tmp_path / "no.jsonl")])
    assert result.exit_code == 1 and "is not a file" in result.output
