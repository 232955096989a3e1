"""The product vector's text, before and after it became the local extractor's category query: mean MiniLM
tokens and texts per CPU-second when the texts are embedded on their own (what a rebuild, `--no-extract`
indexing or another extractor backend pays per product; end to end with the local extractor the new text
costs nothing extra, its vector is the extractor's).

    .venv/bin/python benchmarks/bench_scale_embed_text.py --catalog /tmp/c2k.jsonl [--products 512]

Writes results/scale_embed_text.json.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from itertools import islice
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from common import print_table, write_json  # noqa: E402

# The recipe before (indexer/documents.py until this change), kept here to measure it against the new one.
OLD_ATTRIBUTES = frozenset({"color", "target-gender", "age-group", "fabric", "material", "pattern", "activity",
                            "style"})
OLD_DESCRIPTION_CHARS = 120


def old_text(doc) -> str:
    kind = doc.category_name.split(" > ")[-1] if doc.category_name else ""
    shelf = doc.merchant_category.replace("/", " ")
    looks = " ".join(dict.fromkeys(a.name for a in doc.attributes if a.handle in OLD_ATTRIBUTES))
    parts = [doc.title, kind, shelf, looks, _opening(doc.description, OLD_DESCRIPTION_CHARS)]
    return ". ".join(p for p in parts if p)


def _opening(text: str, max_chars: int) -> str:
    text = " ".join(text.split())
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars]
    end = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
    return cut[:end + 1] if end >= max_chars // 3 else cut.rsplit(" ", 1)[0]


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def measure(embedder, texts: list[str], label: str) -> dict:
    tokenizer = embedder._model.tokenizer
    tokens = sum(len(tokenizer(t)["input_ids"]) for t in texts) / len(texts)
    started, cpu0 = time.perf_counter(), cpu_s()
    embedder.embed(texts)
    wall, cpu = time.perf_counter() - started, cpu_s() - cpu0
    return {"text": label, "texts": len(texts), "mean_tokens": round(tokens, 1), "per_s": round(len(texts) / wall, 1),
            "per_cpu_s": round(len(texts) / cpu, 1), "load_avg": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--catalog", type=Path, required=True)
    parser.add_argument("--products", type=int, default=512)
    args = parser.parse_args()
    from extractor.embeddings import TextEmbedder
    from indexer.conversions import build_document
    from indexer.importers import read_products
    from taxonomy import Taxonomy

    taxonomy = Taxonomy.load()
    docs = [build_document(p, None, taxonomy) for p in islice(read_products("s", args.catalog), args.products)]
    embedder = TextEmbedder(recent_size=0)  # no memory of earlier texts: every text is a model pass
    embedder.embed(["warm-up"])
    rows = [measure(embedder, [old_text(d) for d in docs], "before: title, kind, shelf, looks, 120 chars"),
            measure(embedder, [d.embedding_text() for d in docs], "after: the extractor's category query")]
    print_table(f"product vector text, {len(docs)} products of {args.catalog.name} (merchant data)", rows,
                list(rows[0]))
    write_json("scale_embed_text", {"benchmark": "scale_embed_text", "catalog": str(args.catalog), "rows": rows})


if __name__ == "__main__":
    main()
