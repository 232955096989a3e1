"""Photos by URL through the API: suggest's `image_urls` fields and a product upserted with photo URLs, against
a real HTTP server on 127.0.0.1 (allowed through IMAGE_FETCH_ALLOWLIST), with the real local extractor."""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from extractor.images import MAX_BYTES
from indexer.importers import fixture_path
from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from tests.keys import authorize
from tests.photo_server import PhotoServer, send

SHIRTS = fixture_path() / "images" / "m" / "s"
KEY = "admin-key-for-photos"


@pytest.fixture(scope="module")
def extractor():
    from extractor.local import LocalExtractor

    return LocalExtractor()


@pytest.fixture(scope="module")
def server():
    with PhotoServer() as running:
        running.photo("/purple.jpg", (SHIRTS / "ms05-purple_main.jpg").read_bytes())
        running.photo("/yellow.jpg", (SHIRTS / "ms06-yellow_main.jpg").read_bytes())
        running.route("/page.jpg", lambda h: send(h, 200, b"<html>sold out</html>", {"Content-Type": "text/html"}))
        data = (SHIRTS / "ms01-blue_main.jpg").read_bytes()
        running.route("/cut.jpg", lambda h: send(h, 200, data[: len(data) // 2], {"Content-Type": "image/jpeg"}))
        running.route("/huge.jpg", lambda h: send(h, 200, b"\xff" * (MAX_BYTES + 10), {"Content-Type": "image/jpeg"}))
        running.route("/jump", lambda h: send(h, 302, headers={"Location": running.url("/purple.jpg")}))
        yield running


def make_client(tmp_path, extractor, allow: str):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None,
                        IMAGE_FETCH_ALLOWLIST=allow, CATALOG_ADMIN_KEY=KEY)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([Product(store="shop", product_id="p0", title="Cotton shirt")])
    runtime = SimpleNamespace(settings=settings, catalog=catalog, extractor=extractor)
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    return authorize(TestClient(app), catalog), catalog


@pytest.fixture
def client(tmp_path, extractor):
    test_client, catalog = make_client(tmp_path, extractor, "127.0.0.1")
    with test_client as c:
        c.runtime_catalog = catalog
        yield c
    catalog.close()


def suggest(client, urls: list[str], files=None, **form):
    return client.post("/v1/stores/shop/suggest", files=files or [], data={"image_urls": urls, **form})


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), (200, 30, 30)).save(out, "PNG")
    return out.getvalue()


def colors(body) -> set[str]:
    return {v["name"] for a in body["attributes"] if a["handle"] == "color" for v in a["values"]}


def test_suggest_reads_a_photo_given_by_url(client, server):
    response = suggest(client, [server.url("/purple.jpg")], title="Summit")
    assert response.status_code == 200, response.text
    body = response.json()
    assert "Purple" in colors(body) and not body["errors"]


def test_suggest_takes_files_and_urls_together_and_follows_a_checked_redirect(client, server):
    response = suggest(client, [server.url("/jump"), server.url("/yellow.jpg")],
                       files=[("images", ("a.png", png(), "image/png"))], title="Shirt")
    assert response.status_code == 200, response.text
    assert not any(n["issue"] == "unreadable" for n in response.json()["image_notes"])


def test_files_and_urls_count_against_the_same_maximum(client, server):
    before = len(server.log)
    response = suggest(client, [server.url("/purple.jpg")] * 5, files=[("images", (f"{i}.png", png(), "image/png"))
                                                                        for i in range(4)])
    assert response.status_code == 422 and response.json()["error"]["code"] == "too_many_images"
    assert "9 images" in response.json()["error"]["message"] and len(server.log) == before  # nothing fetched


@pytest.mark.parametrize(("path", "status", "code", "reason"), [
    ("/missing.jpg", 422, "image_url_unavailable", "HTTP 404"),
    ("/page.jpg", 415, "unsupported_image", "text/html"),
    ("/cut.jpg", 422, "invalid_image", "truncated"),
    ("/huge.jpg", 413, "image_too_large", "byte limit"),
])
def test_each_bad_url_is_a_4xx_naming_it_and_why(client, server, path, status, code, reason):
    bad = server.url(path)
    response = suggest(client, [server.url("/purple.jpg"), bad])
    error = response.json()["error"]
    assert response.status_code == status and error["code"] == code, error
    assert error["message"].startswith(f"image_urls[1] ({bad}): ") and reason in error["message"]


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/a.jpg"])
def test_suggest_refuses_other_schemes(client, url):
    response = suggest(client, [url])
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "image_url_refused" and "only http and https" in error[
        "message"]


def test_without_the_allowlist_a_loopback_url_is_refused(tmp_path, extractor, server):
    before = len(server.log)
    test_client, catalog = make_client(tmp_path, extractor, "")
    with test_client as c:
        response = suggest(c, [server.url("/purple.jpg")])
    catalog.close()
    error = response.json()["error"]
    assert response.status_code == 422 and error["code"] == "image_url_refused" and "loopback" in error["message"]
    assert len(server.log) == before


def test_a_product_upserted_with_photo_urls_is_extracted_from_them(client, server):
    url = server.url("/yellow.jpg")
    response = client.put("/v1/stores/shop/products/ridge", json={"title": "Ridge Shirt", "images": [url]})
    assert response.status_code == 202, response.text
    extraction = client.runtime_catalog.latest_extraction("shop", "ridge")  # eager: ran after the response
    assert "Yellow" in {v.name for a in extraction.attributes if a.handle == "color" for v in a.values}
    assert client.runtime_catalog.get_product("shop", "ridge").images == [url]
    missing = server.url("/nowhere.jpg")
    client.put("/v1/stores/shop/products/lost", json={"title": "Lost Shirt", "images": [missing]})
    lost = client.runtime_catalog.latest_extraction("shop", "lost")
    assert lost is not None and lost.errors == [f"image 0: {missing}: download failed: HTTP 404"]
    assert client.runtime_catalog.dead_letters("shop") == []  # a missing remote photo is not the product's fault
    metrics = client.get("/metrics").text
    assert 'catalog_image_fetch_total{outcome="failed"}' in metrics
    assert 'catalog_image_fetch_total{outcome="fetched"}' in metrics


def test_a_store_reindex_reads_the_photo_urls(client, server):
    url = server.url("/purple.jpg")
    client.runtime_catalog.upsert_products([Product(store="shop", product_id="tee", title="Summit Tee", images=[url])])
    response = client.post("/v1/stores/shop/reindex", headers={"Authorization": f"Bearer {KEY}"})
    assert response.status_code == 202, response.text
    job = client.get(f"/v1/jobs/{response.json()['job_id']}").json()
    assert job["state"] == "succeeded" and job["failed"] == 0, job
    extraction = client.runtime_catalog.latest_extraction("shop", "tee")
    assert "Purple" in {v.name for a in extraction.attributes if a.handle == "color" for v in a.values}
