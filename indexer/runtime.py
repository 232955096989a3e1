"""Wiring from settings to real components, for the CLI, the worker and the API lifespan."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tqdm import tqdm

from indexer.settings import Settings, get_settings


@contextmanager
def open_catalog(settings: Settings | None = None) -> Iterator:
    from indexer.store import CatalogStore

    settings = settings or get_settings()
    settings.catalog_home.mkdir(parents=True, exist_ok=True)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    try:
        yield catalog
    finally:
        catalog.close()


def make_configured_extractor(settings: Settings | None = None, store: str | None = None):
    """The configured backend; for `local` with a store whose heads `catalog train` saved, with them."""
    from extractor.factory import make_extractor

    settings = settings or get_settings()
    extractor = make_extractor(settings.extractor_backend, url=settings.extractor_url,
                               model=settings.extractor_model, models_dir=settings.catalog_home / "models",
                               timeout_s=settings.extractor_timeout_s)
    heads = store_heads_dir(settings, store)
    return with_store_heads(extractor, heads) if heads is not None else extractor


def store_heads_dir(settings: Settings, store: str | None) -> Path | None:
    """The newest version folder of the store's trained heads, or None: no store, none trained yet, or a
    backend that cannot use them (only `local` has heads)."""
    if not store or settings.extractor_backend != "local":
        return None
    from extractor.local.train import latest_version_dir
    from indexer.training import store_models_dir

    return latest_version_dir(store_models_dir(settings.catalog_home, store))


def with_store_heads(extractor, heads_dir: Path):
    """A shallow copy of a local extractor that uses one store's heads. The copy shares the taxonomy and
    the process-wide models, so a store costs only its heads' arrays, and the shared extractor stays plain
    for the other stores."""
    from extractor.local.train import load_heads

    scoped = copy.copy(extractor)
    scoped.store_head = load_heads(heads_dir)
    # Extractions are kept per extractor version: with new heads, every product of the store is stale
    # and the next `catalog index` (or worker) extracts it again.
    scoped.version = f"{extractor.version}+heads.{heads_dir.name}"
    return scoped


# (catalog home, store) -> (heads version folder, the base extractor it was made from, the scoped extractor)
_store_extractors: dict[tuple[Path, str], tuple[Path, object, object]] = {}
_store_extractors_lock = threading.Lock()


def extractor_for_store(settings: Settings, base, store: str):
    """The extractor for one store's products: `base`, with the store's newest heads when it has some. Made
    once per (store, heads version) in this process: a new `catalog train` applies without a restart, and
    the version check is one directory listing per call."""
    heads = store_heads_dir(settings, store)
    if heads is None:
        return base
    key = (settings.catalog_home, store)
    with _store_extractors_lock:
        cached = _store_extractors.get(key)
        # The base check: a caller may hand in a new extractor (a test, a reloaded runtime).
        if cached is None or cached[0] != heads or cached[1] is not base:
            cached = (heads, base, with_store_heads(base, heads))
            _store_extractors[key] = cached  # replaces the older version's heads
        return cached[2]


EXTRACT_BATCH = 64


def index_store(store: str, *, rebuild: bool = False, show_progress: bool = False,
                settings: Settings | None = None) -> dict:
    """`catalog index`: extract stale products, then apply the change log to the engines.

    When another process (`catalog serve`) owns the embedded engines, the extractions land in the
    store and its log, and that process applies them."""
    from extractor.embeddings import BatchEmbedder
    from indexer.engines.factory import open_engines
    from indexer.engines.lock import EngineBusyError
    from indexer.photos.resolve import PhotoResolver
    from indexer.realtime import extract_batch
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    settings = settings or get_settings()
    taxonomy = Taxonomy.load()
    embedder = BatchEmbedder()  # this process has the cores: MiniLM runs on all of them
    summary: dict = {"store": store}
    started = time.perf_counter()
    with open_catalog(settings) as catalog:
        if not catalog.store_exists(store):
            raise LookupError(f"unknown store {store!r}; import it first (catalog import --store {store} PATH)")
        extractor = make_configured_extractor(settings, store)
        stale = catalog.stale_products(store, extractor.name, extractor.version, taxonomy.version)
        # Batches of 64: each batch's extractions and vectors land in the store with their change-log rows,
        # so an interrupted run resumes where it stopped. A batch's remote photos are fetched (or found in the
        # photo cache) just before it is extracted; the fetch bar grows as batches name new URLs.
        failed = 0
        with (tqdm(total=0, desc="fetch", unit="photo", disable=not show_progress) as fetch_bar,
              tqdm(total=len(stale), desc="extract", unit="product", disable=not show_progress) as bar):
            photos = PhotoResolver.from_settings(settings, progress=fetch_bar if show_progress else None)
            for start in range(0, len(stale), EXTRACT_BATCH):
                chunk = stale[start:start + EXTRACT_BATCH]
                failed += extract_batch(catalog, extractor, store, chunk, photos=photos, embedder=embedder).failed
                bar.update(len(chunk))
        summary["extracted"] = len(stale)
        summary["dead_letters"] = failed
        summary["photos"] = photos.report.as_dict()
        try:
            engines = open_engines(settings)
        except EngineBusyError as exc:
            summary["sync"] = f"deferred: {exc}"
            return summary
        try:
            sync = IndexSync(catalog, engines, taxonomy, embedder)
            if rebuild:
                report = sync.rebuild()
            else:
                with tqdm(total=sync.pending(), desc="index", unit="change", disable=not show_progress) as bar:
                    report = sync.run_until_idle(progress=bar.update)
            summary.update(applied=report.applied, upserted=report.upserted, deleted=report.deleted,
                           embedded=report.embedded, indexed=engines.lexical.count(store),
                           vectors=engines.vector.count(store))
        finally:
            engines.close()
    summary["seconds"] = round(time.perf_counter() - started, 2)
    return summary
