"""Counts under a filter alone, remembered for as long as the searcher that counted them.

A tantivy searcher sees one commit and never changes, so any count it gives is the same the next time it
is asked. The counts that do not depend on a query's words (facets and price buckets of a vector or
browse query, the total of every product under the filters, the store list) are shared by every
shopper whose query reads as the same filters; counting them again per request was half of a search's
time at 80,000 products. Counts of a text match are not remembered: they would only serve that one
query's repeats. Elasticsearch's shard request cache does the same for `size: 0` requests, dropped on
refresh; here a commit opens a new searcher with an empty memo.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import TypeVar

T = TypeVar("T")

MEMO_SIZE = 2048  # entries: one search's facets are a handful, so a few hundred filter sets fit


class SearcherMemo:
    """Results of read-only calls on one searcher, by key; the least recently used go past `size`."""

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self._size = size
        self._lock = threading.Lock()
        self._results: OrderedDict[Hashable, object] = OrderedDict()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        with self._lock:
            if key in self._results:
                self._results.move_to_end(key)
                self.hits += 1
                return self._results[key]  # type: ignore[return-value]
            self.misses += 1
        # Computed outside the lock: two threads asking at once may both count, and both get the same answer.
        result = compute()
        with self._lock:
            self._results[key] = result
            while len(self._results) > self._size:
                self._results.popitem(last=False)
        return result

    def __len__(self) -> int:
        return len(self._results)
