"""Display documents for results and the per-store vocabulary, kept in memory by the serving process.

The engines hold ids and what they rank and filter on; titles, prices, images and attribute names
for a result page come from here. The index sync in the same process tells this cache what it wrote,
so it never serves a stale document; a miss is built from the catalog store.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

from indexer.documents import IndexDocument
from search_api.query.vocabulary import StoreVocabulary


class DocumentCache:
    """Per store: the documents (loaded from the catalog once, then kept exact by the sync), the vocabulary
    and the category groups derived from them.

    A reindex sends thousands of documents through `indexed`; the vocabulary (whose query matchers take a
    while to compile) is rebuilt only when a document brings a value or category it lacks, at most every
    REBUILD_INTERVAL_S, and from memory, never from the catalog."""

    REBUILD_INTERVAL_S = 2.0

    def __init__(self, build_one, iter_store) -> None:
        """`build_one(store, product_id) -> IndexDocument | None`; `iter_store(store) -> docs`."""
        self._build_one = build_one
        self._iter_store = iter_store
        self._docs: dict[str, dict[str, IndexDocument | None]] = {}
        self._loaded: set[str] = set()  # stores whose every document is in _docs
        self._vocab: dict[str, StoreVocabulary] = {}
        self._groups: dict[str, dict[str, frozenset[str]]] = {}
        self._built_at: dict[str, float] = {}
        self._stale: set[str] = set()
        self._lock = threading.Lock()

    def get_many(self, store: str, product_ids: Sequence[str]) -> dict[str, IndexDocument]:
        docs = self._docs.setdefault(store, {})
        out: dict[str, IndexDocument] = {}
        for pid in product_ids:
            if pid not in docs:
                doc = self._build_one(store, pid)
                with self._lock:
                    docs.setdefault(pid, doc)
            doc = docs.get(pid)
            if doc is not None:
                out[pid] = doc
        return out

    def vocabulary(self, store: str) -> StoreVocabulary:
        vocab = self._vocab.get(store)
        due = store in self._stale and time.monotonic() - self._built_at.get(store, 0.0) >= self.REBUILD_INTERVAL_S
        if vocab is None or due:
            vocab = self._rebuild(store)
        return vocab

    def category_groups(self, store: str) -> dict[str, frozenset[str]]:
        self.vocabulary(store)
        return self._groups.get(store, {})

    def indexed(self, docs: Iterable[IndexDocument], deleted: Iterable[tuple[str, str]]) -> None:
        """Called by the index sync after both engines took a batch."""
        with self._lock:
            for doc in docs:
                self._docs.setdefault(doc.store, {})[doc.product_id] = doc
                vocab = self._vocab.get(doc.store)
                if vocab is not None and _adds_vocabulary(vocab, doc):
                    self._stale.add(doc.store)
            for store, pid in deleted:
                # A deleted product's values may linger in the vocabulary until the next rebuild: a filter
                # on them finds nothing and is relaxed, which is the right answer anyway.
                self._docs.setdefault(store, {})[pid] = None

    def _rebuild(self, store: str) -> StoreVocabulary:
        if store in self._loaded:
            with self._lock:  # the sync thread inserts while we copy
                docs = [d for d in self._docs.get(store, {}).values() if d is not None]
        else:
            docs = list(self._iter_store(store))
        vocab = StoreVocabulary.from_documents(docs)
        groups = category_groups(docs)
        with self._lock:
            held = self._docs.setdefault(store, {})
            for doc in docs:
                held.setdefault(doc.product_id, doc)  # a newer document from the sync wins
            self._loaded.add(store)
            self._vocab[store] = vocab
            self._groups[store] = groups
            self._built_at[store] = time.monotonic()
            self._stale.discard(store)
        return vocab


def _adds_vocabulary(vocab: StoreVocabulary, doc: IndexDocument) -> bool:
    if any(a.value not in vocab.attributes.get(a.handle, {}) for a in doc.attributes):
        return True
    if any(cid not in vocab.categories for cid in doc.category_path):
        return True
    return bool(doc.merchant_category) and doc.merchant_category not in vocab.merchant_categories


# A taxonomy category this share of a merchant category's products hold belongs to its group.
GROUP_MIN_SHARE = 0.05


def category_groups(docs: Iterable[IndexDocument]) -> dict[str, frozenset[str]]:
    """Taxonomy categories the merchant files together ("Hoodies & Sweatshirts" holds both Hoodies and
    Sweatshirts), keyed by every member and every ancestor of a member.

    Extraction and query parsing may pick neighbouring leaves for the same kind of product; a category
    filter widened to the store's own grouping keeps those products, and ranking puts the exact
    category first."""
    by_merchant: dict[str, dict[str, int]] = {}
    paths: dict[str, list[str]] = {}
    for doc in docs:
        if doc.merchant_category and doc.category_id:
            counts = by_merchant.setdefault(doc.merchant_category, {})
            counts[doc.category_id] = counts.get(doc.category_id, 0) + 1
            paths[doc.category_id] = doc.category_path
    groups: dict[str, set[str]] = {}
    for counts in by_merchant.values():
        total = sum(counts.values())
        members = {cid for cid, n in counts.items() if n / total >= GROUP_MIN_SHARE}
        for cid in members:
            for key in paths.get(cid, [cid]):
                groups.setdefault(key, set()).update(members)
    return {key: frozenset(members) for key, members in groups.items()}
