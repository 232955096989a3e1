"""The review-queue API over a real catalog store and real embedded engines, with a scripted extractor:
proposals grouped with counts, decisions on one proposal or a group, accepted values as merchant data
(stored, then found by a search filter after the sync), rejected ones not proposed again for that content."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer.models import Product
from indexer.realtime import extract_batch
from indexer.settings import Settings
from search_api.app import create_app
from taxonomy import Taxonomy
from tests.keys import authorize

TEES = "aa-1-13-8"
REVIEW = "/v1/stores/shop/review"
DECIDE = f"{REVIEW}/decisions"


class ScriptedExtractor:
    """A T-shirt; its colour read from the photo (Blue, Gray for titles saying 'grey'), a crew neckline
    from the text where the title says so; what the merchant gave comes back as the merchant's."""

    name = "scripted"
    version = "1"

    def __init__(self) -> None:
        self.taxonomy = Taxonomy.load()
        self.calls: list[str] = []

    def _value(self, handle, source, confidence):
        v = self.taxonomy.value(handle)
        return ExtractedValue(value=v.handle, value_id=v.id, name=v.name, confidence=confidence, source=source)

    def extract(self, products):
        out = []
        for p in products:
            self.calls.append(p.product_id)
            colour = "color__gray" if "grey" in p.title.lower() else "color__blue"
            attrs = []
            if not any(k.lower() == "color" for k in p.attributes):
                attrs.append(ExtractedAttribute(handle="color", name="Color", values=[
                    self._value(colour, "image", 0.9 if colour == "color__blue" else 0.6)]))
            if "crew" in p.title.lower():
                attrs.append(ExtractedAttribute(handle="neckline", name="Neckline",
                                                values=[self._value("neckline__crew", "text", 0.8)]))
            cat = self.taxonomy.category(TEES)
            out.append(Extraction(category=CategoryGuess(id=cat.id, name=cat.name, full_name=cat.full_name,
                                                         confidence=0.7),
                                  attributes=attrs, extractor=self.name, extractor_version=self.version,
                                  taxonomy_version=self.taxonomy.version))
        return out


PRODUCTS = [
    Product(store="shop", product_id="t1", title="Crew neck tee", images=["photos/t1.jpg"],
            merchant_category_id=TEES),
    Product(store="shop", product_id="t2", title="Crew neck tee two", merchant_category_id=TEES),
    Product(store="shop", product_id="t3", title="Grey tee", merchant_category_id=TEES),
    Product(store="shop", product_id="t4", title="Plain tee"),  # no category: the category is proposed
]


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    from search_api.runtime import build_runtime

    home = tmp_path_factory.mktemp("review-home")
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None)
    runtime = build_runtime(settings)
    runtime._extractor = ScriptedExtractor()
    yield runtime
    runtime.close()


@pytest.fixture
def client(served):
    from sqlalchemy import delete

    from indexer.store import schema

    catalog = served.catalog
    with catalog._write() as conn:
        conn.execute(delete(schema.review_decisions))
    for pid in catalog.product_ids("shop") if catalog.store_exists("shop") else []:
        catalog.delete_product("shop", pid)
    catalog.upsert_products(PRODUCTS)
    extract_batch(catalog, served.extractor, "shop", [p.product_id for p in PRODUCTS])
    served.catch_up()
    with authorize(TestClient(create_app(runtime=served)), catalog) as c:
        c.runtime = served
        yield c


def queue(client, **params) -> dict:
    response = client.get(REVIEW, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def keys(body) -> set[tuple[str, str, str]]:
    return {(p["product_id"], p["attribute"], p["value"]) for p in body["proposals"]}


def decide(client, expected=200, **body) -> dict:
    response = client.post(DECIDE, json=body)
    assert response.status_code == expected, response.text
    return response.json()


def test_the_queue_groups_proposals_with_counts_and_applies_the_filters(client):
    body = queue(client)
    assert body["store"] == "shop" and body["total"] == 7
    assert body["filters"] == {"attribute": None, "value": None, "min_confidence": 0.0}
    assert [(g["attribute"], g["count"]) for g in body["groups"]] == [("category", 1), ("color", 4),
                                                                      ("neckline", 2)]
    colour = body["groups"][1]
    assert [(v["name"], v["count"]) for v in colour["values"]] == [("Blue", 3), ("Gray", 1)]
    first = body["proposals"][0]
    assert (first["product_id"], first["attribute"], first["kind"]) == ("t4", "category", "adds")
    t1 = next(p for p in body["proposals"] if p["product_id"] == "t1" and p["attribute"] == "color")
    assert t1["evidence"] == {"source": "image", "images": [0], "words": []} and t1["confidence"] == 0.9
    assert t1["image_url"] == "/v1/stores/shop/products/t1/images/0" and t1["title"] == "Crew neck tee"
    assert t1["content_hash"] == client.runtime.catalog.content_hash("shop", "t1")
    crew = next(p for p in body["proposals"] if p["attribute"] == "neckline")
    assert crew["evidence"]["words"][0]["text"] == "Crew neck"

    confident = queue(client, min_confidence=0.75)
    assert confident["total"] == 5 and ("t3", "color", "color__gray") not in keys(confident)
    assert [(g["attribute"], g["count"]) for g in confident["groups"]] == [("color", 3), ("neckline", 2)]
    only = queue(client, attribute="color", min_confidence=0.75)
    assert only["total"] == 3 and {p["attribute"] for p in only["proposals"]} == {"color"}
    page = queue(client, limit=2, offset=1)
    assert len(page["proposals"]) == 2 and page["total"] == 7
    assert [p["product_id"] for p in page["proposals"]] == [p["product_id"] for p in body["proposals"][1:3]]


def test_accepting_one_proposal_makes_it_merchant_data_searchable_by_its_filter(client):
    catalog = client.runtime.catalog
    before = catalog.content_hash("shop", "t1")
    body = decide(client, decision="accept", product_id="t1", attribute="color", value="color__blue",
                  content_hash=before)
    assert (body["decided"], body["products"]) == (1, ["t1"]) and len(body["task_ids"]) == 1
    product = catalog.get_product("shop", "t1")
    assert product.attributes == {"color": ["Blue"]} and catalog.content_hash("shop", "t1") != before
    assert [(d.product_id, d.decision, d.content_hash) for d in catalog.review_decisions("shop")] == [
        ("t1", "accept", before)]
    # The products API's upsert queued its extraction (eager: it ran); the sync indexes it.
    assert catalog.latest_extraction("shop", "t1").extractor == "scripted"
    client.runtime.catch_up()
    left = queue(client)
    assert ("t1", "color", "color__blue") not in keys(left) and ("t1", "neckline", "neckline__crew") in keys(left)
    found = client.post("/v1/stores/shop/search", json={
        "q": "", "filters": [{"field": "attr.color", "op": "in", "values": ["color__blue"]}], "limit": 10}).json()
    by_id = {r["product_id"]: r for r in found["results"]}
    assert "t1" in by_id
    facet = next(f for f in found["facets"] if f["field"] == "attr.color")
    assert any(v["value"] == "color__blue" for v in facet["values"])
    doc = client.runtime.documents.get_many("shop", ["t1"])["t1"]
    assert [(a.value, a.source) for a in doc.attributes if a.handle == "color"] == [("color__blue", "merchant")]


def test_accepting_a_group_accepts_every_proposal_of_that_value_within_the_filters(client):
    body = decide(client, decision="accept", attribute="color", value="color__blue")
    assert body["decided"] == 3 and body["products"] == ["t1", "t2", "t4"]
    catalog = client.runtime.catalog
    for pid in ("t1", "t2", "t4"):
        assert catalog.get_product("shop", pid).attributes == {"color": ["Blue"]}
    assert catalog.get_product("shop", "t3").attributes == {}  # Gray was not in the group
    # A whole attribute, above a confidence: the category of t4 (0.7) is below 0.75 and stays.
    assert decide(client, expected=404, decision="accept", attribute="category", min_confidence=0.75)[
        "error"]["code"] == "no_proposals"
    body = decide(client, decision="accept", attribute="category")
    assert body["products"] == ["t4"] and catalog.get_product("shop", "t4").merchant_category_id == TEES
    client.runtime.catch_up()
    left = queue(client)
    assert [(g["attribute"], g["count"]) for g in left["groups"]] == [("color", 1), ("neckline", 2)]


def test_a_rejected_proposal_is_not_proposed_again_until_the_product_changes(client):
    catalog = client.runtime.catalog
    body = decide(client, decision="reject", attribute="neckline")
    assert body["decided"] == 2 and body["task_ids"] == []
    assert catalog.get_product("shop", "t1").attributes == {}  # nothing became merchant data
    assert not any(p["attribute"] == "neckline" for p in queue(client)["proposals"])
    # Deciding it again: nothing left to decide.
    assert decide(client, expected=404, decision="reject", attribute="neckline")["error"]["code"] == "no_proposals"
    # The merchant changes t2: its new content is extracted and may be proposed again.
    response = client.put("/v1/stores/shop/products/t2",
                          json={"title": "Crew neck tee two, new", "merchant_category_id": TEES})
    assert response.status_code == 202, response.text
    again = queue(client, attribute="neckline")
    assert keys(again) == {("t2", "neckline", "neckline__crew")}
    assert again["proposals"][0]["content_hash"] == catalog.content_hash("shop", "t2")


def test_a_product_changed_by_an_accept_keeps_its_rejections(client):
    catalog = client.runtime.catalog
    decide(client, decision="reject", product_id="t1", attribute="neckline", value="neckline__crew")
    decide(client, decision="accept", product_id="t1", attribute="color", value="color__blue")
    assert catalog.get_product("shop", "t1").attributes == {"color": ["Blue"]}
    assert catalog.latest_extraction("shop", "t1") is not None  # the new content was extracted
    assert not any(p["product_id"] == "t1" for p in queue(client)["proposals"])
    hashes = {d.content_hash for d in catalog.review_decisions("shop", ["t1"]) if d.decision == "reject"}
    assert catalog.content_hash("shop", "t1") in hashes and len(hashes) == 2


def test_proposals_are_read_again_only_after_a_change(client, monkeypatch):
    from indexer import review

    calls = []
    real = review.proposals
    monkeypatch.setattr(review, "proposals", lambda *a, **k: calls.append(a[0].product_id) or real(*a, **k))
    assert queue(client)["total"] == 7 and len(calls) == 4
    assert queue(client, attribute="color")["total"] == 4 and len(calls) == 4  # same change-log position
    decide(client, decision="reject", product_id="t3", attribute="color", value="color__gray")
    assert queue(client)["total"] == 6 and len(calls) == 4  # a decision is read per request
    client.put("/v1/stores/shop/products/t3", json={"title": "Grey tee, new", "merchant_category_id": TEES})
    assert queue(client)["total"] == 7 and len(calls) == 8  # a product changed: read again


def test_bad_input_is_a_clear_4xx_and_changes_nothing(client):
    catalog = client.runtime.catalog
    hashes = {pid: catalog.content_hash("shop", pid) for pid in ("t1", "t2", "t3", "t4")}
    cases = [
        ({"decision": "maybe", "attribute": "color"}, 422, "invalid_request"),
        ({"decision": "accept"}, 422, "invalid_request"),
        ({"decision": "accept", "attribute": "color", "product_id": "t1"}, 422, "invalid_request"),
        ({"decision": "accept", "attribute": "color", "value": "color__blue", "extra": 1}, 422, "invalid_request"),
        ({"decision": "accept", "attribute": "color", "min_confidence": 2}, 422, "invalid_request"),
        ({"decision": "accept", "attribute": "no-such-attribute"}, 422, "invalid_filter"),
        ({"decision": "accept", "attribute": "color", "value": "color__red"}, 404, "no_proposals"),
        ({"decision": "accept", "attribute": "color", "value": "color__blue", "product_id": "nope"}, 404,
         "no_proposals"),
        ({"decision": "accept", "attribute": "color", "value": "color__blue", "product_id": "t1",
          "content_hash": "0" * 64}, 409, "stale_proposal"),
    ]
    for body, status, code in cases:
        response = client.post(DECIDE, json=body)
        assert response.status_code == status, (body, response.text)
        assert response.json()["error"]["code"] == code and response.json()["error"]["message"]
    response = client.post(DECIDE, content=b"{not json", headers={"content-type": "application/json"})
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_request"
    for params in ({"min_confidence": "-1"}, {"limit": "0"}, {"offset": "-3"}, {"attribute": "nonsense"}):
        response = client.get(REVIEW, params=params)
        assert response.status_code == 422 and "error" in response.json(), params
    assert {pid: catalog.content_hash("shop", pid) for pid in hashes} == hashes
    assert catalog.review_decisions("shop") == []


def test_an_unknown_store_is_404(client):
    for response in (client.get("/v1/stores/nope/review"),
                     client.post("/v1/stores/nope/review/decisions",
                                 json={"decision": "reject", "attribute": "color"})):
        assert response.status_code == 404 and response.json()["error"]["code"] == "unknown_store"
    assert client.get("/v1/stores/Bad%20Name/review").status_code == 422
