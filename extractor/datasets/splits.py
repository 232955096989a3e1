"""Deterministic splits by id. A module of its own, importing nothing of the project: `catalog train`
(extractor.local) and the dataset loaders (which import extractor.local) both use it."""

from __future__ import annotations

import hashlib


def is_held_out(sku: str, percent: int = 50) -> bool:
    """Deterministic product-level split by a hash of the sku (or any product id): about `percent`% of
    ids are held out. `catalog train` uses it too, with its own percent."""
    return int(hashlib.sha1(sku.encode()).hexdigest(), 16) % 100 < percent
