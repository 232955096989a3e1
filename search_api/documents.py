"""Display documents for results, and the per-store vocabulary, for the serving process: both bounded.

- Results: the engines hold ids and what they rank and filter on; the titles, prices, images and attributes
  of a result page are built from the catalog store (the one source of truth) through a bounded LRU cache.
  The index sync in the same process tells the cache what it wrote, so a cached document is never stale.
- Vocabulary and category groups: rebuilt from the lexical engine's counts of the store's vocabulary terms
  (indexer.engines.vocabulary), so their memory grows with the store's distinct values, not its products.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence

from indexer.documents import IndexDocument
from indexer.engines.types import FacetCount
from indexer.engines.vocabulary import VocabularyCounts, parse_counts
from search_api.query.vocabulary import StoreVocabulary

# (store, product ids) -> the documents of those that exist, built from the catalog store.
BuildMany = Callable[[str, Sequence[str]], Mapping[str, IndexDocument]]
# store -> (vocabulary term, product count) pairs from the lexical engine.
CountVocabulary = Callable[[str], Iterable[FacetCount]]


class DocumentCache:
    """Per store: a bounded LRU of display documents in front of the catalog store, the vocabulary and the
    category groups.

    A reindex sends thousands of documents through `indexed`; the vocabulary (whose query matchers take a
    while to compile) is rebuilt only when a document brings a value or category it lacks, at most every
    REBUILD_INTERVAL_S, from one engine aggregation."""

    REBUILD_INTERVAL_S = 2.0
    CAPACITY = 20_000  # documents held across stores: a few thousand result pages; about 40 MB

    def __init__(self, build_many: BuildMany, count_vocabulary: CountVocabulary, *,
                 capacity: int = CAPACITY) -> None:
        self._build_many = build_many
        self._count_vocabulary = count_vocabulary
        self.capacity = capacity
        self._docs: OrderedDict[tuple[str, str], IndexDocument] = OrderedDict()
        self._writes = 0  # `indexed` calls so far: a document built before one may be older than it
        self._vocab: dict[str, StoreVocabulary] = {}
        self._groups: dict[str, dict[str, frozenset[str]]] = {}
        self._built_at: dict[str, float] = {}
        self._stale: set[str] = set()
        self._lock = threading.Lock()
        self._rebuilding = threading.Lock()

    def __len__(self) -> int:
        return len(self._docs)

    def get_many(self, store: str, product_ids: Sequence[str]) -> dict[str, IndexDocument]:
        """The documents of those products that exist; one catalog read for the ones not cached."""
        found: dict[str, IndexDocument] = {}
        with self._lock:
            for pid in product_ids:
                doc = self._docs.get((store, pid))
                if doc is not None:
                    self._docs.move_to_end((store, pid))
                    found[pid] = doc
            writes = self._writes
        missing = [pid for pid in dict.fromkeys(product_ids) if pid not in found]
        if missing:
            built = self._build_many(store, missing)
            with self._lock:
                # A sync batch that landed while we read may hold newer versions: serve ours, keep theirs.
                if self._writes == writes:
                    for pid, doc in built.items():
                        self._put((store, pid), doc)
            found.update(built)
        return {pid: found[pid] for pid in product_ids if pid in found}

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
        """Called by the index sync after the text index took a batch (before its vectors)."""
        with self._lock:
            self._writes += 1
            for doc in docs:
                key = (doc.store, doc.product_id)
                if key in self._docs:  # only what is cached: a reindex does not flush the cache
                    self._docs[key] = doc
                vocab = self._vocab.get(doc.store)
                if vocab is not None and _adds_vocabulary(vocab, doc):
                    self._stale.add(doc.store)
            for key in deleted:
                # A deleted product's values may linger in the vocabulary until the next rebuild: a filter
                # on them finds nothing and is relaxed, which is the right answer anyway.
                self._docs.pop(key, None)

    def _put(self, key: tuple[str, str], doc: IndexDocument) -> None:
        self._docs[key] = doc
        self._docs.move_to_end(key)
        while len(self._docs) > self.capacity:
            self._docs.popitem(last=False)

    def _rebuild(self, store: str) -> StoreVocabulary:
        held = self._vocab.get(store)
        # One rebuild at a time; a request that finds one running keeps the vocabulary it has.
        if not self._rebuilding.acquire(blocking=held is None):
            return held  # type: ignore[return-value]
        try:
            with self._lock:
                self._stale.discard(store)  # a batch landing during the count marks it stale again
            counts = parse_counts((c.value, c.count) for c in self._count_vocabulary(store))
            vocab = StoreVocabulary.from_counts(counts)
            groups = groups_from_counts(counts)
            with self._lock:
                self._vocab[store] = vocab
                self._groups[store] = groups
                self._built_at[store] = time.monotonic()
            return vocab
        finally:
            self._rebuilding.release()


def _adds_vocabulary(vocab: StoreVocabulary, doc: IndexDocument) -> bool:
    if any(a.value not in vocab.attributes.get(a.handle, {}) for a in doc.attributes):
        return True
    if any(cid not in vocab.categories for cid in doc.category_path):
        return True
    return bool(doc.merchant_category) and doc.merchant_category not in vocab.merchant_categories


# A taxonomy category this share of a merchant category's products hold belongs to its group.
GROUP_MIN_SHARE = 0.05


def merchant_groups(by_merchant: Mapping[str, Mapping[str, int]],
                    paths: Mapping[str, Sequence[str]]) -> dict[str, frozenset[str]]:
    """Taxonomy categories the merchant files together ("Hoodies & Sweatshirts" holds both Hoodies and
    Sweatshirts), keyed by every member and every ancestor of a member.

    `by_merchant`: merchant category -> taxonomy category id -> products; `paths`: category id -> its path
    ids, root first. Extraction and query parsing may pick neighbouring leaves for the same kind of product;
    a category filter widened to the store's own grouping keeps those products, and ranking puts the exact
    category first. Bounded by the store's distinct shelves and categories."""
    groups: dict[str, set[str]] = {}
    for counts in by_merchant.values():
        total = sum(counts.values())
        members = {cid for cid, n in counts.items() if n / total >= GROUP_MIN_SHARE}
        for cid in members:
            for key in paths.get(cid, [cid]):
                groups.setdefault(key, set()).update(members)
    return {key: frozenset(members) for key, members in groups.items()}


def groups_from_counts(counts: VocabularyCounts) -> dict[str, frozenset[str]]:
    return merchant_groups(counts.merchant, counts.paths)


def category_groups(docs: Iterable[IndexDocument]) -> dict[str, frozenset[str]]:
    """`merchant_groups` of some documents (tests, and callers that hold documents anyway)."""
    by_merchant: dict[str, dict[str, int]] = {}
    paths: dict[str, list[str]] = {}
    for doc in docs:
        if doc.merchant_category and doc.category_id:
            counts = by_merchant.setdefault(doc.merchant_category, {})
            counts[doc.category_id] = counts.get(doc.category_id, 0) + 1
            paths[doc.category_id] = doc.category_path
    return merchant_groups(by_merchant, paths)
