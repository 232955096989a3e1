"""The lexical + facets engine contract (tantivy embedded, Elasticsearch at scale)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from indexer.documents import IndexDocument
from indexer.engines.types import FacetCount, Hits, Sort
from indexer.filters import Filter

# Field boosts for BM25 (issue 4: title above attributes above description).
FIELD_BOOSTS = {"title": 3.0, "category_name": 2.0, "attributes_text": 1.5, "tags": 1.2, "vendor": 1.0,
                "description": 0.5}
# The analyzer of those text fields, the same on both engines: lowercase, ASCII folding, English stopwords,
# Snowball (Porter2) English stemming.
ANALYZER = "catalog_en"
# Tie-breaker of the per-word dis_max over the text fields: the best field counts fully, the others a little
# (Elasticsearch's multi_match best_fields with tie_breaker; tantivy's disjunction_max_query).
TIE_BREAKER = 0.3


@dataclass(frozen=True, slots=True)
class TextMatch:
    """Which text fields a query's words match, with what boost and tie-breaker: every adapter builds its
    text query from this one description, so a mode means the same thing on every engine."""

    boosts: Mapping[str, float]
    tie_breaker: float


# The system's ranking (issue 4's boosts).
BOOSTED = TextMatch(boosts=FIELD_BOOSTS, tie_breaker=TIE_BREAKER)
# Plain BM25, the baseline of issue 17: what a search engine gives out of the box, an Elasticsearch
# multi_match (best_fields, no tie-breaker) over the product's title, description, attributes and category
# name, every field weighed alike. Same analyzer as BOOSTED: the baseline is not handicapped by stemming.
PLAIN = TextMatch(boosts={"title": 1.0, "description": 1.0, "attributes_text": 1.0, "category_name": 1.0},
                  tie_breaker=0.0)
# Logical keyword key (engines/keywords.py) -> keyword field, the same names in tantivy and Elasticsearch.
# vendor/tags/product_type are also analyzed text fields for BM25, so their exact-value twins carry a suffix.
KEYWORD_FIELDS = {"store": "store", "product_id": "product_id", "vendor": "vendor_kw",
                  "product_type": "product_type_kw", "tags": "tags_kw", "category": "category",
                  "attrs": "attrs", "flagged": "flagged"}


def text_values(doc: IndexDocument) -> dict[str, str]:
    """The analyzed text a document holds, per FIELD_BOOSTS field."""
    return {"title": doc.title, "category_name": doc.category_name, "attributes_text": doc.attribute_text(),
            "tags": " ".join(doc.tags), "vendor": doc.vendor, "description": doc.description}


def facet_counts(buckets: Iterable[Mapping[str, Any]], prefix: str, size: int) -> list[FacetCount]:
    """Terms-aggregation buckets as facet counts (value `prefix` stripped), most frequent first; ties by
    value so pages are stable across engines."""
    counts = [FacetCount(value=b["key"][len(prefix):], count=int(b["doc_count"])) for b in buckets]
    counts.sort(key=lambda c: (-c.count, c.value))
    return counts[:size]


def price_ranges(ranges: Sequence[tuple[float | None, float | None]]) -> list[dict[str, float]]:
    """[low, high) bounds as a range aggregation's ranges (the same request body on tantivy and Elasticsearch:
    `from` inclusive, `to` exclusive, either left out when unbounded)."""
    return [{k: float(v) for k, v in (("from", low), ("to", high)) if v is not None} for low, high in ranges]


class LexicalEngine(Protocol):
    # True when opening dropped an index of another schema version: the sync must rebuild from the store.
    recreated: bool

    def upsert(self, docs: Sequence[IndexDocument]) -> None:
        """Insert or replace documents by (store, product_id); visible after `commit`."""

    def delete(self, store: str, product_ids: Sequence[str]) -> None: ...

    def commit(self) -> None:
        """Make every write so far durable and visible to searches."""

    def search(self, store: str, text: str, filter: Filter | None = None, *, limit: int = 10,
               offset: int = 0, sort: Sort | None = None, match: TextMatch = BOOSTED) -> Hits:
        """BM25 over the text fields of `match` under the filter; empty text matches every document.
        The text is plain words: query syntax characters are never interpreted."""

    def facets(self, store: str, text: str, filter: Filter | None, field: str, *,
               size: int = 50) -> list[FacetCount]:
        """Counts of a keyword field ("category", "attr.<handle>", "vendor", "tags") over the
        documents that `search` would match, most frequent first. "category" counts every
        ancestor too, so counts roll up the tree."""

    def facets_many(self, store: str, text: str, filter: Filter | None, fields: Sequence[str], *,
                    size: int = 50) -> dict[str, list[FacetCount]]:
        """`facets` of each field, under one filter, in one pass or request."""

    def price_counts(self, store: str, text: str, filter: Filter | None,
                     ranges: Sequence[tuple[float | None, float | None]]) -> list[int]:
        """Matching products per price range [low, high) (None: unbounded), in order; one pass."""

    def price_stats(self, store: str, text: str, filter: Filter | None) -> tuple[float, float] | None:
        """(min, max) price over the matching documents, or None when none has a price."""

    def vocabulary_counts(self, store: str) -> list[FacetCount]:
        """Products per vocabulary term of the store (indexer.engines.vocabulary): the query vocabulary,
        counted by the engine, so no process holds the store's documents to know it."""

    def count(self, store: str, filter: Filter | None = None) -> int: ...

    def ids(self, store: str) -> set[str]:
        """Every product id of the store (consistency checks and tests)."""

    def stores(self) -> set[str]: ...

    def clear(self) -> None:
        """Drop every document (full rebuild)."""

    def close(self) -> None: ...
