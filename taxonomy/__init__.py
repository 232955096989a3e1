"""Shopify Standard Product Taxonomy: lookups, free-text value matching, category search, JSON schemas."""

from taxonomy.core import NEVER_FOUND, WHOLE_PHRASE_CONFIDENCE, Taxonomy
from taxonomy.models import (
    Attribute,
    Category,
    CategoryMatch,
    FoundValue,
    TaxonomyError,
    Value,
    ValueMatch,
)

__all__ = [
    "NEVER_FOUND",
    "WHOLE_PHRASE_CONFIDENCE",
    "Attribute",
    "Category",
    "CategoryMatch",
    "FoundValue",
    "Taxonomy",
    "TaxonomyError",
    "Value",
    "ValueMatch",
]
