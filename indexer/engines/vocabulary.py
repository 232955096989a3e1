"""The query vocabulary of a store, counted by the lexical engine instead of held per product.

Every lexical engine indexes a document's `vocabulary_terms` in one keyword column (VOCABULARY_FIELD) and
answers `vocabulary_counts(store)` with one terms aggregation over it. The serving process rebuilds a store's
vocabulary and category groups from those counts (`parse_counts`): its memory is bounded by the store's
distinct values, not its products, and a deleted or changed product stops counting as soon as the engine
committed it. A term is a kind letter and its parts joined by SEP:

  a <handle> <value key> <display name>    an attribute value (`a color color__black Black`)
  c <category id> <name>                   a taxonomy category of the product's path, every ancestor too
  m <merchant category> <category id> <path ids, comma-joined>   the merchant's shelf and where it maps
  v <vendor>
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from indexer.documents import IndexDocument

VOCABULARY_FIELD = "vocab"
SEP = "\x1f"
# Distinct terms one aggregation returns: a store's whole vocabulary (the taxonomy has 20,635 values and
# 10,595 categories; a store's own values and shelves come on top), under Elasticsearch's default
# search.max_buckets (65,536). Past it the rarest terms are left out.
MAX_TERMS = 65_000


def vocabulary_terms(doc: IndexDocument) -> list[str]:
    """The terms one document contributes (deduplicated, order kept)."""
    terms = [SEP.join(("a", a.handle, a.value, a.name)) for a in doc.attributes]
    names = doc.category_name.split(" > ") if doc.category_name else []
    path = list(doc.category_path)
    for i, cid in enumerate(path):
        terms.append(SEP.join(("c", cid, names[i] if len(names) == len(path) else cid)))
    if doc.category_id and doc.category_id not in path:
        terms.append(SEP.join(("c", doc.category_id, names[-1] if names else doc.category_id)))
    if doc.merchant_category and doc.category_id:
        terms.append(SEP.join(("m", doc.merchant_category, doc.category_id, ",".join(path or [doc.category_id]))))
    if doc.vendor:
        terms.append(SEP.join(("v", doc.vendor)))
    return list(dict.fromkeys(terms))


@dataclass
class VocabularyCounts:
    """A store's vocabulary as counted: how many products hold each value, category, shelf and vendor."""

    attributes: dict[str, dict[str, dict[str, int]]] = field(default_factory=dict)  # handle -> key -> name -> n
    categories: dict[str, str] = field(default_factory=dict)  # id -> name
    merchant: dict[str, dict[str, int]] = field(default_factory=dict)  # shelf -> category id -> n
    paths: dict[str, list[str]] = field(default_factory=dict)  # category id -> its path ids, root first
    vendors: dict[str, int] = field(default_factory=dict)


def parse_counts(counts: Iterable[tuple[str, int]]) -> VocabularyCounts:
    """(term, product count) pairs, as an engine's aggregation returns them, back into their parts. A term
    of an unknown kind or shape (written by another version) is skipped."""
    out = VocabularyCounts()
    for term, n in counts:
        if n <= 0:
            continue
        kind, *parts = term.split(SEP)
        if kind == "a" and len(parts) == 3:
            handle, key, name = parts
            names = out.attributes.setdefault(handle, {}).setdefault(key, {})
            names[name] = names.get(name, 0) + n
        elif kind == "c" and len(parts) == 2:
            out.categories.setdefault(parts[0], parts[1])
        elif kind == "m" and len(parts) == 3:
            shelf, cid, path = parts
            by_cid = out.merchant.setdefault(shelf, {})
            by_cid[cid] = by_cid.get(cid, 0) + n
            out.paths.setdefault(cid, path.split(","))
        elif kind == "v" and len(parts) == 1:
            out.vendors[parts[0]] = out.vendors.get(parts[0], 0) + n
    return out
