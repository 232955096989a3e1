"""The listing assistant's API: photo uploads, the product read (is it searchable yet?), merchant feedback,
taxonomy lookups, and the extractor named in the suggest response. A stub extractor stands in for the
local one (no models load); the catalog store is real."""

from __future__ import annotations

import hashlib
import io
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient
from PIL import Image

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer.importers import fixture_path
from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from indexer.sync import SYNC_NAME
from search_api.app import create_app
from taxonomy import Taxonomy
from tests.keys import authorize


class StubExtractor:
    name = "stub"
    version = "7"

    def __init__(self) -> None:
        self.seen = []

    def extract(self, inputs):
        self.seen.extend(inputs)
        return [stub_extraction() for _ in inputs]


def stub_extraction() -> Extraction:
    return Extraction(
        category=CategoryGuess(id="aa-1-13-13", name="Hoodies",
                               full_name="Apparel & Accessories > Clothing > Clothing Tops > Hoodies", confidence=0.9),
        attributes=[ExtractedAttribute(handle="color", name="Color", values=[
            ExtractedValue(value="color__black", value_id=1, name="Black", confidence=0.8, source="image")])],
        extractor="stub", extractor_version="7", taxonomy_version=Taxonomy.load().version)


@pytest.fixture
def client(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path / "home", DATABASE_URL=None, CELERY_BROKER_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([Product(store="shop", product_id="p0", title="Black hoodie")])
    runtime = SimpleNamespace(settings=settings, catalog=catalog, extractor=StubExtractor())
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    with authorize(TestClient(app), catalog) as c:
        c.runtime = runtime
        yield c
    catalog.close()


def png(size=(64, 64), colour=(10, 10, 10)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return out.getvalue()


def photo() -> bytes:
    return next((fixture_path() / "images").rglob("*.jpg")).read_bytes()


# ------------------------------------------------------------------ photos
def test_an_uploaded_photo_is_kept_content_addressed_under_catalog_home(client):
    data = photo()
    response = client.post("/v1/stores/shop/photos", files=[("images", ("hoodie.jpg", data, "image/jpeg")),
                                                              ("images", ("dot.png", png(), "image/png"))])
    assert response.status_code == 201, response.text
    first, second = response.json()["photos"]
    home = client.runtime.settings.catalog_home.resolve()
    digest = hashlib.sha256(data).hexdigest()
    assert first["ref"] == str(home / "uploads" / "shop" / f"{digest}.jpg")
    assert (first["sha256"], first["format"], first["bytes"], first["created"]) == (digest, "JPEG", len(data), True)
    assert first["width"] > 0 and first["height"] > 0
    assert second["ref"].endswith(".png") and (second["width"], second["height"]) == (64, 64)
    with open(first["ref"], "rb") as kept:
        assert kept.read() == data
    again = client.post("/v1/stores/shop/photos", files=[("images", ("same.jpg", data, "image/jpeg"))]).json()
    assert again["photos"][0]["ref"] == first["ref"] and not again["photos"][0]["created"]


def test_the_ref_of_an_upload_is_a_product_image_the_indexer_reads(client):
    ref = client.post("/v1/stores/shop/photos", files=[("images", ("h.jpg", photo(), "image/jpeg"))]).json()[
        "photos"][0]["ref"]
    response = client.put("/v1/stores/shop/products/new-1", json={"title": "Hoodie", "images": [ref]})
    assert response.status_code == 202, response.text
    [seen] = client.runtime.extractor.seen  # eager mode: extracted after the response, from the upload
    assert seen.images == [ref]


@pytest.mark.parametrize(("data", "status", "code"), [
    (b"not an image at all", 415, "unsupported_image"),
    (b"", 422, "invalid_image"),
    (photo()[:2000], 422, "invalid_image"),  # truncated JPEG
])
def test_a_bad_photo_is_a_4xx_and_nothing_is_kept(client, data, status, code):
    response = client.post("/v1/stores/shop/photos", files=[("images", ("ok.png", png(), "image/png")),
                                                              ("images", ("bad.jpg", data, "image/jpeg"))])
    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code and "image 1 (bad.jpg)" in response.json()["error"]["message"]
    assert not (client.runtime.settings.catalog_home / "uploads").exists()


def test_a_gif_is_refused_by_its_bytes_not_its_name(client):
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, "GIF")
    response = client.post("/v1/stores/shop/photos", files=[("images", ("x.png", out.getvalue(), "image/png"))])
    assert response.status_code == 415 and "GIF" in response.json()["error"]["message"]


def test_a_decompression_bomb_is_refused_from_its_header(client):
    out = io.BytesIO()
    Image.new("1", (9000, 9000)).save(out, "PNG")  # 81 Mpx in a few kB
    response = client.post("/v1/stores/shop/photos", files=[("images", ("bomb.png", out.getvalue(), "image/png"))])
    assert response.status_code == 422 and "pixel limit" in response.json()["error"]["message"]


def test_photos_need_a_file_and_a_known_store(client):
    assert client.post("/v1/stores/shop/photos").json()["error"]["code"] == "invalid_request"
    response = client.post("/v1/stores/nope/photos", files=[("images", ("a.png", png(), "image/png"))])
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_store"
    response = client.post("/v1/stores/shop/photos", files=[("images", (f"{i}.png", png(), "image/png"))
                                                              for i in range(9)])
    assert response.status_code == 422 and response.json()["error"]["code"] == "too_many_images"


def test_a_client_cannot_name_the_upload_path(client):
    response = client.post("/v1/stores/shop/photos", files=[("images", ("../../etc/x.png", png(), "image/png"))])
    ref = response.json()["photos"][0]["ref"]
    assert ref.startswith(str(client.runtime.settings.catalog_home.resolve() / "uploads" / "shop" / ""))
    assert "etc" not in ref


# ------------------------------------------------------------------ product read
def test_a_saved_product_reads_back_with_its_extraction_and_index_state(client):
    catalog = client.runtime.catalog
    assert client.put("/v1/stores/shop/products/p1", json={"title": "Black hoodie", "attributes": {
        "color": ["Black"]}, "merchant_category_id": "aa-1-13-13"}).status_code == 202
    body = client.get("/v1/stores/shop/products/p1").json()
    assert body["product"]["title"] == "Black hoodie" and body["product"]["attributes"] == {"color": ["Black"]}
    assert body["extraction"]["extractor"] == "stub" and body["extraction"]["category"]["id"] == "aa-1-13-13"
    assert body["extraction"]["attributes"][0]["values"][0]["handle"] == "color__black"
    # The extraction logged an upsert after the product's: nothing applied yet.
    assert body["index"] == {"change_seq": catalog.max_seq(), "applied_seq": 0, "indexed": False}
    catalog.set_sync_position(SYNC_NAME, catalog.max_seq() - 1)
    assert not client.get("/v1/stores/shop/products/p1").json()["index"]["indexed"]
    catalog.set_sync_position(SYNC_NAME, catalog.max_seq())  # the sync applied it
    assert client.get("/v1/stores/shop/products/p1").json()["index"]["indexed"]


def test_a_product_not_extracted_yet_has_no_extraction(client):
    body = client.get("/v1/stores/shop/products/p0").json()
    assert body["extraction"] is None and body["error"] is None and body["index"]["change_seq"] == 1


def test_a_product_that_keeps_failing_says_why(client):
    client.runtime.catalog.record_dead_letter("shop", "p0", "image 0: corrupt", 3)
    assert client.get("/v1/stores/shop/products/p0").json()["error"] == "image 0: corrupt"


def test_reading_an_unknown_product_or_store_is_404(client):
    response = client.get("/v1/stores/shop/products/nope")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_product"
    response = client.get("/v1/stores/other/products/p0")
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_store"


# ------------------------------------------------------------------ feedback
def decisions():
    return [{"attribute": "category", "suggested_value": "aa-1-13-13", "decision": "accepted"},
            {"attribute": "color", "suggested_value": "color__black", "decision": "edited",
             "final_value": "color__blue"},
            {"attribute": "pattern", "suggested_value": "pattern__striped", "decision": "rejected"}]


def test_feedback_is_recorded_and_reported(client):
    body = {"product_id": "p0", "extractor": "stub", "extractor_version": "7", "decisions": decisions()}
    response = client.post("/v1/stores/shop/feedback", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["recorded"] == 3
    rows = client.runtime.catalog.feedback("shop")
    assert [(r.attribute, r.final_value, r.decision, r.product_id) for r in rows] == [
        ("category", "aa-1-13-13", "accepted", "p0"), ("color", "color__blue", "edited", "p0"),
        ("pattern", None, "rejected", "p0")]
    report = client.get("/v1/stores/shop/feedback/acceptance").json()
    assert report["category"]["acceptance"] == 1.0 and report["overall"]["decisions"] == 3
    assert report["attributes"]["color"]["edited"] == 1


def test_feedback_for_a_listing_not_saved_has_no_product(client):
    body = {"product_id": None, "extractor": "stub", "extractor_version": "7", "decisions": decisions()[:1]}
    assert client.post("/v1/stores/shop/feedback", json=body).status_code == 201
    assert client.runtime.catalog.feedback("shop")[0].product_id is None


def test_feedback_values_are_normalised_to_taxonomy_handles(client):
    taxonomy = Taxonomy.load()
    black, blue = taxonomy.value("color__black"), taxonomy.value("color__blue")
    body = {"extractor": "stub", "extractor_version": "7", "decisions": [
        {"attribute": "color", "suggested_value": str(black.id), "decision": "edited", "final_value": blue.gid},
        {"attribute": "category", "suggested_value": "gid://shopify/TaxonomyCategory/aa-1-13-13",
         "decision": "rejected"}]}
    assert client.post("/v1/stores/shop/feedback", json=body).status_code == 201, body
    rows = client.runtime.catalog.feedback("shop")
    assert [(r.suggested_value, r.final_value) for r in rows] == [("color__black", "color__blue"),
                                                                 ("aa-1-13-13", None)]


@pytest.mark.parametrize(("change", "fragment"), [
    ({"attribute": "colour-ish"}, "unknown taxonomy attribute"),
    ({"suggested_value": "color__plaid"}, "unknown taxonomy value"),
    ({"final_value": "pattern__striped"}, "is not a value of attribute 'color'"),
    ({"decision": "maybe"}, "decision"),
    ({"decision": "edited", "final_value": None}, "final_value"),
    ({"decision": "rejected"}, "rejected value has no final_value"),
])
def test_bad_feedback_is_422_and_nothing_is_stored(client, change, fragment):
    items = decisions()
    items[1] = {**items[1], **change}
    body = {"extractor": "stub", "extractor_version": "7", "decisions": items}
    response = client.post("/v1/stores/shop/feedback", json=body)
    assert response.status_code == 422, response.text
    assert fragment in response.json()["error"]["message"]
    assert client.runtime.catalog.feedback("shop") == []


def test_feedback_on_an_unknown_category_product_or_store(client):
    items = [{"attribute": "category", "suggested_value": "zz-404", "decision": "accepted"}]
    base = {"extractor": "stub", "extractor_version": "7"}
    response = client.post("/v1/stores/shop/feedback", json={**base, "decisions": items})
    assert response.status_code == 422 and "unknown taxonomy category" in response.json()["error"]["message"]
    response = client.post("/v1/stores/shop/feedback", json={**base, "product_id": "nope", "decisions": decisions()})
    assert response.status_code == 422 and response.json()["error"]["code"] == "unknown_product"
    response = client.post("/v1/stores/nope/feedback", json={**base, "decisions": decisions()})
    assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_store"
    assert client.post("/v1/stores/shop/feedback", json={**base, "decisions": []}).status_code == 422
    assert client.runtime.catalog.feedback("shop") == []


# ------------------------------------------------------------------ taxonomy
def test_a_category_s_attributes_come_with_their_allowed_values(client):
    body = client.get("/v1/taxonomy/categories/aa-1-13-13/attributes").json()
    assert body["name"] == "Hoodies"
    attributes = {a["handle"]: a for a in body["attributes"]}
    assert "color" in attributes and "fabric" in attributes
    assert {"handle": "color__black", "id": Taxonomy.load().value("color__black").id, "name": "Black"} in \
        attributes["color"]["values"]
    assert client.get("/v1/taxonomy/categories/zz-1/attributes").json()["error"]["code"] == "unknown_category"


def test_one_attribute_s_values_and_a_category_search(client):
    body = client.get("/v1/taxonomy/attributes/target-gender").json()
    assert {v["handle"] for v in body["values"]} >= {"target-gender__male", "target-gender__female"}
    assert client.get("/v1/taxonomy/attributes/nope").status_code == 404
    found = client.get("/v1/taxonomy/categories", params={"q": "hoodie"}).json()["categories"]
    assert "aa-1-13-13" in [c["id"] for c in found]
    assert client.get("/v1/taxonomy/categories").status_code == 422


# ------------------------------------------------------------------ suggest
def test_the_suggest_response_names_its_extractor(client):
    response = client.post("/v1/stores/shop/suggest", data={"title": "Black hoodie"},
                           files=[("images", ("h.jpg", photo(), "image/jpeg"))])
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["extractor"], body["extractor_version"]) == ("stub", "7")
    assert body["category"]["id"] == "aa-1-13-13"


# ------------------------------------------------------------------ the page
def test_the_listing_assistant_page_has_its_hooks_and_loads_nothing_from_elsewhere(client):
    response = client.get("/sell?store=shop")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    html = response.text
    assert '<label for="photos">Photos</label>' in html and '<input type="file" id="photos"' in html
    assert '<label for="title">Title</label>' in html and '<input type="text" id="title"' in html
    assert 'aria-labelledby="suggestions-heading" aria-live="polite"' in html
    assert '<h2 id="suggestions-heading">Suggestions</h2>' in html
    for asset in ("/static/sell.js", "/static/sell.css"):
        assert asset in html
        body = client.get(asset).text
        assert "http://" not in body.replace("http://127.0.0.1", "") and "//cdn" not in body
    script = client.get("/static/sell.js").text
    # The page speaks the API named here; nothing else.
    for path in ("/suggest", "/photos", "/products/", "/feedback", "/v1/taxonomy/categories"):
        assert path in script
