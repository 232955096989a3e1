"""Close matches over the real fixture catalog and engines: when the results end inside a page, products just
outside the filters fill the rest of it, apart from the results, never counted, never given up for an
exclusion, and only on the page where the results end."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from tests.keys import authorize

# Queries whose filters admit fewer than a page of the fixture (the first test checks that they do).
SHORT = ("brown hoodie", "white mens t-shirt", "orange tee")


@pytest.fixture(scope="module")
def client(demo_runtime):
    with authorize(TestClient(create_app(runtime=demo_runtime)), demo_runtime.catalog) as c:
        yield c


def _search(client, q: str, limit: int = 10, offset: int = 0, **extra) -> dict:
    response = client.get("/v1/stores/demo/search", params={"q": q, "limit": limit, "offset": offset, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def _ids(results: list[dict]) -> list[str]:
    return [r["product_id"] for r in results]


@pytest.mark.parametrize("q", SHORT)
def test_a_short_page_is_filled_with_close_matches_apart_from_the_results(client, q):
    body = _search(client, q)
    results, close = _ids(body["results"]), _ids(body["close_matches"])
    assert 0 < body["total"] == len(results) < 10, (q, body["total"])
    assert close and len(results) + len(close) == 10
    assert not set(results) & set(close) and len(set(close)) == len(close)
    given_up = {f["id"] for f in body["close_match_filters"]}
    applied = {f["id"]: f for f in body["applied_filters"]}
    assert given_up and given_up <= set(applied)
    assert all(r["image_url"] for r in body["close_matches"] if r["image"])
    # The results, total and facets are what they are without them.
    lexical_free = _search(client, q, limit=body["total"])
    assert _ids(lexical_free["results"]) == results and lexical_free["close_matches"] == []
    assert lexical_free["facets"] == body["facets"]


@pytest.mark.parametrize("q", SHORT)
def test_close_matches_come_only_on_the_page_where_the_results_end(client, q):
    total = _search(client, q)["total"]
    seen, offset = [], 0
    while True:
        body = _search(client, q, limit=2, offset=offset)
        if not body["results"]:
            assert body["close_matches"] == []  # past the end: no page of close matches alone
            break
        seen += _ids(body["results"])
        last = offset + 2 >= total
        assert bool(body["close_matches"]) == (last and len(body["results"]) < 2), (q, offset, total)
        offset += 2
    assert len(seen) == len(set(seen)) == total


def test_a_full_page_has_no_close_matches(client):
    body = _search(client, "women")
    assert body["total"] > 10 and body["close_matches"] == [] and body["close_match_filters"] == []


def test_an_exclusion_is_never_given_up(client, demo_runtime):
    body = _search(client, "brown hoodie not black")
    excluded = [f for f in body["applied_filters"] if f["negated"]]
    assert [f["values"] for f in excluded] == [["color__black"]], body["applied_filters"]
    assert body["close_matches"] and not any(f["negated"] for f in body["close_match_filters"])
    docs = demo_runtime.search.documents.get_many("demo", _ids(body["close_matches"]))
    assert not [pid for pid, doc in docs.items() if "color__black" in doc.attribute_values("color")]


def test_the_session_keeps_the_filters_not_the_close_matches(client):
    first = _search(client, "brown hoodie")
    follow = _search(client, "under 500", session_id=first["session_id"])
    # The next turn refines the filters the results matched, not the ones the close matches gave up.
    assert {f["id"] for f in first["applied_filters"]} < {f["id"] for f in follow["applied_filters"]}
    assert _ids(follow["results"]) == _ids(first["results"]) and follow["relaxed_filters"] == []
