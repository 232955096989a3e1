"""Precompute the MiniLM embeddings of every taxonomy category into the package data of ``extractor/``.

Usage: python scripts/build_category_embeddings.py [--from-cache] [--no-measure]

Writes extractor/data/category_embeddings.npz (int8 codes with a scale per row, compressed, committed), keyed
by the taxonomy version and a digest of the category descriptions and the model name, so a server never
embeds the taxonomy on start-up or in a request. Run it after scripts/build_taxonomy.py, or after changing
the description rule (extractor.local.category_embeddings.describe): a stale file is detected on load and
the server falls back to building the embeddings into its cache at start-up, with a warning.

`--from-cache` takes the float32 matrix from the per-machine cache (CATALOG_CACHE_DIR) when it holds one for
the same key, instead of embedding again (about a minute on two cores). Unless `--no-measure`, it then prints
how closely the shipped encoding ranks categories compared with float32 (and float16, for reference), on
the queries the extractor builds from the fixture catalog and on OA-Mine titles (from ../shared/data).
Re-running is idempotent: the same matrix gives a byte-identical file.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractor.embeddings import get_text_embedder  # noqa: E402
from extractor.local import category_embeddings as ce  # noqa: E402
from extractor.local.category import default_cache_dir  # noqa: E402
from taxonomy import Taxonomy  # noqa: E402

OUT = ROOT / "extractor" / "data" / ce.SHIPPED_NAME
OA_MINE = ROOT.parent / "shared" / "data" / "oa-mine" / "test.jsonl"
TOP_K = (1, 5, 10)


def float32_matrix(taxonomy: Taxonomy, from_cache: bool) -> tuple[np.ndarray, ce.EmbeddingKey]:
    embedder = get_text_embedder()
    names = ce.descriptions(taxonomy)
    key = ce.key_for(taxonomy, names, embedder.name, embedder.dim)
    cached = default_cache_dir() / ce.cache_file_name(key)
    if from_cache and cached.exists():
        matrix = np.load(cached)
        if matrix.shape == (key.count, key.dim):
            print(f"float32 matrix from {cached}")
            return matrix.astype(np.float32), key
    print(f"embedding {len(names)} category descriptions with {embedder.name} ...")
    return embedder.embed(names, batch_size=128), key


def measurement_queries() -> dict[str, list[str]]:
    """The category queries the local extractor builds for real listings."""
    from extractor.local.text import category_query
    from extractor.models import ProductInput
    from indexer.conversions import extraction_input
    from indexer.importers import fixture_path, read_products

    sets = {"fixture": [category_query(extraction_input(p)) for p in read_products("demo", fixture_path())]}
    if OA_MINE.exists():
        from extractor.datasets.oa_mine import load

        sets["oa-mine"] = [category_query(ProductInput(title=row["input"])) for row in load(OA_MINE)]
    return {name: [q for q in queries if q.strip()] for name, queries in sets.items()}


def top_k_agreement(reference: np.ndarray, other: np.ndarray, queries: np.ndarray) -> dict[str, float]:
    """Mean share of the float32 top-k that `other` also puts in its top-k, per k; and, where the best category
    differs, the largest float32 cosine gap between the two (how near a tie the flips are)."""
    ref, oth = queries @ reference.T, queries @ other.T
    out = {}
    for k in TOP_K:
        a = np.argpartition(-ref, k, axis=1)[:, :k]
        b = np.argpartition(-oth, k, axis=1)[:, :k]
        out[f"top{k}"] = round(float(np.mean([len(set(x) & set(y)) / k for x, y in zip(a, b, strict=True)])), 4)
    rows = np.arange(len(ref))
    best_ref, best_oth = ref.argmax(axis=1), oth.argmax(axis=1)
    gaps = ref[rows, best_ref] - ref[rows, best_oth]
    out["top1_flip_gap_max"] = round(float(gaps.max()), 5)
    return out


def ranking_agreement(taxonomy: Taxonomy, reference: np.ndarray, other: np.ndarray, texts: list[str],
                      vectors: np.ndarray) -> dict[str, float]:
    """The same, through CategoryIndex.rank (lexical scores and priors included): what a listing sees."""
    from extractor.local.category import CategoryIndex

    index = CategoryIndex(taxonomy)
    ranked = []
    for matrix in (reference, other):
        index.matrix = matrix
        ranked.append([[c.id for c in index.rank(t, v, {}, k=5)] for t, v in zip(texts, vectors, strict=True)])
    same_top1 = np.mean([a[:1] == b[:1] for a, b in zip(*ranked, strict=True)])
    overlap5 = np.mean([len(set(a) & set(b)) / max(1, len(a)) for a, b in zip(*ranked, strict=True)])
    return {"rank_top1_same": round(float(same_top1), 4), "rank_top5_overlap": round(float(overlap5), 4)}


def compressed_size(**arrays: np.ndarray) -> int:
    buffer = io.BytesIO()
    ce.write_npz(buffer, **arrays)
    return len(buffer.getvalue())


def measure(taxonomy: Taxonomy, matrix: np.ndarray) -> None:
    shipped = ce.decode(*ce.encode(matrix))
    half = matrix.astype(np.float16).astype(np.float32)
    print(f"\nsizes: float32 {matrix.nbytes / 1e6:.2f} MB raw; float16 {half.nbytes // 2 / 1e6:.2f} MB raw, "
          f"{compressed_size(m=matrix.astype(np.float16)) / 1e6:.2f} MB compressed; shipped int8+scale "
          f"{OUT.stat().st_size / 1e6:.2f} MB compressed")
    embedder = get_text_embedder()
    columns = ["queries", "encoding", *(f"top{k}" for k in TOP_K), "top1_flip_gap_max", "rank_top1_same",
               "rank_top5_overlap"]
    rows = []
    for name, texts in measurement_queries().items():
        vectors = embedder.embed(texts)
        for label, encoded in (("float16", half), ("int8+scale (shipped)", shipped)):
            rows.append({"queries": f"{name} ({len(texts)})", "encoding": label,
                         **top_k_agreement(matrix, encoded, vectors),
                         **ranking_agreement(taxonomy, matrix, encoded, texts, vectors)})
    print("\nagreement with float32 (share of the float32 top-k kept; rank_*: CategoryIndex.rank, no photo)")
    widths = [max(len(c), *(len(str(r[c])) for r in rows)) for c in columns]
    print("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)))
    for row in rows:
        print("  ".join(str(row[c]).ljust(w) for c, w in zip(columns, widths, strict=True)))


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--from-cache", action="store_true", help="reuse the float32 cache of the same key")
    parser.add_argument("--no-measure", action="store_true", help="skip the agreement measurement")
    args = parser.parse_args(argv[1:])
    taxonomy = Taxonomy.load()
    matrix, key = float32_matrix(taxonomy, args.from_cache)
    ce.save(OUT, matrix, key)
    print(f"wrote {OUT} ({OUT.stat().st_size / 1e6:.2f} MB): {key}")
    if not args.no_measure:
        measure(taxonomy, matrix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
