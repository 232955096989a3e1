"""Product ids of vector hits without reading each hit's payload.

A point's id is uuid5(store, product_id) (`indexer.documents.point_id`): the pair never changes, so a
remembered product id is never stale, whatever was upserted or deleted since. Qdrant Edge spends most of
a query's time on payloads (at 2k products, 0.51 ms with each hit's `product_id` against 0.14 ms
without; benchmarks/NOTES.md section 15), so the embedded engine asks for ids alone and reads the
payloads of the ids it has not seen recently.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence

# 131,072 pairs are about 30 MB: the products that recent searches returned, whatever the catalog's size.
KEPT = 131_072


class ProductIds:
    """point id -> product id for the `size` most recently returned points; `read(ids)` gives the rest
    (from payloads) and only it touches the engine."""

    def __init__(self, read: Callable[[Sequence[Hashable]], Mapping[Hashable, str]], size: int = KEPT) -> None:
        self._read = read
        self._size = size
        self._kept: OrderedDict[Hashable, str] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._kept)

    def resolve(self, point_ids: Iterable[Hashable]) -> list[str | None]:
        """The product id of each point, in order; None for a point whose payload has none (deleted
        between the query and the read)."""
        point_ids = list(point_ids)
        with self._lock:
            found = {p: self._kept[p] for p in point_ids if p in self._kept}
            for p in found:
                self._kept.move_to_end(p)
            missing = [p for p in dict.fromkeys(point_ids) if p not in found]
            self.hits += len(point_ids) - len(missing)
            self.misses += len(missing)
        if missing:
            read = self._read(missing)  # outside the lock: the engine call is the slow part
            with self._lock:
                for p in missing:
                    if p in read:
                        self._kept[p] = found[p] = read[p]
                while len(self._kept) > self._size:
                    self._kept.popitem(last=False)
        return [found.get(p) for p in point_ids]

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "entries": len(self._kept)}
