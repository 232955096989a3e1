"""Shopify Standard Product Taxonomy: lookups, free-text value matching, category search, JSON schemas."""

from taxonomy.core import Taxonomy
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
    "Attribute",
    "Category",
    "CategoryMatch",
    "FoundValue",
    "Taxonomy",
    "TaxonomyError",
    "Value",
    "ValueMatch",
]
