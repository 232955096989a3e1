"""Reindex, jobs, products and suggest routes over a real catalog store (eager Celery, no broker)."""

from __future__ import annotations

import io
import threading
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from indexer.importers import fixture_path
from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from tests.keys import authorize
from tests.required import service_missing

KEY = "s3cret-admin-key"


class LazyLocalExtractor:
    """The real local extractor, loaded only by the tests that reach it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._inner = None

    def _loaded(self):
        with self._lock:
            if self._inner is None:
                from extractor.local import LocalExtractor

                self._inner = LocalExtractor()
        return self._inner

    def __getattr__(self, name):
        return getattr(self._loaded(), name)

    def __copy__(self):  # a store's extractor is a copy of the real one, with that store's heads
        import copy

        return copy.copy(self._loaded())


@pytest.fixture(scope="module")
def extractor():
    return LazyLocalExtractor()


@pytest.fixture
def client(tmp_path, extractor):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None, CATALOG_ADMIN_KEY=KEY)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([Product(store="shop", product_id=f"p{i}", title=f"Black cotton hoodie {i}")
                             for i in range(3)])
    runtime = SimpleNamespace(settings=settings, catalog=catalog, extractor=extractor)
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    with authorize(TestClient(app), catalog) as c:  # a platform key; the reindex tests send their own
        c.runtime = runtime
        yield c
    catalog.close()


def auth(key: str = KEY) -> dict:
    return {"Authorization": f"Bearer {key}"}


def png(size=(64, 64)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (10, 10, 10)).save(out, "PNG")
    return out.getvalue()


def photo() -> bytes:
    return next((fixture_path() / "images").rglob("*.jpg")).read_bytes()


# ------------------------------------------------------------------ reindex and jobs
def test_reindex_without_a_key_is_401(client):
    response = TestClient(client.app).post("/v1/stores/shop/reindex")
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_reindex_with_a_wrong_key_is_401(client):
    response = client.post("/v1/stores/shop/reindex", headers=auth("wrong"))
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_reindex_is_401_when_no_admin_key_is_configured(client):
    client.app.dependency_overrides[get_settings] = lambda: Settings(CATALOG_ADMIN_KEY=None)
    assert client.post("/v1/stores/shop/reindex", headers=auth()).status_code == 401


def test_reindex_unknown_store_is_404(client):
    response = client.post("/v1/stores/nope/reindex", headers=auth())
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_store"


def test_reindex_runs_the_job_and_jobs_reports_it(client):
    response = client.post("/v1/stores/shop/reindex", headers=auth())
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "queued" and body["created"]
    # Eager mode: the job ran after the response, in this process.
    job = client.get(f"/v1/jobs/{body['job_id']}").json()
    assert (job["state"], job["total"], job["done"], job["failed"]) == ("succeeded", 3, 3, 0)
    assert job["started_at"] and job["finished_at"]
    assert client.runtime.catalog.latest_extraction("shop", "p1") is not None


def test_a_second_reindex_request_returns_the_running_job(client):
    from indexer.reindex import start_reindex

    job, _ = start_reindex(client.runtime.catalog, "shop")  # queued, as if a worker had not taken it yet
    body = client.post("/v1/stores/shop/reindex", headers=auth()).json()
    assert body["job_id"] == job.id and not body["created"]


def test_unknown_job_is_404(client):
    response = client.get("/v1/jobs/not-a-job")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_job"


# ------------------------------------------------------------------ products
def test_put_product_stores_it_and_queues_extraction(client):
    response = client.put("/v1/stores/shop/products/new-1", json={"title": "Red wool scarf"})
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["status"] == "queued" and body["task_id"]
    assert client.runtime.catalog.latest_extraction("shop", "new-1") is not None
    again = client.put("/v1/stores/shop/products/new-1", json={"title": "Red wool scarf"}).json()
    assert again["status"] == "unchanged" and again["task_id"] is None


def test_delete_product_queues_the_delete(client):
    assert client.delete("/v1/stores/shop/products/p0").status_code == 202
    assert client.runtime.catalog.get_product("shop", "p0") is None
    assert client.delete("/v1/stores/shop/products/p0").status_code == 404


# ------------------------------------------------------------------ suggest
def suggest(client, files, **form):
    return client.post("/v1/stores/shop/suggest", files=files, data=form)


def test_suggest_rejects_a_non_image(client):
    response = suggest(client, [("images", ("notes.txt", b"hello, not a picture", "text/plain"))])
    assert response.status_code == 415 and "not an image" in response.json()["error"]["message"]


def test_suggest_rejects_a_truncated_jpeg(client):
    data = photo()
    response = suggest(client, [("images", ("cut.jpg", data[: len(data) // 2], "image/jpeg"))])
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_image"


def test_suggest_refuses_a_decompression_bomb_from_its_header(client):
    out = io.BytesIO()
    Image.new("1", (20000, 20000)).save(out, "PNG")  # ~50 KB on disk, 400 megapixels decoded
    response = suggest(client, [("images", ("bomb.png", out.getvalue(), "image/png"))])
    message = response.json()["error"]["message"]
    assert response.status_code == 422 and ("pixel limit" in message or "decompression bomb" in message)


def test_suggest_refuses_more_than_eight_images(client):
    files = [("images", (f"{i}.png", png(), "image/png")) for i in range(9)]
    response = suggest(client, files)
    assert response.status_code == 422 and response.json()["error"]["code"] == "too_many_images"


def test_suggest_refuses_gif(client):
    out = io.BytesIO()
    Image.new("RGB", (32, 32)).save(out, "GIF")
    response = suggest(client, [("images", ("a.gif", out.getvalue(), "image/gif"))])
    assert response.status_code == 415 and "GIF" in response.json()["error"]["message"]


def test_suggest_refuses_an_image_over_10_mb(client):
    response = suggest(client, [("images", ("big.jpg", b"\xff\xd8" + b"0" * (10 * 1024 * 1024), "image/jpeg"))])
    assert response.status_code == 413


def test_suggest_needs_an_image_and_a_known_store(client):
    assert suggest(client, [], title="hoodie").status_code == 422
    response = client.post("/v1/stores/nope/suggest", files=[("images", ("a.png", png(), "image/png"))])
    assert response.status_code == 404


def test_suggest_answers_in_the_design_shape_and_stores_nothing(client):
    seq = client.runtime.catalog.max_seq()
    response = suggest(client, [("images", ("hoodie.jpg", photo(), "image/jpeg"))],
                       title="Men's black cotton hoodie", description="Warm pullover with a kangaroo pocket")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["category"]["id"] and body["category"]["full_name"] and 0 <= body["category"]["confidence"] <= 1
    assert isinstance(body["category"]["alternatives"], list)
    for attribute in body["attributes"]:
        assert attribute["handle"] and attribute["name"] and attribute["values"]
        assert {"id", "name", "confidence"} <= set(attribute["values"][0])
    assert set(body["safety"]) == {"flagged", "reasons"} and body["safety"]["flagged"] is False
    assert body["timings_ms"]["total"] > 0
    assert client.runtime.catalog.max_seq() == seq


def test_metrics_exposes_pipeline_series(client):
    client.put("/v1/stores/shop/products/m-1", json={"title": "Blue denim jacket"})
    text = client.get("/metrics").text
    assert "catalog_tasks_total" in text and "catalog_extraction_seconds" in text
    assert 'catalog_tasks_total{outcome="succeeded",task="indexer.tasks.products.extract_and_index"}' in text


# ------------------------------------------------------------------ readiness
def closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens once the socket is closed


def ready_client(tmp_path, broker: str | None) -> TestClient:
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=broker)
    engines = SimpleNamespace(lexical=SimpleNamespace(stores=lambda: set()),
                              vector=SimpleNamespace(count=lambda store: 0))
    runtime = SimpleNamespace(settings=settings, catalog=CatalogStore.open(settings.sqlalchemy_url), extractor=None,
                              engines=engines, sync=SimpleNamespace(pending=lambda: 0))
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    return TestClient(app)


def test_readyz_without_a_broker_does_not_check_one(tmp_path):
    with ready_client(tmp_path, None) as c:
        response = c.get("/readyz")
    assert response.status_code == 200 and response.json()["ready"] is True
    assert "broker" not in response.json()["checks"]


def test_readyz_fails_when_the_broker_is_unreachable(tmp_path):
    import time

    with ready_client(tmp_path, f"redis://127.0.0.1:{closed_port()}/0") as c:
        started = time.perf_counter()
        response = c.get("/readyz")
        elapsed = time.perf_counter() - started
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["ready"] is False and body["checks"]["broker"].startswith("error")
    assert body["checks"]["store"] == "ok"
    assert elapsed < 3  # a short timeout: a probe never hangs on a dead broker


def test_readyz_reports_a_reachable_broker(tmp_path):
    import redis

    url = "redis://127.0.0.1:6379/15"
    try:
        redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        service_missing("no Redis on 127.0.0.1:6379")
    with ready_client(tmp_path, url) as c:
        response = c.get("/readyz")
    assert response.status_code == 200 and response.json()["checks"]["broker"] == "ok"


def test_suggest_uses_the_store_s_trained_heads(client):
    """After `catalog train`, a listing is read with the store's heads: here a colour head that names
    every photo Purple, saved while the server runs."""
    import numpy as np

    from extractor.local.colors import COLOR_FEATURES
    from extractor.local.train import FEATURES, ColorHead, StoreHeads
    from indexer.training import store_models_dir

    def colours():
        response = suggest(client, [("images", ("hoodie.jpg", photo(), "image/jpeg"))], title="Men's hoodie")
        assert response.status_code == 200, response.text
        return [v["handle"] for a in response.json()["attributes"] if a["handle"] == "color" for v in a["values"]]

    assert "color__purple" not in colours()
    empty = np.zeros((0, FEATURES), dtype=np.float32)
    head = ColorHead(["color__black", "color__purple"], np.zeros((2, COLOR_FEATURES)), np.array([0.0, 5.0]))
    StoreHeads([], empty, np.zeros(0), [], empty, np.zeros(0), color_head=head).save(
        store_models_dir(client.runtime.settings.catalog_home, "shop"))
    assert colours()[0] == "color__purple"
