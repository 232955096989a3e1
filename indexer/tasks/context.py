"""What a task works with in this process: the catalog store and the extractor, opened once, lazily.

The API process in eager mode installs its own (sharing its store and its already loaded extractor).
Tasks extract a store's products with `extractor_for(store)`: the shared extractor with that store's
trained heads (`catalog train`) attached, when it has some."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from indexer.settings import Settings, get_settings


@dataclass
class TaskContext:
    settings: Settings
    _catalog: object | None = None
    _extractor_factory: Callable[[], object] | None = None
    _extractor: object | None = None
    # store -> (heads version folder, the base extractor it was made from, the extractor with those heads)
    _store_extractors: dict[str, tuple[Path, object, object]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def catalog(self):
        with self._lock:
            if self._catalog is None:
                from indexer.store import CatalogStore

                self.settings.catalog_home.mkdir(parents=True, exist_ok=True)
                self._catalog = CatalogStore.open(self.settings.sqlalchemy_url)
            return self._catalog

    @property
    def extractor(self):
        if self._extractor_factory is not None:
            return self._extractor_factory()
        with self._lock:
            if self._extractor is None:
                from indexer.runtime import make_configured_extractor

                self._extractor = make_configured_extractor(self.settings)
            return self._extractor

    def extractor_for(self, store: str):
        """The extractor for one store's products: the shared one, with the store's newest heads when it has
        some. Made once per (store, heads version): a new `catalog train` applies without a restart, and
        the version check is one directory listing per task."""
        from indexer.runtime import store_heads_dir, with_store_heads

        base = self.extractor
        heads = store_heads_dir(self.settings, store)
        if heads is None:
            return base
        with self._lock:
            cached = self._store_extractors.get(store)
            # The base check: an installed factory may hand out a new extractor (a test, a reloaded runtime).
            if cached is None or cached[0] != heads or cached[1] is not base:
                cached = (heads, base, with_store_heads(base, heads))
                self._store_extractors[store] = cached  # replaces the older version's heads
            return cached[2]


_current: TaskContext | None = None


def get_context() -> TaskContext:
    global _current
    if _current is None:
        _current = TaskContext(settings=get_settings())
    return _current


def install_context(context: TaskContext | None) -> None:
    """The serving process (eager mode) and tests put their own components here; None resets."""
    global _current
    _current = context
