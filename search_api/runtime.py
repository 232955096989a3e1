"""The serving process's components: catalog, engines (owned), sync loop, search service."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from importlib import import_module

from indexer.settings import Settings, get_settings
from search_api.warmup import Step, WarmUp

log = logging.getLogger(__name__)

WARM_UP_QUERY = "black cotton t-shirt for men under $30"
# Modules the routes import on first use (so `catalog` commands and tests stay light); a first request would
# pay for them: the task metrics the suggest route observes pull in Celery (about 250 ms measured).
ROUTE_IMPORTS = ("indexer.tasks.metrics", "indexer.tasks.products", "indexer.photos.fetch")


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

    def start_sync_loop(self, interval_s: float = 0.25, after: WarmUp | None = None) -> None:
        """Apply the change log in the background so a merchant's change is searchable in ~1 s. `after`: start
        once that warm-up is done, which has the cores first (it is what the first request waits for)."""
        def loop() -> None:
            while after is not None and not after.wait(0.5) and not self._stop.is_set():
                pass
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

    def warm_up_steps(self) -> list[Step]:
        """What a first search or a first suggest would otherwise load or compile, as named steps."""
        steps = [Step("text embedder", lambda: self.sync.embedder.embed([WARM_UP_QUERY])),
                 Step("extractor", lambda: self.extractor)]  # for lmdeploy, its model
        if self.settings.extractor_backend == "local":
            from extractor.local.warmup import warm_up_steps

            steps += [Step(name, work) for name, work in warm_up_steps(lambda: self.extractor)]
        # Optional: the sync loop retries what fails here, and a store's warm-up only makes its first query
        # fast (a cold one is slower, never wrong).
        steps.append(Step("route modules", lambda: [import_module(name) for name in ROUTE_IMPORTS], required=False))
        ping = getattr(self.search.sessions, "ping", None)  # Redis: its first connection, not a shopper's
        if ping is not None:
            steps.append(Step("session store", ping, required=False))
        steps.append(Step("index sync", self.catch_up, required=False))
        steps += [Step(f"store {store}", partial(self.warm_up_store, store), required=False)
                  for store in self.catalog.stores()]
        return steps

    def catch_up(self) -> None:
        """Apply the change log written before the start (an import, a worker's extractions), so every store it
        holds answers from the first query instead of 404 until the sync loop gets to it."""
        from indexer.sync import SYNC_NAME

        target = self.catalog.max_seq()
        while not self._stop.is_set() and self.catalog.get_sync_position(SYNC_NAME) < target:
            if self.sync.run_once().applied == 0:
                break

    def warm_up_store(self, store: str) -> None:
        """The store's trained heads, vocabulary and query matchers, and one hybrid query through both engines."""
        from indexer.runtime import extractor_for_store

        extractor_for_store(self.settings, self.extractor, store)
        self.documents.vocabulary(store)
        if store in self.engines.lexical.stores():  # not before the sync has written its first products
            self.search.rank(store, WARM_UP_QUERY, mode="hybrid")

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self.search.close()
        self.engines.close()
        self.catalog.close()


def build_runtime(settings: Settings | None = None) -> Runtime:
    from extractor.embeddings import LazyTextEmbedder
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
    embedder = LazyTextEmbedder()  # loaded by the warm-up (or the first use), not before the engines open
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    try:
        engines = open_engines(settings)
    except Exception:
        catalog.close()
        raise
    sync = IndexSync(catalog, engines, taxonomy, embedder)

    documents = DocumentCache(partial(_display_documents, catalog, sync), engines.lexical.vocabulary_counts)
    sync.add_listener(documents.indexed)
    search = SearchService(engines.lexical, engines.vector, embedder, taxonomy, documents,
                           make_session_store(settings.session_redis_url), parser=make_query_parser(settings))
    return Runtime(settings=settings, catalog=catalog, engines=engines, sync=sync, search=search,
                   documents=documents, _stop=threading.Event())


def _display_documents(catalog, sync, store: str, product_ids) -> dict:
    """The documents of a result page, from the catalog store: one product and one extraction query."""
    products = catalog.get_products(store, list(product_ids))
    return {doc.product_id: doc for doc in sync.build_many(list(products.values()))}


@contextmanager
def open_search(settings: Settings | None = None) -> Iterator:
    """A search service for one command (evaluation); applies pending changes first."""
    runtime = build_runtime(settings)
    try:
        runtime.sync.run_until_idle()
        yield runtime.search
    finally:
        runtime.close()
