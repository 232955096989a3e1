"""Store API keys on every route, over a real catalog store and real embedded engines: 401 without a valid
key, 403 for another store or a missing scope, the same answers for a store that does not exist, public
search, expiry and revocation, keys hashed at rest, and two stores that never see each other's data.

Every route of the app's OpenAPI schema must be in SCOPE_OF or PUBLIC: a new route without a decision on
its scope fails here."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer.models import Product
from indexer.realtime import extract_batch
from indexer.reindex import start_reindex
from indexer.settings import Settings, get_settings
from indexer.store import schema
from indexer.store.types import utcnow
from search_api.app import create_app
from taxonomy import Taxonomy
from tests.keys import bearer, store_key

ADMIN = "platform-admin-key-for-tests"
TEES = "aa-1-13-8"

# Which scope each route needs; the store in the path is the one the key must open.
SCOPE_OF = {
    ("GET", "/v1/stores/{store}/search"): "search",
    ("POST", "/v1/stores/{store}/search"): "search",
    ("GET", "/v1/stores/{store}/products/{product_id}/images/{n}"): "search",
    ("POST", "/v1/stores/{store}/suggest"): "suggest",
    ("POST", "/v1/stores/{store}/photos"): "suggest",
    ("GET", "/v1/stores/{store}/feedback/acceptance"): "suggest",
    ("PUT", "/v1/stores/{store}/products/{product_id}"): "write",
    ("GET", "/v1/stores/{store}/products/{product_id}"): "write",
    ("DELETE", "/v1/stores/{store}/products/{product_id}"): "write",
    ("GET", "/v1/stores/{store}/review"): "write",
    ("POST", "/v1/stores/{store}/review/decisions"): "write",
    ("POST", "/v1/stores/{store}/feedback"): "write",
    ("POST", "/v1/stores/{store}/reindex"): "admin",
    ("GET", "/v1/jobs/{job_id}"): "admin",
    ("POST", "/v1/keys"): "admin",
    ("GET", "/v1/keys"): "admin",
    ("DELETE", "/v1/keys/{key_id}"): "admin",
}
# Public on purpose: liveness and metrics, and the taxonomy (the Shopify taxonomy shipped with the code: no
# store's data passes through it, and no store is named to check a key against).
PUBLIC = {("GET", "/healthz"), ("GET", "/readyz"), ("GET", "/metrics"), ("GET", "/v1/taxonomy/categories"),
          ("GET", "/v1/taxonomy/categories/{category_id}/attributes"), ("GET", "/v1/taxonomy/attributes/{handle}")}
OTHER_SCOPE = {"search": "write", "suggest": "search", "write": "suggest", "admin": "write"}


class TeeExtractor:
    """Every product a T-shirt in blue, read from its photo (so each one has review proposals)."""

    name, version = "tees", "1"

    def extract(self, products):
        taxonomy = Taxonomy.load()
        blue, tees = taxonomy.value("color__blue"), taxonomy.category(TEES)
        return [Extraction(category=CategoryGuess(id=tees.id, name=tees.name, full_name=tees.full_name,
                                                  confidence=0.7),
                           attributes=[ExtractedAttribute(handle="color", name="Color", values=[
                               ExtractedValue(value=blue.handle, value_id=blue.id, name=blue.name, confidence=0.9,
                                              source="image")])],
                           extractor=self.name, extractor_version=self.version, taxonomy_version=taxonomy.version)
                for _ in products]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (48, 48), (20, 40, 200)).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """Stores `shop` and `rival`, each with products (a photo each), extractions, a review queue and a job."""
    from search_api.runtime import build_runtime

    home = tmp_path_factory.mktemp("keys-home")
    settings = Settings(CATALOG_HOME=home, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, CATALOG_ADMIN_KEY=ADMIN)
    runtime = build_runtime(settings)
    runtime._extractor = TeeExtractor()
    photo = home / "tee.png"
    photo.write_bytes(png())
    catalog = runtime.catalog
    catalog.upsert_products(
        [Product(store="shop", product_id=f"s{i}", title=f"Shop cotton tee {i}", images=[str(photo)])
         for i in range(3)] +
        [Product(store="rival", product_id=f"r{i}", title=f"Rival linen tee {i}", images=[str(photo)])
         for i in range(4)])
    for store in ("shop", "rival"):
        extract_batch(catalog, runtime.extractor, store, catalog.product_ids(store))
    runtime.catch_up()
    runtime.jobs = {store: start_reindex(catalog, store)[0].id for store in ("shop", "rival")}
    yield runtime
    runtime.close()


@pytest.fixture
def client(served):
    app = create_app(runtime=served)
    app.dependency_overrides[get_settings] = lambda: served.settings
    with TestClient(app) as c:
        c.runtime = served
        yield c


def key(client, store: str, *scopes: str, **options) -> dict:
    return bearer(store_key(client.runtime.catalog, store, *scopes, **options))


def url(client, path: str, store: str = "shop", product_id: str = "nothing-here") -> str:
    """The route's path with its parameters filled (a product that does not exist: no request changes data)."""
    return path.format(store=store, product_id=product_id, n=0, job_id=client.runtime.jobs.get(store, "x"),
                       key_id="0" * 12)


def call(client, method: str, path: str, headers: dict | None = None, **kwargs):
    return client.request(method, path, headers=headers or {}, **kwargs)


def assert_error(response, status: int, code: str) -> None:
    assert response.status_code == status, (response.status_code, response.text)
    body = response.json()
    assert set(body) == {"error"} and body["error"]["code"] == code and body["error"]["message"]


# ------------------------------------------------------------------ every route has a scope
def test_every_route_of_the_schema_has_a_scope_or_is_public_on_purpose(client):
    routes = {(method.upper(), path) for path, item in client.get("/openapi.json").json()["paths"].items()
              for method in item}
    assert routes - set(SCOPE_OF) - PUBLIC == set(), "a route without a scope: add it to SCOPE_OF or PUBLIC"
    assert set(SCOPE_OF) | PUBLIC == routes


def test_routes_outside_the_schema_are_only_the_pages_and_static_files(client):
    from starlette.routing import Mount

    paths = set()
    stack = list(client.app.routes)
    while stack:
        route = stack.pop()
        if isinstance(route, Mount):
            paths.add(route.path)
        elif hasattr(route, "path"):
            if not getattr(route, "include_in_schema", True):
                paths.add(route.path)
        else:
            stack.extend(getattr(route, "routes", None) or getattr(getattr(route, "router", None), "routes", []))
    assert paths <= {"/", "/sell", "/review", "/favicon.ico", "/static", "/docs", "/docs/oauth2-redirect",
                     "/redoc", "/openapi.json"}


ROUTES = sorted(SCOPE_OF.items())


@pytest.mark.parametrize(("route", "scope"), ROUTES, ids=[f"{m} {p}" for (m, p), _ in ROUTES])
def test_each_route_is_401_without_a_valid_key_and_403_without_its_store_or_scope(client, route, scope):
    method, path = route
    target = url(client, path)
    for headers in ({}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic dXNlcjpwYXNz"},
                    bearer("ck_0123456789ab_" + "0" * 48), bearer(ADMIN + "x")):
        assert_error(call(client, method, target, headers), 401, "unauthorized")
    # A key of its store with another scope (admin implies every scope, so never admin here).
    assert_error(call(client, method, target, key(client, "shop", OTHER_SCOPE[scope])), 403, "forbidden")
    if "{store}" in path:
        # Store isolation: the other store's admin key opens nothing here, and a store that does not
        # exist answers exactly as one that does.
        rival = key(client, "rival", "admin")
        here = call(client, method, target, rival)
        assert_error(here, 403, "forbidden")
        nowhere = call(client, method, url(client, path, store="nowhere"), rival)
        assert nowhere.status_code == 403
        assert nowhere.json()["error"]["message"] == here.json()["error"]["message"].replace("'shop'", "'nowhere'")
        unknown_anonymous = call(client, method, url(client, path, store="nowhere"))
        assert unknown_anonymous.json() == call(client, method, target).json()
    for allowed in (key(client, "shop", scope), key(client, "shop", "admin"), key(client, "*", scope),
                    bearer(ADMIN)):
        response = call(client, method, target, allowed)
        assert response.status_code not in (401, 403), (allowed, response.text)


# ------------------------------------------------------------------ two stores never meet
def test_a_key_of_one_store_never_reads_counts_or_searches_the_other(client):
    shop = key(client, "shop", "search")
    body = client.post("/v1/stores/shop/search", json={"q": "", "limit": 50}, headers=shop).json()
    assert body["total"] == 3 and {r["product_id"] for r in body["results"]} == {"s0", "s1", "s2"}
    counts = [sum(v["count"] for v in f["values"]) for f in body["facets"] if f["field"] == "attr.color"]
    assert counts == [3]  # the facet counts shop's products only (rival has 4 more blue tees)
    words = client.get("/v1/stores/shop/search", params={"q": "rival linen"}, headers=shop).json()
    assert {r["product_id"] for r in words["results"]} <= {"s0", "s1", "s2"}
    # A session started in the rival store carries nothing of it into shop's search.
    rival = key(client, "rival", "search")
    blue = {"q": "", "filters": [{"field": "attr.color", "op": "in", "values": ["color__blue"]}]}
    session = client.post("/v1/stores/rival/search", json=blue, headers=rival).json()["session_id"]
    follow = client.post("/v1/stores/shop/search", json={"q": "", "session_id": session}, headers=shop).json()
    assert follow["applied_filters"] == [] and follow["total"] == 3
    # ... and shop's search got a session of its own: the rival's conversation goes on untouched.
    assert follow["session_id"] != session
    again = client.post("/v1/stores/rival/search", json={"q": "", "session_id": session}, headers=rival).json()
    assert [f["values"] for f in again["applied_filters"]] == [["color__blue"]]
    # Product reads and photos: a rival product id under shop's path is no product.
    write = key(client, "shop", "write")
    assert_error(client.get("/v1/stores/shop/products/r0", headers=write), 404, "unknown_product")
    assert client.get("/v1/stores/shop/products/r0/images/0", headers=shop).status_code == 404
    assert client.get("/v1/stores/shop/products/s0/images/0", headers=shop).status_code == 200


def test_review_queue_jobs_photos_and_keys_stay_within_their_store(client):
    catalog = client.runtime.catalog
    shop = key(client, "shop", "admin")
    queue = client.get("/v1/stores/shop/review", headers=shop).json()
    assert queue["total"] > 0 and {p["product_id"] for p in queue["proposals"]} <= {"s0", "s1", "s2"}
    rival_before = len(catalog.review_decisions("rival"))
    decided = client.post("/v1/stores/shop/review/decisions", headers=shop, json={
        "decision": "reject", "product_id": "r0", "attribute": "color", "value": "color__blue"})
    assert_error(decided, 404, "no_proposals")
    assert len(catalog.review_decisions("rival")) == rival_before
    # Jobs: the other store's job is answered as no job at all.
    theirs = client.get(f"/v1/jobs/{client.runtime.jobs['rival']}", headers=shop)
    assert_error(theirs, 404, "unknown_job")
    assert theirs.json()["error"]["message"].startswith("no job")
    assert client.get(f"/v1/jobs/{client.runtime.jobs['shop']}", headers=shop).json()["store"] == "shop"
    # Photos uploaded to the rival store cannot be named by a shop product.
    rival = key(client, "rival", "admin")
    ref = client.post("/v1/stores/rival/photos", headers=rival,
                      files=[("images", ("a.png", png(), "image/png"))]).json()["photos"][0]["ref"]
    refused = client.put("/v1/stores/shop/products/new", headers=shop, json={"title": "Tee", "images": [ref]})
    assert_error(refused, 422, "invalid_image_ref")
    assert catalog.get_product("shop", "new") is None
    # Keys: a store admin sees and manages its own store's keys only, and makes no platform key.
    theirs = store_key(catalog, "rival", "search")
    listed = client.get("/v1/keys", headers=shop).json()["keys"]
    assert listed and {k["store"] for k in listed} == {"shop"}
    assert_error(client.get("/v1/keys", params={"store": "rival"}, headers=shop), 403, "forbidden")
    assert_error(client.delete(f"/v1/keys/{theirs[3:15]}", headers=shop), 404, "unknown_key")
    assert client.get("/v1/stores/rival/search", headers=bearer(theirs)).status_code == 200
    for store in ("rival", "*"):
        made = client.post("/v1/keys", headers=shop, json={"store": store, "scopes": ["search"]})
        assert_error(made, 403, "forbidden")


# ------------------------------------------------------------------ public search
def test_public_search_needs_no_key_and_opens_nothing_else(client):
    catalog = client.runtime.catalog
    assert_error(client.get("/v1/stores/shop/search"), 401, "unauthorized")
    assert catalog.set_public_search("shop", True)
    try:
        fresh = create_app(runtime=client.runtime)  # a new app: no cached answer of the private store
        fresh.dependency_overrides[get_settings] = lambda: client.runtime.settings
        with TestClient(fresh) as anonymous:
            assert anonymous.get("/v1/stores/shop/search", params={"q": "tee"}).json()["total"] == 3
            assert anonymous.get("/v1/stores/shop/products/s0/images/0").status_code == 200
            for method, path in SCOPE_OF:
                if SCOPE_OF[(method, path)] != "search":
                    assert_error(call(anonymous, method, url(client, path)), 401, "unauthorized")
            assert_error(anonymous.get("/v1/stores/rival/search"), 401, "unauthorized")
            # A bad key is not taken for no key; a valid one without the search scope is no worse than none.
            assert_error(anonymous.get("/v1/stores/shop/search", headers=bearer("ck_bad")), 401, "unauthorized")
            for other in (key(client, "shop", "write"), key(client, "rival", "search")):
                assert anonymous.get("/v1/stores/shop/search", headers=other).status_code == 200
                assert_error(anonymous.get("/v1/stores/rival/search", headers=key(client, "shop", "write")),
                             403, "forbidden")
    finally:
        catalog.set_public_search("shop", False)


# ------------------------------------------------------------------ expiry, revocation, last use
def test_an_expired_key_is_401(client):
    record, expired = client.runtime.catalog.create_key("shop", frozenset({"search"}), name="old",
                                                        expires_at=utcnow().replace(year=2020))
    response = client.get("/v1/stores/shop/search", headers=bearer(expired))
    assert_error(response, 401, "unauthorized")
    assert response.json()["error"]["message"] == f"API key {record.id} is expired"
    made = client.post("/v1/keys", headers=bearer(ADMIN), json={"store": "shop", "scopes": ["search"],
                                                               "expires": "1h"}).json()
    assert client.get("/v1/stores/shop/search", headers=bearer(made["key"])).status_code == 200
    assert made["expires_at"] is not None


def test_a_key_revoked_elsewhere_stops_working_within_five_seconds(client):
    catalog = client.runtime.catalog
    fresh = store_key(catalog, "shop", "search")
    assert client.get("/v1/stores/shop/search", headers=bearer(fresh)).status_code == 200  # now cached
    catalog.revoke_key(fresh[3:15])  # as `catalog keys revoke` does, from another process
    started = time.monotonic()
    while client.get("/v1/stores/shop/search", headers=bearer(fresh)).status_code == 200:
        assert time.monotonic() - started < 5, "still accepted 5 s after its revocation"
        time.sleep(0.1)
    assert_error(client.get("/v1/stores/shop/search", headers=bearer(fresh)), 401, "unauthorized")


def test_keys_over_http_create_list_and_revoke_at_once(client):
    admin = bearer(ADMIN)
    made = client.post("/v1/keys", headers=admin, json={"store": "shop", "scopes": ["write", "suggest"],
                                                       "name": "pos", "rate": "20/s"})
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["key"].startswith(f"ck_{body['id']}_") and body["scopes"] == ["suggest", "write"]
    assert (body["rate"], body["state"], body["name"]) == ("20/s", "active", "pos")
    new = bearer(body["key"])
    assert client.get("/v1/stores/shop/products/s0", headers=new).status_code == 200
    listed = client.get("/v1/keys", params={"store": "shop"}, headers=admin).json()["keys"]
    mine = next(k for k in listed if k["id"] == body["id"])
    assert "key" not in mine and "key_hash" not in mine and body["key"] not in made.request.url.query.decode()
    revoked = client.delete(f"/v1/keys/{body['id']}", headers=admin).json()
    assert revoked["state"] == "revoked" and revoked["revoked_at"]
    assert_error(client.get("/v1/stores/shop/products/s0", headers=new), 401, "unauthorized")
    for bad in ({"store": "shop", "scopes": ["everything"]}, {"store": "Bad Name", "scopes": ["search"]},
                {"store": "shop", "scopes": ["search"], "rate": "lots"},
                {"store": "shop", "scopes": ["search"], "expires": "forever"}):
        before = len(client.runtime.catalog.list_keys())
        assert_error(client.post("/v1/keys", headers=admin, json=bad), 422, "invalid_key_request")
        assert len(client.runtime.catalog.list_keys()) == before


def test_last_use_is_recorded_without_a_write_per_request(client):
    catalog = client.runtime.catalog
    fresh = store_key(catalog, "shop", "search")
    key_id = fresh[3:15]
    assert catalog.get_key(key_id).last_used_at is None
    client.get("/v1/stores/shop/search", headers=bearer(fresh))
    first = catalog.get_key(key_id).last_used_at
    assert first is not None
    for _ in range(5):
        client.get("/v1/stores/shop/search", headers=bearer(fresh))
    assert catalog.get_key(key_id).last_used_at == first  # throttled: at most one write a minute per key


# ------------------------------------------------------------------ hashed at rest
def test_keys_are_kept_only_as_a_hash(client):
    catalog = client.runtime.catalog
    fresh = store_key(catalog, "shop", "search")
    with catalog._read() as conn:
        row = conn.execute(select(schema.api_keys).where(schema.api_keys.c.id == fresh[3:15])).one()
    assert row.key_hash == hashlib.sha256(fresh.encode()).hexdigest()
    secret = fresh.rsplit("_", 1)[1]
    assert all(secret not in str(value) for value in row)
    database = client.runtime.settings.sqlalchemy_url.removeprefix("sqlite:///")
    for path in (database, database + "-wal"):
        if os.path.exists(path):
            assert secret.encode() not in open(path, "rb").read()


# ------------------------------------------------------------------ the command line
def test_catalog_keys_create_list_and_revoke(tmp_path):
    env = {**os.environ, "CATALOG_HOME": str(tmp_path), "DATABASE_URL": ""}

    def catalog(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([str(Path(sys.executable).parent / "catalog"), *args], env=env,
                              capture_output=True, text=True, timeout=120)

    made = catalog("keys", "create", "--store", "shop", "--scope", "write", "--scope", "suggest", "--name", "pos",
                   "--expires", "30d", "--rate", "20/s")
    assert made.returncode == 0, made.stderr
    new = made.stdout.strip().splitlines()[-1]
    assert new.startswith("ck_") and len(new) == 64
    listed = catalog("keys", "list", "--store", "shop")
    line = listed.stdout.strip()
    assert line.startswith(new[3:15]) and "scopes=suggest,write" in line and "name=pos" in line
    assert "last_used=never" in line and new not in listed.stdout and new[16:] not in listed.stdout
    assert catalog("keys", "create", "--store", "shop", "--scope", "root").returncode != 0
    assert catalog("stores", "set", "shop", "--public-search").returncode != 0  # no such store yet
    revoked = catalog("keys", "revoke", new[3:15])
    assert revoked.returncode == 0 and "revoked" in revoked.stdout
    assert catalog("keys", "revoke", "000000000000").returncode != 0


def test_catalog_demo_makes_demo_public_and_prints_a_fresh_merchant_key_in_its_links(tmp_path):
    from indexer.store import CatalogStore
    from search_api.cli_keys import demo_key

    with CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}") as catalog:
        catalog.upsert_products([Product(store="demo", product_id="p", title="Tee")])
        first = demo_key(catalog, "http://127.0.0.1:8000")
        printed = demo_key(catalog, "http://127.0.0.1:8000")  # a second `make demo`
        assert catalog.public_search("demo")
        key = printed.splitlines()[-1].rsplit(" ", 1)[1]
        assert f"http://127.0.0.1:8000/sell?store=demo#key={key}" in printed
        assert f"http://127.0.0.1:8000/review?store=demo#key={key}" in printed
        record = catalog.get_key(key[3:15])
        assert record.scopes == {"suggest", "write"} and record.store == "demo" and record.state(utcnow()) == "active"
        old = catalog.get_key(first.splitlines()[-1].rsplit(" ", 1)[1][3:15])
        assert old.state(utcnow()) == "revoked"  # only the key printed last opens the store
