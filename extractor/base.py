"""The extractor contract: batch-first, products in, extractions out, one per product, in order."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from extractor.models import Extraction, ProductInput


class Extractor(Protocol):
    name: str
    version: str  # bump when output for the same input may change: stored extractions go stale

    def extract(self, products: Sequence[ProductInput]) -> list[Extraction]:
        """One Extraction per product, in order. A bad product yields an Extraction with `errors`
        (partial where possible); it never fails the batch."""


class ExtractorUnavailable(RuntimeError):
    """The configured backend cannot run here (server unreachable, package missing)."""
