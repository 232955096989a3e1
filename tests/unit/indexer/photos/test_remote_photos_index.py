"""End to end: a Shopify CSV whose photos are URLs on a real local HTTP server, imported and indexed with the
real local extractor and embedded engines. The photos are read (their colours reach the extraction), a photo
that cannot be fetched is a per-image error while the product is still indexed from its text, the next
index retries only that, revalidating what it has, and an index with nothing stale makes no request."""

from __future__ import annotations

import csv
import os
from pathlib import Path

import pytest

from extractor.local.category import default_cache_dir
from indexer.importers import fixture_path, import_path
from indexer.photos.fetch import FETCHES
from indexer.photos.resolve import PHOTOS_MISSING
from indexer.runtime import index_store, open_catalog
from indexer.settings import Settings
from search_api.cli import photo_summary
from tests.photo_server import PhotoServer

SHIRTS = fixture_path() / "images" / "m" / "s"
COLUMNS = ["Handle", "Title", "Body (HTML)", "Vendor", "Type", "Option1 Name", "Option1 Value", "Variant SKU",
           "Variant Price", "Image Src", "Image Position", "Variant Image"]


def color_names(extraction) -> set[str]:
    return {v.name for a in extraction.attributes if a.handle == "color" for v in a.values if v.source == "image"}


def write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        writer.writerows(rows)
    return path


def product_rows(handle: str, title: str, photos: list[str]) -> list[dict[str, str]]:
    """Titles that name no colour: whatever colour the extraction has, it read from the photos."""
    rows = [{"Handle": handle, "Title": title, "Body (HTML)": "<p>An everyday layer.</p>", "Vendor": "Acme",
             "Type": "Shirts", "Option1 Name": "Size", "Option1 Value": "M", "Variant SKU": f"{handle}-m",
             "Variant Price": "25.00", "Image Src": photos[0] if photos else "",
             "Image Position": "1" if photos else "", "Variant Image": ""}]
    rows += [{"Handle": handle, "Image Src": url, "Image Position": str(i + 2)} for i, url in enumerate(photos[1:])]
    return rows


@pytest.fixture
def home(tmp_path) -> Path:
    # The taxonomy's category embeddings, as computed once on this machine (not again per test home).
    models = tmp_path / "models"
    models.mkdir()
    for cached in default_cache_dir().glob("category-embeddings-*.npy"):
        os.symlink(cached, models / cached.name)
    return tmp_path


def test_a_shopify_csv_with_photo_urls_is_indexed_with_its_photos_read(home, tmp_path):
    with PhotoServer() as server:
        purple = server.photo("/cdn/tee.jpg", (SHIRTS / "ms05-purple_main.jpg").read_bytes(), cache_control="no-cache")
        yellow = server.photo("/cdn/ridge.jpg", (SHIRTS / "ms06-yellow_main.jpg").read_bytes(),
                              cache_control="max-age=3600")
        blue = server.photo("/cdn/trail.jpg", (SHIRTS / "ms01-blue_main.jpg").read_bytes(), cache_control="no-cache")
        gone = server.url("/cdn/trail-back.jpg")  # 404 until the merchant uploads it
        export = write_csv(tmp_path / "products_export.csv",
                           product_rows("summit-tee", "Summit Tee", [purple])
                           + product_rows("ridge-shirt", "Ridge Shirt", [yellow])
                           + product_rows("trail-shirt", "Trail Shirt", [blue, gone])
                           + product_rows("plain-note", "Plain Note Card", []))
        settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                            ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local",
                            IMAGE_FETCH_ALLOWLIST="127.0.0.1")
        with open_catalog(settings) as catalog:
            report = import_path(catalog, "remote", export)
            assert report.imported == 4 and not report.errors and not report.warnings
            assert catalog.get_product("remote", "trail-shirt").images == [blue, gone]
            hashes = {pid: catalog.content_hash("remote", pid) for pid in catalog.product_ids("remote")}
        failed_before = FETCHES.labels("failed")._value.get()

        first = index_store("remote", settings=settings)
        assert first["indexed"] == 4 and first["dead_letters"] == 0, first
        assert first["photos"] == {"fetched": 3, "cached": 0, "revalidated": 0, "stale": 0, "failed": 1}
        assert photo_summary(first["photos"]) == "photos: fetched 3, cached 0 (revalidated 0, stale 0), failed 1"
        assert FETCHES.labels("failed")._value.get() == failed_before + 1
        with open_catalog(settings) as catalog:
            # The store keeps the merchant's URLs, and fetching changed no product's content hash.
            assert {pid: catalog.content_hash("remote", pid) for pid in hashes} == hashes
            assert catalog.get_product("remote", "summit-tee").images == [purple]
            tee, ridge, trail = (catalog.latest_extraction("remote", pid)
                                 for pid in ("summit-tee", "ridge-shirt", "trail-shirt"))
        assert "Purple" in color_names(tee) and "Yellow" in color_names(ridge) and "Blue" in color_names(trail)
        assert not tee.errors and not tee.extractor_version.endswith(PHOTOS_MISSING)
        note = next(n for n in trail.image_notes if n.image == 1)
        assert note.issue == "unreadable" and "HTTP 404" in note.detail
        assert trail.errors == [f"image 1: {gone}: download failed: HTTP 404"]
        assert trail.extractor_version.endswith(PHOTOS_MISSING)  # so the next index tries the photo again

        # Second index: only the product missing a photo is extracted again; its good photo is revalidated
        # (a conditional request answered 304), the missing one asked for again; the others are not touched.
        second = index_store("remote", settings=settings)
        assert second["extracted"] == 1
        assert second["photos"] == {"fetched": 0, "cached": 0, "revalidated": 1, "stale": 0, "failed": 1}
        revalidation = server.requests_for("/cdn/trail.jpg")[-1]
        assert revalidation.headers["if-none-match"]
        assert len(server.requests_for("/cdn/tee.jpg")) == 1 and len(server.requests_for("/cdn/ridge.jpg")) == 1

        # The merchant uploads the missing photo: the next index reads it and the product is complete.
        server.photo("/cdn/trail-back.jpg", (SHIRTS / "ms01-blue_back.jpg").read_bytes())
        third = index_store("remote", settings=settings)
        assert third["extracted"] == 1 and third["photos"]["fetched"] == 1 and third["photos"]["failed"] == 0
        with open_catalog(settings) as catalog:
            trail = catalog.latest_extraction("remote", "trail-shirt")
        assert not trail.errors and not trail.extractor_version.endswith(PHOTOS_MISSING)
        assert not any(n.issue == "unreadable" for n in trail.image_notes)

        # Nothing stale: no request at all (a search or a re-index never downloads again).
        requests = len(server.log)
        fourth = index_store("remote", settings=settings)
        assert fourth["extracted"] == 0 and len(server.log) == requests


def test_catalog_import_can_prefetch_the_photos(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from indexer.photos.cache import PhotoCache
    from indexer.settings import get_settings
    from search_api.cli import app

    with PhotoServer() as server:
        url = server.photo("/cdn/tee.jpg", (SHIRTS / "ms05-purple_main.jpg").read_bytes())
        export = write_csv(tmp_path / "export.csv", product_rows("tee", "Tee", [url, server.url("/cdn/gone.jpg")]))
        for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("CATALOG_HOME", str(tmp_path / "home"))
        monkeypatch.setenv("IMAGE_FETCH_ALLOWLIST", "127.0.0.1")
        get_settings.cache_clear()
        try:
            result = CliRunner().invoke(app, ["import", "--store", "pre", str(export), "--prefetch-photos"])
        finally:
            get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "photos: fetched 1, cached 0 (revalidated 0, stale 0), failed 1" in result.output
    assert PhotoCache.in_home(tmp_path / "home").get(url) is not None


def test_catalog_train_reads_remote_variant_photos_from_the_cache(tmp_path):
    from extractor.models import ProductInput
    from indexer.photos.cache import PhotoCache
    from indexer.photos.fetch import PhotoFetcher
    from indexer.photos.guard import Allowlist
    from indexer.photos.resolve import PhotoResolver
    from indexer.training import localized

    with PhotoServer() as server:
        url = server.photo("/cdn/purple.jpg", (SHIRTS / "ms05-purple_main.jpg").read_bytes())
        photos = PhotoResolver(PhotoFetcher(PhotoCache(tmp_path), Allowlist.parse("127.0.0.1")))
        products, labels = localized(photos, [ProductInput(product_id="tee", images=[url, "/shop/local.jpg"])],
                                     [{"category": None, "values": {}, "color_photos": [
                                         {"image": url, "value": "color__purple", "region": "upper"}]}])
    cached = str(photos.results[url].path)
    assert products[0].images == [cached, "/shop/local.jpg"]
    assert labels[0]["color_photos"] == [{"image": cached, "value": "color__purple", "region": "upper"}]
