"""Request limits: body caps on every route (Content-Length and chunked), the photo routes' larger cap, and
the suggest gate (a per-caller share, then 503 when the server is full)."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings
from search_api.app import create_app
from search_api.errors import ApiError
from search_api.limits import JSON_MAX_BYTES, UPLOAD_MAX_BYTES, ConcurrencyGate, body_cap


@pytest.fixture(scope="module")
def app(tmp_path_factory):
    settings = Settings(CATALOG_HOME=tmp_path_factory.mktemp("limits"), DATABASE_URL=None, CELERY_BROKER_URL=None)
    # No lifespan runs here: a body over the cap is refused before any route or runtime is reached.
    return create_app(runtime=SimpleNamespace(settings=settings))


def asgi_post(app, path: str, content_length: int, body: bytes = b"{}", content_type="application/json"):
    """One request straight into the ASGI app, announcing `content_length` whatever the body holds."""
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "path": path,
             "raw_path": path.encode(), "root_path": "", "scheme": "http", "query_string": b"",
             "headers": [(b"content-type", content_type.encode()), (b"content-length", str(content_length).encode())],
             "client": ("127.0.0.1", 1234), "server": ("127.0.0.1", 80), "state": {}}
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    return status, b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")


def test_an_over_size_content_length_is_413_before_the_body_is_read(app):
    status, body = asgi_post(app, "/v1/stores/demo/search", JSON_MAX_BYTES + 1)
    assert status == 413
    error = json.loads(body)["error"]
    assert error["code"] == "request_too_large" and str(JSON_MAX_BYTES) in error["message"]


def test_a_chunked_body_is_counted_as_it_streams(app):
    chunk = b" " * (1024 * 1024)
    client = TestClient(app)  # a generator body goes out chunked, without a Content-Length
    response = client.post("/v1/stores/demo/search", content=(chunk for _ in range(5)),
                               headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "request_too_large"


def test_photo_routes_take_eight_ten_megabyte_photos_but_not_more(app):
    assert UPLOAD_MAX_BYTES > 8 * 10 * 1024 * 1024
    for path in ("/v1/stores/demo/suggest", "/v1/stores/demo/photos"):
        assert body_cap(path) == UPLOAD_MAX_BYTES
        status, body = asgi_post(app, path, UPLOAD_MAX_BYTES + 1, content_type="multipart/form-data; boundary=x")
        assert status == 413 and json.loads(body)["error"]["code"] == "request_too_large"
    for path in ("/v1/stores/demo/search", "/v1/stores/demo/products/p1", "/v1/stores/demo/suggest/x", "/v1/keys"):
        assert body_cap(path) == JSON_MAX_BYTES


def test_a_product_at_the_models_maximums_fits_the_json_cap():
    from search_api.routes.products import ProductUpsert

    image = "https://shop.example.com/products/" + "i" * 200 + ".jpg"
    variant = {"sku": "SKU-" + "s" * 60, "price": 12345.67, "image": image,
               "options": {"color": "Midnight Black", "size": "XXL", "material": "Organic cotton jersey"}}
    product = {"title": "t" * 1000, "description": "d" * 100_000, "description_html": "<p>" + "d" * 100_000,
               "tags": ["t" * 40] * 250, "variants": [variant] * 2000, "images": [image] * 50,
               "attributes": {f"attr-{i}": ["value"] * 5 for i in range(50)}}
    ProductUpsert.model_validate(product)  # the model admits it
    assert len(json.dumps(product).encode()) < JSON_MAX_BYTES


def test_the_gate_gives_a_caller_half_the_places_and_answers_503_when_all_stay_taken():
    async def run():
        gate = ConcurrencyGate(slots=2, wait_s=0.05)
        async with gate.slot("a"):
            with pytest.raises(ApiError) as own_share:
                async with gate.slot("a"):
                    pass
            async with gate.slot("b"):  # b still gets the other place
                with pytest.raises(ApiError) as full:
                    async with gate.slot("c"):
                        pass
        async with gate.slot("a"), gate.slot("c"):  # every place came back
            pass
        return own_share.value, full.value

    own_share, full = asyncio.run(run())
    assert (own_share.status, own_share.code, own_share.headers) == (429, "too_many_concurrent", {"Retry-After": "1"})
    assert (full.status, full.code, full.headers) == (503, "busy", {"Retry-After": "1"})


def test_a_waiting_call_gets_the_place_a_finished_one_gives_back():
    async def run():
        gate = ConcurrencyGate(slots=1, per_owner=1, wait_s=2.0)
        order = []

        async def call(owner, hold_s):
            async with gate.slot(owner):
                order.append(owner)
                await asyncio.sleep(hold_s)

        await asyncio.gather(call("a", 0.05), call("b", 0.0))
        return order

    assert asyncio.run(run()) == ["a", "b"]
