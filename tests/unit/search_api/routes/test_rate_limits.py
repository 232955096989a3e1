"""Rate limits end to end: real keys in a real catalog store, through the app's auth and limiter (in process,
and in Redis shared by two apps as by two server processes)."""

from __future__ import annotations

import os
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from tests.keys import bearer, store_key
from tests.required import require_redis

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
PRODUCT = "/v1/stores/shop/products/p1"  # a write-scope read: the catalog store is all it needs
PHOTO = "/v1/stores/shop/products/p1/images/0"  # a search-scope read, public when the store's search is


@pytest.fixture(autouse=True)
def no_pause(monkeypatch):
    """Each 429 is paused up to 1 s (ratelimit.HOLD_S): not in these tests but the one about the pause."""
    from search_api import ratelimit

    monkeypatch.setattr(ratelimit, "HOLD_S", 0.0)


@pytest.fixture
def catalog(tmp_path):
    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.upsert_products([Product(store="shop", product_id="p1", title="Black cotton hoodie")])
    yield catalog
    catalog.close()


def make_app(tmp_path, catalog, **limits):
    limits = {"REDIS_URL": None, **limits}  # in process unless the test names a Redis
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None, **limits)
    runtime = SimpleNamespace(settings=settings, catalog=catalog)
    app = create_app(runtime=runtime)
    app.state.runtime = runtime  # what the lifespan sets; these clients run none (no engines here)
    app.dependency_overrides[get_settings] = lambda: settings
    return app


def statuses(client, path: str, n: int, headers=None) -> list[int]:
    return [client.get(path, headers=headers).status_code for _ in range(n)]


def test_a_key_over_its_own_rate_gets_429_with_retry_after_and_another_key_does_not(tmp_path, catalog):
    client = TestClient(make_app(tmp_path, catalog))
    slow = bearer(store_key(catalog, "shop", "write", rate="3/min"))
    other = bearer(store_key(catalog, "shop", "write", rate="3/min"))
    assert statuses(client, PRODUCT, 3, slow) == [200, 200, 200]
    refused = client.get(PRODUCT, headers=slow)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited" and "3/min" in refused.json()["error"]["message"]
    assert refused.headers["Retry-After"] == "20"  # a token comes back every 60 s / 3
    assert statuses(client, PRODUCT, 3, other) == [200, 200, 200]  # its own bucket


def test_a_key_without_a_rate_gets_the_default(tmp_path, catalog):
    client = TestClient(make_app(tmp_path, catalog, RATE_LIMIT_DEFAULT="2/h"))
    key = bearer(store_key(catalog, "shop", "write"))
    assert statuses(client, PRODUCT, 2, key) == [200, 200]
    refused = client.get(PRODUCT, headers=key)
    assert refused.status_code == 429 and refused.headers["Retry-After"] == "1800"


def test_public_search_is_limited_per_client_address(tmp_path, catalog):
    catalog.set_public_search("shop", True)
    app = make_app(tmp_path, catalog, RATE_LIMIT_PUBLIC="2/min")
    here, there = TestClient(app, client=("10.0.0.1", 5000)), TestClient(app, client=("10.0.0.2", 5000))
    # No key: the public principal of that address (the product has no photo: 404 once charged).
    assert statuses(here, PHOTO, 3) == [404, 404, 429]
    assert statuses(there, PHOTO, 2) == [404, 404]  # another address has its own bucket
    keyed = bearer(store_key(catalog, "shop", "search"))
    assert statuses(here, PHOTO, 2, keyed) == [404, 404]  # a key is charged as itself, not as the address


def test_a_refused_request_changes_nothing(tmp_path, catalog):
    client = TestClient(make_app(tmp_path, catalog))
    key = bearer(store_key(catalog, "shop", "write", rate="1/h"))
    assert client.get(PRODUCT, headers=key).status_code == 200
    refused = client.put(PRODUCT, headers=key, json={"title": "Renamed"})
    assert refused.status_code == 429
    assert catalog.get_product("shop", "p1").title == "Black cotton hoodie"


@pytest.fixture
def redis_up():
    client = require_redis(REDIS_URL)
    yield
    client.close()


def test_with_redis_two_servers_share_a_keys_bucket(tmp_path, catalog, redis_up):
    import redis

    from search_api.ratelimit import REDIS_PREFIX

    one, two = (TestClient(make_app(tmp_path, catalog, REDIS_URL=REDIS_URL)) for _ in range(2))
    key = store_key(catalog, "shop", "write", rate="3/min")
    assert statuses(one, PRODUCT, 2, bearer(key)) + statuses(two, PRODUCT, 2, bearer(key)) == [200, 200, 200, 429]
    stored = redis.Redis.from_url(REDIS_URL)
    bucket = f"{REDIS_PREFIX}key:{key.split('_')[1]}"  # ck_<id>_<secret>: a fresh id, so a fresh bucket
    assert 0 < stored.pttl(bucket) <= 61_000  # it expires once it would be full again
    stored.delete(bucket)
    stored.close()


def test_a_refused_key_is_answered_early_after_a_pause_then_checked_again(tmp_path, catalog, monkeypatch):
    import time

    from search_api import ratelimit

    monkeypatch.setattr(ratelimit, "HOLD_S", 0.2)
    app = make_app(tmp_path, catalog)
    client = TestClient(app)
    key = store_key(catalog, "shop", "write", rate="1/min")
    assert client.get(PRODUCT, headers=bearer(key)).status_code == 200
    started = time.perf_counter()
    assert client.get(PRODUCT, headers=bearer(key)).status_code == 429
    assert time.perf_counter() - started >= 0.2  # the first refusal is paused as well
    catalog.revoke_key(key.split("_")[1])
    app.state.key_book = None  # forget the 2 s key cache: only the early refusal stands in the way now
    started = time.perf_counter()
    early = client.get(PRODUCT, headers=bearer(key))
    assert time.perf_counter() - started >= 0.2  # held: a client that retries at once sends less
    assert early.status_code == 429 and early.json()["error"]["code"] == "rate_limited"
    assert 50 <= int(early.headers["Retry-After"]) <= 60
    app.state.rate_limiter.refusals = type(app.state.rate_limiter.refusals)()  # past RECHECK_S
    assert client.get(PRODUCT, headers=bearer(key)).status_code == 401  # the full path sees the revocation
