"""Relevance evaluation over judged queries: nDCG@10, recall@50 and MRR for each retrieval mode, overall,
per query class and per split (development / held-out)."""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path

# bm25: plain BM25 over the raw query text (the baseline, issue 17); the others read the query first.
MODES = ("bm25", "lexical", "vector", "hybrid")
# The system's results without the close matches that fill a short page (SearchResponse.close_matches): how
# much of hybrid's figure those give, reported beside it.
RESULTS_ALONE = "hybrid_results_alone"
METRICS = ("ndcg@10", "recall@50", "mrr")
SPLITS = ("development", "held_out")


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


def query_id(query: str, previous: Sequence[str] = ()) -> str:
    """A judged query's id: its turns, earlier ones first, joined by " | "."""
    return " | ".join([*previous, query])


def is_held_out(qid: str) -> bool:
    """The deterministic split of the judged set: about half the queries, by a hash of the query id, are
    held out. Query-understanding rules are developed on the other half only; both are reported."""
    return int(hashlib.sha1(f"relevance:{qid}".encode()).hexdigest(), 16) % 2 == 1


def load_queries(path: Path) -> list[dict]:
    """Judged queries: {"query", "judgments", "kind"?, "previous"?: earlier turns of a conversation}."""
    queries = []
    for n, line in enumerate(Path(path).read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            previous = [str(t) for t in item.get("previous", [])]
            query = str(item["query"])
            qid = query_id(query, previous)
            queries.append({"query": query, "previous": previous, "kind": str(item.get("kind", "")),
                            "split": "held_out" if is_held_out(qid) else "development", "id": qid,
                            "judgments": {str(k): int(v) for k, v in item["judgments"].items()}})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: not a judged query ({exc})") from exc
    return queries


def _rank(search, store: str, item: dict, mode: str) -> list[str]:
    extra = {"previous": item["previous"]} if item["previous"] else {}
    if mode == RESULTS_ALONE:
        return search.rank(store, item["query"], mode="hybrid", with_close_matches=False, **extra)
    return search.rank(store, item["query"], mode=mode, **extra)


def _mean(rows: Sequence[Mapping[str, float]], key: str) -> float:
    return round(sum(r[key] for r in rows) / max(1, len(rows)), 4)


def evaluate_relevance(search, store: str, queries_path: Path, modes: Sequence[str] = MODES) -> dict:
    queries = load_queries(queries_path)
    scores: dict[str, list[dict[str, float]]] = {}
    rows = [*modes, RESULTS_ALONE] if "hybrid" in modes else list(modes)
    for mode in rows:
        scores[mode] = []
        for item in queries:
            ranked = _rank(search, store, item, mode)
            scores[mode].append({"ndcg@10": ndcg_at_k(ranked, item["judgments"]),
                                 "recall@50": recall_at_k(ranked, item["judgments"]),
                                 "mrr": reciprocal_rank(ranked, item["judgments"])})
    result: dict = {mode: {key: _mean(scores[mode], key) for key in METRICS} for mode in rows}
    result["queries"] = len(queries)

    def ndcg_over(indices: list[int]) -> dict:
        return {"queries": len(indices), **{mode: _mean([scores[mode][i] for i in indices], "ndcg@10")
                                            for mode in modes}}

    kinds = list(dict.fromkeys(item["kind"] for item in queries))
    result["classes"] = {kind: ndcg_over([i for i, q in enumerate(queries) if q["kind"] == kind])
                         for kind in kinds}
    result["splits"] = {split: ndcg_over([i for i, q in enumerate(queries) if q["split"] == split])
                        for split in SPLITS}
    result["per_query"] = [{"query": item["id"], "kind": item["kind"], "split": item["split"],
                            **{mode: round(scores[mode][i]["ndcg@10"], 4) for mode in modes}}
                           for i, item in enumerate(queries)]
    return result


def format_table(result: dict) -> str:
    modes = [m for m in MODES if m in result]
    lines = [f"{'mode':<10}{'nDCG@10':>10}{'recall@50':>11}{'MRR':>8}"]
    for mode in modes:
        row = result[mode]
        lines.append(f"{mode:<10}{row['ndcg@10']:>10.4f}{row['recall@50']:>11.4f}{row['mrr']:>8.4f}")
    lines.append(f"queries: {result['queries']}")
    if RESULTS_ALONE in result:
        row = result[RESULTS_ALONE]
        lines.append(f"hybrid without the close matches that fill a short page: nDCG@10 {row['ndcg@10']:.4f}, "
                     f"recall@50 {row['recall@50']:.4f}, MRR {row['mrr']:.4f}")
    for title, groups in (("class", result.get("classes", {})), ("split", result.get("splits", {}))):
        if not groups:
            continue
        lines.append("")
        lines.append(f"{'nDCG@10 by ' + title:<24}{'n':>5}" + "".join(f"{m:>9}" for m in modes))
        for name, row in groups.items():
            lines.append(f"{name or '-':<24}{row['queries']:>5}" + "".join(f"{row[m]:>9.4f}" for m in modes))
    return "\n".join(lines)
