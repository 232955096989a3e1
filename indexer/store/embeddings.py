"""Embeddings cache: (sha256 of the embedded text, model name) -> float32 vector."""

from __future__ import annotations

import numpy as np
from sqlalchemy import select

from indexer.store import schema
from indexer.store.base import StoreBase, chunks
from indexer.store.dialect import insert_ignore
from indexer.store.types import utcnow

M = schema.embeddings


class EmbeddingsMixin(StoreBase):
    def get_embeddings(self, keys: list[str], model: str) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        with self._read() as conn:
            for batch in chunks(list(dict.fromkeys(keys))):
                rows = conn.execute(select(M.c.key, M.c.vector).where(M.c.model == model, M.c.key.in_(batch)))
                for key, blob in rows:
                    found[key] = np.frombuffer(blob, dtype="<f4").astype(np.float32)
        return found

    def put_embeddings(self, vectors: dict[str, np.ndarray], model: str) -> None:
        """Store vectors; keys already cached for this model are left as they are."""
        now = utcnow()
        rows = []
        for key, vector in vectors.items():
            array = np.asarray(vector, dtype="<f4").reshape(-1)
            rows.append({"key": key, "model": model, "dim": int(array.shape[0]), "vector": array.tobytes(),
                         "created_at": now})
        if not rows:
            return
        with self._write() as conn:
            stmt = insert_ignore(conn, M, ["key", "model"])
            for batch in chunks(rows):
                conn.execute(stmt, batch)
