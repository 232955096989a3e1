"""The search endpoint over the real fixture catalog and engines."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from tests.keys import authorize


@pytest.fixture(scope="module")
def client(demo_runtime):
    with authorize(TestClient(create_app(runtime=demo_runtime)), demo_runtime.catalog) as c:
        yield c


def search(client, q="", **params):
    response = client.get("/v1/stores/demo/search", params={"q": q, **params})
    assert response.status_code == 200, response.text
    return response.json()


def test_search_parses_filters_and_every_result_honours_them(client, demo_runtime):
    body = search(client, "black hoodie for men under $60, not cotton")
    ids = {f["id"] for f in body["applied_filters"]}
    assert {"attr.color:color__black", "attr.target-gender:target-gender__male", "price:lte:60",
            "not:attr.fabric:fabric__cotton"} <= ids
    assert body["results"] and body["relaxed_filters"] == []
    docs = demo_runtime.documents.get_many("demo", [r["product_id"] for r in body["results"]])
    for doc in docs.values():
        assert doc.price <= 60
        assert "color__black" in doc.attribute_values("color")
        assert "target-gender__male" in doc.attribute_values("target-gender")
        assert "fabric__cotton" not in doc.attribute_values("fabric")
    assert any(m["value"] == "color__black" for m in body["results"][0]["matched_attributes"])


def test_empty_query_browses_everything_with_facets(client):
    body = search(client, "", limit=100)
    assert body["total"] >= 190 and len(body["results"]) == 100
    fields = {f["field"] for f in body["facets"]}
    assert {"category", "attr.color", "attr.size", "attr.target-gender", "price"} <= fields
    category = next(f for f in body["facets"] if f["field"] == "category")
    counts = {v["value"]: v["count"] for v in category["values"]}
    assert counts["aa"] >= counts.get("aa-1", 0)  # rolled up the tree


def test_a_query_made_only_of_filters_finds_every_product_they_admit(client):
    # "yoga pants under $40": the category and the price take every word, so the filters are the match.
    # Products filed under the category without its name in their text count too, in every mode.
    found = {}
    for mode in ("lexical", "vector", "hybrid"):
        body = search(client, "yoga pants under $40", mode=mode, limit=100)
        assert body["query_text"] == "" and body["relaxed_filters"] == []
        assert "price:lte:40" in {f["id"] for f in body["applied_filters"]}
        found[mode] = [r["product_id"] for r in body["results"]]
        assert len(found[mode]) == body["total"]
    assert len(found["lexical"]) >= 3
    assert set(found["lexical"]) == set(found["vector"]) == set(found["hybrid"])


def test_color_facet_is_disjunctive(client):
    plain = search(client, "hoodie")
    black = search(client, "black hoodie")
    color_plain = next(f for f in plain["facets"] if f["field"] == "attr.color")
    color_black = next(f for f in black["facets"] if f["field"] == "attr.color")
    # The color facet ignores the color filter itself: the same counts, with Black selected.
    assert {v["value"]: v["count"] for v in color_plain["values"]} == \
           {v["value"]: v["count"] for v in color_black["values"]}
    assert any(v["selected"] for v in color_black["values"] if v["value"] == "color__black")
    assert black["total"] < plain["total"]


def test_post_filters_override_parsed_ones(client):
    parsed = search(client, "black hoodie")
    kept = [f for f in parsed["applied_filters"] if f["field"] != "attr.color"]
    response = client.post("/v1/stores/demo/search", json={"q": "black hoodie", "filters": kept})
    body = response.json()
    assert response.status_code == 200
    assert all(f["field"] != "attr.color" for f in body["applied_filters"])
    assert body["total"] > parsed["total"]


def test_impossible_filters_are_relaxed_and_reported(client):
    body = search(client, "brown tote bag under $5")
    assert body["results"]
    assert body["relaxed_filters"]


def test_conversation_refines_replaces_and_drops(client):
    first = search(client, "black hoodie for men")
    sid = first["session_id"]
    second = search(client, "under 40", session_id=sid)
    ids = {f["id"] for f in second["applied_filters"]}
    assert "attr.color:color__black" in ids and "price:lte:40" in ids
    third = search(client, "actually in blue", session_id=sid)
    ids = {f["id"] for f in third["applied_filters"]}
    assert "attr.color:color__blue" in ids and "attr.color:color__black" not in ids
    fourth = search(client, "show women's instead", session_id=sid)
    ids = {f["id"] for f in fourth["applied_filters"]}
    assert "attr.target-gender:target-gender__female" in ids
    assert "attr.target-gender:target-gender__male" not in ids


@pytest.mark.parametrize("q", ['"unterminated', "title:hoodie", "hood*", "(AND OR NOT)", "a" * 5000, "🙂 \x00"])
def test_query_syntax_and_huge_queries_are_plain_text(client, q):
    response = client.get("/v1/stores/demo/search", params={"q": q})
    assert response.status_code == 200, response.text


@pytest.mark.parametrize("params, reason", [({"limit": 101}, "limit"), ({"offset": -1}, "offset"),
                                            ({"limit": "ten"}, "limit"), ({"session_id": "bad id!"}, "session_id")])
def test_bad_parameters_are_422_with_a_reason(client, params, reason):
    response = client.get("/v1/stores/demo/search", params={"q": "x", **params})
    assert response.status_code == 422
    assert reason in response.json()["error"]["message"]


def test_unknown_store_is_404(client):
    response = client.get("/v1/stores/nope/search", params={"q": "hoodie"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_store"


def test_malformed_json_body_is_422(client):
    response = client.post("/v1/stores/demo/search", content=b"{not json",
                           headers={"content-type": "application/json"})
    assert response.status_code == 422
    assert "error" in response.json()


def test_health_and_readiness(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["ready"] is True
    assert "catalog_http_request_seconds" in client.get("/metrics").text


def test_request_latency_is_recorded_by_route_template_and_status(client):
    client.get("/v1/stores/demo/search", params={"q": "hoodie"})
    client.get("/v1/stores/demo/search", params={"limit": 0})  # 422
    text = client.get("/metrics").text
    for status in ("200", "422"):
        assert ('catalog_http_request_seconds_count{method="GET",route="/v1/stores/{store}/search",'
                f'status="{status}"}}') in text
