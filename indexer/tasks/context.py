"""What a task works with in this process: the catalog store and the extractor, opened once, lazily.

The API process in eager mode installs its own (sharing its store and its already loaded extractor).
Tasks extract a store's products with `extractor_for(store)`: the shared extractor with that store's
trained heads (`catalog train`) attached, when it has some."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from indexer.settings import Settings, get_settings


@dataclass
class TaskContext:
    settings: Settings
    _catalog: object | None = None
    _extractor_factory: Callable[[], object] | None = None
    _extractor: object | None = None
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

    def photos(self):
        """A photo resolver for one task's run: downloads into this context's CATALOG_HOME, under its
        IMAGE_FETCH_ALLOWLIST."""
        from indexer.photos.resolve import PhotoResolver

        return PhotoResolver.from_settings(self.settings)

    def extractor_for(self, store: str):
        """The shared extractor, with the store's newest trained heads when it has some."""
        from indexer.runtime import extractor_for_store

        return extractor_for_store(self.settings, self.extractor, store)


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
