"""Product embeddings through the store's cache: the same text is never embedded twice."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def embed_cached(catalog, embedder, texts: Sequence[str]) -> tuple[np.ndarray, int]:
    """Vectors for `texts` in order, and how many had to be computed (0 on an unchanged catalog)."""
    keys = [text_key(t) for t in texts]
    found = catalog.get_embeddings(list(dict.fromkeys(keys)), embedder.name)
    missing = {k: t for k, t in zip(keys, texts, strict=True) if k not in found}
    if missing:
        computed = embedder.embed(list(missing.values()))
        fresh = dict(zip(missing.keys(), computed, strict=True))
        catalog.put_embeddings(fresh, embedder.name)
        found.update(fresh)
    vectors = np.stack([found[k] for k in keys]) if keys else np.zeros((0, embedder.dim), np.float32)
    return vectors.astype(np.float32, copy=False), len(missing)
