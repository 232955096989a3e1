"""Display documents for results and the per-store vocabulary, kept in memory by the serving process.

The engines hold ids and what they rank and filter on; titles, prices, images and attribute names
for a result page come from here. The index sync in the same process tells this cache what it wrote,
so it never serves a stale document; a miss is built from the catalog store.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence

from indexer.documents import IndexDocument
from search_api.query.vocabulary import StoreVocabulary


class DocumentCache:
    def __init__(self, build_one, iter_store) -> None:
        """`build_one(store, product_id) -> IndexDocument | None`; `iter_store(store) -> docs`."""
        self._build_one = build_one
        self._iter_store = iter_store
        self._docs: dict[tuple[str, str], IndexDocument | None] = {}
        self._vocab: dict[str, StoreVocabulary] = {}
        self._groups: dict[str, dict[str, frozenset[str]]] = {}
        self._lock = threading.Lock()

    def get_many(self, store: str, product_ids: Sequence[str]) -> dict[str, IndexDocument]:
        out: dict[str, IndexDocument] = {}
        for pid in product_ids:
            key = (store, pid)
            if key not in self._docs:
                doc = self._build_one(store, pid)
                with self._lock:
                    self._docs[key] = doc
            doc = self._docs.get(key)
            if doc is not None:
                out[pid] = doc
        return out

    def vocabulary(self, store: str) -> StoreVocabulary:
        vocab = self._vocab.get(store)
        if vocab is None:
            docs = list(self._iter_store(store))
            vocab = StoreVocabulary.from_documents(docs)
            groups = category_groups(docs)
            with self._lock:
                for doc in docs:
                    self._docs[(store, doc.product_id)] = doc
                self._vocab[store] = vocab
                self._groups[store] = groups
        return vocab

    def category_groups(self, store: str) -> dict[str, frozenset[str]]:
        self.vocabulary(store)
        return self._groups.get(store, {})

    def indexed(self, docs: Iterable[IndexDocument], deleted: Iterable[tuple[str, str]]) -> None:
        """Called by the index sync after both engines took a batch."""
        with self._lock:
            for doc in docs:
                self._docs[(doc.store, doc.product_id)] = doc
                self._vocab.pop(doc.store, None)
            for store, pid in deleted:
                self._docs[(store, pid)] = None
                self._vocab.pop(store, None)

    def clear(self) -> None:
        with self._lock:
            self._docs.clear()
            self._vocab.clear()


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
