"""A colour search shows each product in the colour searched for, where one of its photos does."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from tests.keys import authorize


@pytest.fixture(scope="module")
def client(demo_runtime):
    with authorize(TestClient(create_app(runtime=demo_runtime)), demo_runtime.catalog) as c:
        yield c


def test_a_red_hoodie_is_shown_in_red(client, demo_runtime):
    body = client.get("/v1/stores/demo/search", params={"q": "red hoodie", "limit": 20}).json()
    assert body["results"]
    moved = 0
    for r in body["results"]:
        product = demo_runtime.catalog.get_product("demo", r["product_id"])
        red = [v.image for v in product.variants if v.options.get("color") == "Red" and v.image]
        if red:
            assert r["image"] == red[0] and r["image_index"] == product.images.index(red[0])
            assert r["image_url"].startswith(f"/v1/stores/demo/products/{r['product_id']}/images/{r['image_index']}?")
            moved += r["image_index"] != 0
    assert moved  # some red variant is not the first photo: the colour moved the photo
    photo = client.get(next(r["image_url"] for r in body["results"] if r["image_index"]))
    assert photo.status_code == 200 and photo.headers["content-type"].startswith("image/")


def test_without_a_colour_the_first_photo_is_shown(client):
    body = client.get("/v1/stores/demo/search", params={"q": "hoodie", "limit": 20}).json()
    assert body["results"] and all(r["image_index"] == 0 for r in body["results"])
