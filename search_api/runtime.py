"""The serving process's components: catalog, engines (owned), sync loop, search service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from indexer.settings import Settings, get_settings

log = logging.getLogger(__name__)


@dataclass
class Runtime:
    settings: Settings
    catalog: object
    engines: object
    sync: object
    search: object
    documents: object
    _stop: threading.Event
    _thread: threading.Thread | None = None
    _extractor: object | None = None

    @property
    def extractor(self):
        """Loaded on first use: a search-only process never pays for the image models."""
        if self._extractor is None:
            from indexer.runtime import make_configured_extractor

            self._extractor = make_configured_extractor(self.settings)
        return self._extractor

    def start_sync_loop(self, interval_s: float = 0.25) -> None:
        """Apply the change log in the background so a merchant's change is searchable in ~1 s."""
        def loop() -> None:
            self.warm_up()
            while not self._stop.is_set():
                try:
                    report = self.sync.run_once()
                except Exception:  # keep serving reads; the next round replays from the position
                    log.exception("index sync failed; retrying")
                    report = None
                if report is None or report.applied == 0:
                    self._stop.wait(interval_s)

        self._thread = threading.Thread(target=loop, name="index-sync", daemon=True)
        self._thread.start()

    def warm_up(self) -> None:
        """Build each store's vocabulary and query matchers now rather than on a shopper's first query."""
        for store in sorted(self.engines.lexical.stores()):
            try:
                self.search.rank(store, "warm up", mode="lexical")
            except Exception:  # a cold first query is slower, never wrong
                log.exception("warm-up of store %s failed", store)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.search.close()
        self.engines.close()
        self.catalog.close()


def build_runtime(settings: Settings | None = None) -> Runtime:
    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.store import CatalogStore
    from indexer.sync import IndexSync
    from search_api.documents import DocumentCache
    from search_api.query.parsers import make_query_parser
    from search_api.service import SearchService
    from search_api.sessions import make_session_store
    from taxonomy import Taxonomy

    settings = settings or get_settings()
    settings.catalog_home.mkdir(parents=True, exist_ok=True)
    taxonomy = Taxonomy.load()
    embedder = get_text_embedder()
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    try:
        engines = open_engines(settings)
    except Exception:
        catalog.close()
        raise
    sync = IndexSync(catalog, engines, taxonomy, embedder)

    documents = DocumentCache(sync.document, lambda store: map(sync.build, catalog.iter_products(store)))
    sync.add_listener(documents.indexed)
    search = SearchService(engines.lexical, engines.vector, embedder, taxonomy, documents,
                           make_session_store(settings.session_redis_url), parser=make_query_parser(settings))
    return Runtime(settings=settings, catalog=catalog, engines=engines, sync=sync, search=search,
                   documents=documents, _stop=threading.Event())


@contextmanager
def open_search(settings: Settings | None = None) -> Iterator:
    """A search service for one command (evaluation); applies pending changes first."""
    runtime = build_runtime(settings)
    try:
        runtime.sync.run_until_idle()
        yield runtime.search
    finally:
        runtime.close()
