"""Catalog importers: Magento sample-data folders, Shopify product CSV exports, our JSONL.

`import_path(catalog, store, path)` detects the format, reads products (malformed rows are reported as
"file:line: reason" and skipped) and upserts them in batches; re-importing an unchanged file writes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Literal

from indexer.importers.common import ImportReport, IssueLog
from indexer.importers.jsonl import is_jsonl, read_jsonl
from indexer.importers.magento import is_magento_folder, read_magento
from indexer.importers.shopify import is_shopify_csv, read_shopify
from indexer.models import STORE_RE, Product

Format = Literal["magento", "shopify", "jsonl"]
READERS: dict[str, Callable[[Path, str, IssueLog], Iterator[Product]]] = {
    "magento": read_magento, "shopify": read_shopify, "jsonl": read_jsonl,
}
BATCH = 500

__all__ = ["ImportReport", "detect", "fixture_path", "import_path", "read_products"]


def fixture_path() -> Path:
    """The bundled fixture catalog: a downscaled copy of the Magento Luma sample data."""
    return Path(__file__).resolve().parent.parent / "data" / "fixture"


def detect(path: str | Path) -> Format:
    path = Path(path)
    if is_magento_folder(path):
        return "magento"
    if is_jsonl(path):
        return "jsonl"
    if path.is_file() and is_shopify_csv(path):
        return "shopify"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist")
    raise ValueError(f"{path}: not a Magento sample-data folder (with fixtures/), a Shopify product CSV "
                     "(with a Handle column) or a .jsonl file")


def read_products(store: str, path: str | Path, log: IssueLog | None = None) -> Iterator[Product]:
    """Products of a catalog file or folder, without touching any store."""
    path = Path(path)
    return READERS[detect(path)](path, store, log if log is not None else IssueLog())


def import_path(catalog, store: str, path: str | Path, *,
                progress: Callable[[int], None] | None = None) -> ImportReport:
    """Import a catalog into `store` of the CatalogStore `catalog`."""
    if not STORE_RE.match(store):
        raise ValueError(f"invalid store name {store!r}: 1-64 chars of lowercase letters, digits, '-' or '_'")
    log = IssueLog()
    report = ImportReport()
    batch: list[Product] = []

    def flush() -> None:
        summary = catalog.upsert_products(batch)
        report.imported += summary.inserted
        report.updated += summary.updated
        report.unchanged += summary.unchanged
        if progress:
            progress(len(batch))
        batch.clear()

    for product in read_products(store, path, log):
        batch.append(product)
        if len(batch) >= BATCH:
            flush()
    if batch:
        flush()
    report.skipped, report.errors, report.warnings = log.skipped, log.errors, log.warnings
    return report
