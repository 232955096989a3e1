"""Relevance evaluation over judged queries: nDCG@10, recall@50 and MRR for each retrieval mode."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

MODES = ("lexical", "vector", "hybrid")


def dcg(gains: Sequence[float]) -> float:
    return sum((2 ** g - 1) / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 10) -> float:
    ideal = dcg(sorted(judgments.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([judgments.get(pid, 0) for pid in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], judgments: Mapping[str, int], k: int = 50) -> float:
    relevant = {pid for pid, grade in judgments.items() if grade > 0}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def reciprocal_rank(ranked: Sequence[str], judgments: Mapping[str, int]) -> float:
    """Rank of the first fully relevant (grade 2) result; grade 1 where a query has no grade 2."""
    top = max(judgments.values(), default=0)
    for i, pid in enumerate(ranked):
        if top and judgments.get(pid, 0) == top:
            return 1.0 / (i + 1)
    return 0.0


def load_queries(path: Path) -> list[dict]:
    queries = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            queries.append({"query": str(item["query"]), "judgments": {str(k): int(v) for k, v in
                                                                         item["judgments"].items()}})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: not a judged query ({exc})") from exc
    return queries


def evaluate_relevance(search, store: str, queries_path: Path, modes: Sequence[str] = MODES) -> dict:
    queries = load_queries(queries_path)
    result: dict = {}
    per_query = [{"query": item["query"]} for item in queries]
    for mode in modes:
        sums = {"ndcg@10": 0.0, "recall@50": 0.0, "mrr": 0.0}
        for i, item in enumerate(queries):
            ranked = search.rank(store, item["query"], mode=mode)
            scores = {"ndcg@10": ndcg_at_k(ranked, item["judgments"]),
                      "recall@50": recall_at_k(ranked, item["judgments"]),
                      "mrr": reciprocal_rank(ranked, item["judgments"])}
            for key, value in scores.items():
                sums[key] += value
            per_query[i][mode] = round(scores["ndcg@10"], 4)
        result[mode] = {key: round(value / max(1, len(queries)), 4) for key, value in sums.items()}
    result["queries"] = len(queries)
    result["per_query"] = per_query
    return result


def format_table(result: dict) -> str:
    lines = [f"{'mode':<10}{'nDCG@10':>10}{'recall@50':>11}{'MRR':>8}"]
    for mode in MODES:
        if mode in result:
            row = result[mode]
            lines.append(f"{mode:<10}{row['ndcg@10']:>10.4f}{row['recall@50']:>11.4f}{row['mrr']:>8.4f}")
    lines.append(f"queries: {result['queries']}")
    return "\n".join(lines)
