"""Cost of a page by depth, at the retrieval layer, on a synthetic 12,000-product store in the embedded
engines (tantivy, Qdrant Edge): browse, lexical text and hybrid (lexical + vector fused by RRF, windows
grown until the order is settled past the page, search_api/query/paging.py). The vectors are random, so
the hybrid rows are the worst case: the two rankings never agree and the window grows to its bound.
Prints a table and writes results/paging.json.

    .venv/bin/python benchmarks/bench_paging.py
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import print_table, write_json  # noqa: E402

from indexer.engines.lexical.tantivy import TantivyLexicalEngine  # noqa: E402
from indexer.engines.vector.qdrant_edge import QdrantEdgeVectorEngine  # noqa: E402
from search_api.query.paging import Retrieved, Retriever, fetch_fused  # noqa: E402
from tests.contract.conftest import make_corpus, make_vectors  # noqa: E402

DIM = 64
STORE = "alpha"
DEPTHS = (10, 200, 1000, 5000, 10_100)  # offset + limit


def main() -> None:
    half = [d for d in make_corpus(per_store=6000) if d.store == STORE]
    docs = half + [d.model_copy(update={"product_id": d.product_id + "x"}) for d in half]
    root = Path(tempfile.mkdtemp(prefix="bench-paging-"))
    lexical, vector = TantivyLexicalEngine(root / "tantivy"), QdrantEdgeVectorEngine(root / "qdrant", dim=DIM)
    lexical.upsert(docs)
    lexical.commit()
    vector.upsert(docs, make_vectors(docs, dim=DIM))
    vector.commit()
    query = [random.Random(5).uniform(-1, 1) for _ in range(DIM)]

    def by_text(text: str) -> Retriever:
        def fetch(n: int) -> Retrieved:
            found = lexical.search(STORE, text, None, limit=n)
            return Retrieved(found.hits, len(found.hits) < n or len(found.hits) >= found.total, found.total)
        return fetch

    def by_vector(n: int) -> Retrieved:
        hits = vector.search(STORE, query, None, limit=n)
        return Retrieved(hits, len(hits) < n)

    cases = {"browse": {"lexical": by_text("")}, "lexical 'black hoodie'": {"lexical": by_text("black hoodie")},
             "hybrid 'black hoodie'": {"lexical": by_text("black hoodie"), "vector": by_vector}}
    rows = []
    for name, retrievers in cases.items():
        for depth in DEPTHS:
            latencies = []
            for _ in range(5 if depth > 1000 else 20):
                started = time.perf_counter()
                page = fetch_fused(retrievers, depth, first=100, k=60, weights={}, rest="vector")
                latencies.append((time.perf_counter() - started) * 1000)
            rows.append({"case": name, "offset_plus_limit": depth, "median_ms": round(statistics.median(latencies), 2),
                         "settled": page.settled, "fetched_ids": len(page.ids)})
    lexical.close()
    vector.close()
    print_table(f"retrieval by page depth, synthetic store of {len(docs)} products", rows,
                ["case", "offset_plus_limit", "median_ms", "settled", "fetched_ids"])
    write_json("paging", {"benchmark": "paging_depth", "products": len(docs), "rows": rows})


if __name__ == "__main__":
    main()
