"""What one store's catalog actually holds: the attribute values, categories and vendors a query may name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from indexer.documents import IndexDocument
from indexer.engines.vocabulary import VocabularyCounts


@dataclass(frozen=True)
class StoreVocabulary:
    """The filterable vocabulary of one store.

    - `attributes`: attribute handle -> {value key -> display name},
      e.g. ``{"color": {"color__black": "Black"}}``
    - `categories`: taxonomy category id -> name, for every category present INCLUDING ancestors
    - `merchant_categories`: the store's own category names -> the taxonomy category id most of its
      products have (lets "tees" find the store's "Tees" even where the taxonomy says "T-Shirts")
    - `vendors`: vendor names as written in the catalog
    - `attribute_names`: optional display names of attributes ("target-gender" -> "Target gender")

    Treat instances as immutable: `search_api.query.parse` caches compiled matchers on them.
    """

    attributes: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    categories: Mapping[str, str] = field(default_factory=dict)
    merchant_categories: Mapping[str, str] = field(default_factory=dict)
    vendors: tuple[str, ...] = ()
    attribute_names: Mapping[str, str] = field(default_factory=dict)
    # Filled lazily by the parser (compiled matchers); not part of equality.
    _compiled: dict[Any, Any] = field(default_factory=dict, compare=False, repr=False)

    def has_value(self, handle: str, key: str) -> bool:
        return key in self.attributes.get(handle, {})

    def value_name(self, handle: str, key: str) -> str:
        return self.attributes.get(handle, {}).get(key) or key.split("__", 1)[-1].replace("-", " ").title()

    def attribute_name(self, handle: str) -> str:
        return self.attribute_names.get(handle) or handle.replace("-", " ").capitalize()

    @classmethod
    def from_documents(cls, docs: Iterable[IndexDocument], taxonomy: Any = None) -> StoreVocabulary:
        """Vocabulary of the given documents (one store's). Flagged documents count too: they are still
        in the catalog, and naming their values must not leave odd words in the retrieval text.

        With a taxonomy, category names and attribute names come from it; without, from the documents.
        """
        attributes: dict[str, dict[str, str]] = {}
        categories: dict[str, str] = {}
        merchant: dict[str, Counter[str]] = {}
        vendors: dict[str, None] = {}
        for doc in docs:
            for av in doc.attributes:
                attributes.setdefault(av.handle, {}).setdefault(av.value, av.name)
            names = doc.category_name.split(" > ") if doc.category_name else []
            for i, cid in enumerate(doc.category_path):
                if cid not in categories:
                    categories[cid] = names[i] if len(names) == len(doc.category_path) else cid
            if doc.category_id and doc.category_id not in categories:
                categories[doc.category_id] = names[-1] if names else doc.category_id
            if doc.merchant_category and doc.category_id:
                merchant.setdefault(doc.merchant_category, Counter())[doc.category_id] += 1
            if doc.vendor:
                vendors.setdefault(doc.vendor, None)
        attribute_names: dict[str, str] = {}
        if taxonomy is not None:
            for cid in list(categories):
                try:
                    cat = taxonomy.category(cid)
                except KeyError:
                    continue
                categories[cid] = cat.name
                for anc in taxonomy.ancestors(cid):
                    categories.setdefault(anc.id, anc.name)
            for handle in attributes:
                try:
                    attribute_names[handle] = taxonomy.attribute(handle).name
                except KeyError:
                    continue
        return cls._sorted(attributes, categories, {m: c.most_common(1)[0][0] for m, c in merchant.items()},
                           tuple(vendors), attribute_names)

    @classmethod
    def from_counts(cls, counts: VocabularyCounts) -> StoreVocabulary:
        """The vocabulary the lexical engine counted (indexer.engines.vocabulary): the same as
        `from_documents` over the store's documents, without holding them. Where a value was written with
        several names, or a shelf maps onto several categories, the most frequent wins (ties by name); vendors
        are in name order (not first-seen)."""
        attributes = {h: {key: min(names.items(), key=lambda kv: (-kv[1], kv[0]))[0] for key, names in keys.items()}
                      for h, keys in counts.attributes.items()}
        merchant = {m: min(c.items(), key=lambda kv: (-kv[1], kv[0]))[0] for m, c in counts.merchant.items()}
        return cls._sorted(attributes, dict(counts.categories), merchant, tuple(sorted(counts.vendors)), {})

    @classmethod
    def _sorted(cls, attributes, categories, merchant, vendors, attribute_names) -> StoreVocabulary:
        return cls(
            attributes={h: dict(sorted(v.items())) for h, v in sorted(attributes.items())},
            categories=dict(sorted(categories.items())),
            merchant_categories=dict(sorted(merchant.items())),
            vendors=vendors,
            attribute_names=attribute_names,
        )
