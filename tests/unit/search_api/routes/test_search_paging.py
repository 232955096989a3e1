"""Paging through the search endpoint over the real fixture catalog and engines: every product `total`
counts is reachable by offset/limit, once, in one order that a second run repeats."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from search_api.models import MAX_LIMIT, MAX_OFFSET
from tests.keys import authorize

FIXTURE_PRODUCTS = 199


@pytest.fixture(scope="module")
def client(demo_runtime):
    with authorize(TestClient(create_app(runtime=demo_runtime)), demo_runtime.catalog) as c:
        yield c


def _page(client, method: str, q: str, limit: int, offset: int, **extra) -> dict:
    params = {"q": q, "limit": limit, "offset": offset, **extra}
    if method == "GET":
        response = client.get("/v1/stores/demo/search", params=params)
    else:
        response = client.post("/v1/stores/demo/search", json=params)
    assert response.status_code == 200, response.text
    return response.json()


def page_through(client, q: str, limit: int, method: str = "GET", **extra) -> tuple[list[str], dict]:
    """Every page of one search until an empty one; the ids in order and the first page's body. Each page
    says the same total, and the page after the last is empty with that total."""
    first = _page(client, method, q, limit, 0, **extra)
    ids, offset, body = [], 0, first
    while body["results"]:
        assert (body["total"], body["total_relation"]) == (first["total"], "eq")
        assert body["relaxed_filters"] == first["relaxed_filters"]
        assert body["applied_filters"] == first["applied_filters"]
        ids += [r["product_id"] for r in body["results"]]
        offset += limit
        body = _page(client, method, q, limit, offset, **extra)
    assert body["total"] == first["total"] and body["results"] == []
    return ids, first


def assert_every_product_once(client, q: str, sizes=(7, 20, 100), **extra) -> dict:
    orders = []
    for i, size in enumerate(sizes):
        ids, first = page_through(client, q, size, method=("GET", "POST")[i % 2], **extra)
        assert len(ids) == len(set(ids)) == first["total"], (q, size, extra)
        orders.append(ids)
    again, _ = page_through(client, q, sizes[0], **extra)
    assert again == orders[0]  # a second run gives the same order
    assert all(order == orders[0] for order in orders)  # pages of any size cut one order
    return first


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "vector"])
def test_browse_reaches_every_product_of_the_fixture(client, mode):
    first = assert_every_product_once(client, "", mode=mode)
    assert first["total"] == FIXTURE_PRODUCTS


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "vector"])
@pytest.mark.parametrize("q", ["women", "black hoodie for men", "waterproof jacket", "running", "cheapest hoodies"])
def test_queries_reach_every_product_they_count(client, q, mode):
    first = assert_every_product_once(client, q, mode=mode)
    assert first["total"] > 0


def test_women_is_not_cut_at_the_old_candidate_window(client):
    ids, first = page_through(client, "women", 20)
    assert first["total"] == len(ids) > 100


def test_relaxed_filters_page_like_the_rest(client):
    first = assert_every_product_once(client, "brown tote bag under $5", sizes=(1, 2, 20))
    assert first["relaxed_filters"]
    for q in ("pink hoodie for men", "black shorts under $3"):
        for mode in ("hybrid", "lexical", "vector"):
            first = assert_every_product_once(client, q, sizes=(3, 7), mode=mode)
            assert first["relaxed_filters"] and first["total"] > 7


def test_session_follow_up_pages(client):
    sid = _page(client, "GET", "women", 10, 0)["session_id"]
    body = _page(client, "GET", "under 50", 10, 0, session_id=sid)
    assert "price:lte:50" in {f["id"] for f in body["applied_filters"]}
    # The client pages a follow-up by sending it again with the next offset.
    ids, first = page_through(client, "under 50", 7, session_id=sid)
    assert len(ids) == len(set(ids)) == first["total"] > 7
    assert first["applied_filters"] == body["applied_filters"] and first["total"] == body["total"]


@pytest.mark.parametrize("mode", ["hybrid", "lexical", "vector"])
@pytest.mark.parametrize("q, field", [("women", "attr.target-gender"), ("black hoodie for men", "attr.color"),
                                      ("orange yoga mat", "attr.color")])
def test_a_selected_facet_value_counts_the_total(client, q, field, mode):
    # Facets ignore their own filter, so the selected value's count is the number of results. (Not so for
    # a category: its filter admits the categories the store files with it, its facet value counts one.)
    body = _page(client, "GET", q, 10, 0, mode=mode)
    facet = next(f for f in body["facets"] if f["field"] == field)
    selected = [v for v in facet["values"] if v["selected"]]
    assert selected and all(v["count"] == body["total"] for v in selected)


def test_picking_a_facet_value_gives_the_total_it_counted(client):
    body = _page(client, "GET", "waterproof jacket", 10, 0)
    colors = next(f for f in body["facets"] if f["field"] == "attr.color")
    for value in colors["values"][:3]:
        filters = [*body["applied_filters"], {"field": "attr.color", "values": [value["value"]], "op": "in"}]
        picked = _page(client, "POST", "waterproof jacket", 10, 0, filters=filters)
        assert picked["total"] == value["count"], value


def test_deepest_offset_is_an_empty_page_and_past_it_is_422(client):
    total = _page(client, "GET", "", 10, 0)["total"]
    for offset in (total, total + 1, MAX_OFFSET):
        body = _page(client, "GET", "", MAX_LIMIT, offset)
        assert body["results"] == [] and body["total"] == total
    for method in ("GET", "POST"):
        params = {"q": "hoodie", "offset": MAX_OFFSET + 1}
        response = (client.get("/v1/stores/demo/search", params=params) if method == "GET"
                    else client.post("/v1/stores/demo/search", json=params))
        assert response.status_code == 422
        assert response.json()["error"]["code"] and "offset" in response.json()["error"]["message"]


@pytest.mark.parametrize("start", ["", None])  # after the storefront's opening browse, or as the first turn
@pytest.mark.parametrize("q", ["jacket", "black hoodie for men", "water bottle under 30"])
def test_paging_a_session_with_empty_turns_is_one_order(client, q: str, start: str | None) -> None:
    # The storefront pages by sending the session id and an empty q: the same search, the next page.
    session = _page(client, "POST", start, 24, 0)["session_id"] if start is not None else None
    first = _page(client, "POST", q, 24, 0, **({"session_id": session} if session else {}))
    ids, offset, body = [], 0, first
    while body["results"]:
        assert body["applied_filters"] == first["applied_filters"] and body["total"] == first["total"]
        ids += [r["product_id"] for r in body["results"]]
        offset += 24
        body = _page(client, "POST", "", 24, offset, session_id=first["session_id"])
    assert len(ids) == len(set(ids)) == first["total"]  # every product once: no page repeats another
