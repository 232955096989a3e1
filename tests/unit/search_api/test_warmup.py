"""`catalog serve` warms up before it is ready: /healthz answers at once, /readyz is 503 and names what is still
loading until every model is loaded and has run once, then 200; the real warm-up covers every model."""

from __future__ import annotations

import sys
import threading
import time
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from search_api.warmup import Step, WarmUp
from tests.keys import authorize


def wait_for(predicate, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.01)


def test_steps_run_in_order_and_loading_names_those_left():
    gate, ran = threading.Event(), []
    warm = WarmUp([Step("first", lambda: ran.append("first")), Step("blocked", gate.wait),
                   Step("last", lambda: ran.append("last"))])
    assert warm.loading() == ["first", "blocked", "last"] and warm.check() == "loading"
    warm.start()
    wait_for(lambda: warm.loading() == ["blocked", "last"])
    assert ran == ["first"] and warm.check() == "loading"
    gate.set()
    assert warm.wait(5)
    assert ran == ["first", "last"] and warm.loading() == [] and warm.check() == "ok"
    assert set(warm.timings_ms()) == {"first", "blocked", "last"}


def test_a_failed_required_step_keeps_the_server_unready_and_an_optional_one_does_not():
    def broken() -> None:
        raise RuntimeError("weights missing")

    warm = WarmUp([Step("store a", broken, required=False), Step("image classifier", broken),
                   Step("never", lambda: None)])
    warm.run()
    assert warm.check() == "error: image classifier: RuntimeError: weights missing"
    assert warm.loading() == ["never"]  # not run: it may rely on the failed one

    optional = WarmUp([Step("store a", broken, required=False), Step("text embedder", lambda: None)])
    optional.run()
    assert optional.check() == "ok" and optional.loading() == []


def test_duplicate_step_names_are_refused():
    with pytest.raises(ValueError):
        WarmUp([Step("a", lambda: None), Step("a", lambda: None)])


def fake_runtime(settings: Settings, gates: dict[str, threading.Event]) -> SimpleNamespace:
    """What /readyz and the lifespan touch of a runtime; each warm-up step waits on its gate."""
    engines = SimpleNamespace(lexical=SimpleNamespace(stores=lambda: set()),
                              vector=SimpleNamespace(count=lambda store: 0))
    return SimpleNamespace(settings=settings, catalog=CatalogStore.open(settings.sqlalchemy_url), extractor=None,
                           engines=engines, sync=SimpleNamespace(pending=lambda: 0),
                           warm_up_steps=lambda: [Step(name, gate.wait) for name, gate in gates.items()],
                           start_sync_loop=lambda after=None: None, close=lambda: None)


def test_readyz_is_503_and_names_what_is_loading_until_the_warm_up_is_done(tmp_path, monkeypatch):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None)
    gates = {"text embedder": threading.Event(), "image classifier": threading.Event()}
    runtime = fake_runtime(settings, gates)
    monkeypatch.setattr("search_api.runtime.build_runtime", lambda: runtime)
    app = create_app()  # owned: the runtime's warm-up runs in the background
    app.dependency_overrides[get_settings] = lambda: settings
    try:
        with TestClient(app) as client:
            assert client.get("/healthz").json() == {"status": "ok"}  # at once, while the models load
            response = client.get("/readyz")
            assert response.status_code == 503
            body = response.json()
            assert body["ready"] is False and body["loading"] == ["text embedder", "image classifier"]
            assert body["checks"]["warm_up"] == "loading" and body["checks"]["store"] == "ok"

            gates["text embedder"].set()
            wait_for(lambda: client.get("/readyz").json()["loading"] == ["image classifier"])
            assert client.get("/readyz").status_code == 503

            gates["image classifier"].set()
            wait_for(lambda: client.get("/readyz").status_code == 200)
            body = client.get("/readyz").json()
            assert body["ready"] is True and body["loading"] == [] and body["checks"]["warm_up"] == "ok"
            assert set(body["warm_up_ms"]) == {"text embedder", "image classifier"}
    finally:
        for gate in gates.values():
            gate.set()
        runtime.catalog.close()


def test_a_runtime_handed_in_is_not_warmed_here_and_readyz_says_nothing_loads(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None)
    runtime = fake_runtime(settings, {})
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    with TestClient(app) as client:
        body = client.get("/readyz").json()
    runtime.catalog.close()
    assert body["ready"] is True and body["loading"] == [] and "warm_up" not in body["checks"]


def test_the_real_warm_up_loads_and_runs_every_model(tmp_path):
    """The steps `catalog serve` runs, on a small real catalog: each model ends loaded, and a first listing
    after them loads nothing more."""
    from extractor.local import category as category_mod
    from extractor.local import imagenet, safety
    from extractor.local.warmup import sample_photo
    from indexer.importers import fixture_path, read_products
    from search_api.runtime import build_runtime

    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None, CELERY_BROKER_URL=None, REDIS_URL=None,
                        ELASTICSEARCH_URL=None, QDRANT_URL=None, EXTRACTOR_BACKEND="local")
    products = list(read_products("demo", fixture_path()))[:3]
    runtime = build_runtime(settings)
    try:
        runtime.catalog.upsert_products(products)  # logged, not yet applied: the warm-up's sync applies it
        steps = runtime.warm_up_steps()
        assert [s.name for s in steps] == ["text embedder", "extractor", "category index", "image classifier",
                                           "nudity detector", "listing extraction", "route modules", "index sync",
                                           "store demo"]
        warm = WarmUp(steps)
        warm.run()
        assert warm.check() == "ok", warm.check()
        assert runtime.sync.pending() == 0 and "demo" in runtime.engines.lexical.stores()
        assert imagenet._model is not None and safety._model is not None and category_mod._indexes
        assert runtime.search.rank("demo", "yoga", mode="hybrid")
        with authorize(TestClient(create_app(runtime=runtime)), runtime.catalog) as client:
            before = set(sys.modules)
            response = client.post("/v1/stores/demo/suggest", data={"title": "Hero Hoodie"},
                                   files=[("images", ("p.jpg", sample_photo(), "image/jpeg"))])
            assert response.status_code == 200, response.text
            assert client.get("/v1/stores/demo/search", params={"q": "red hoodie"}).status_code == 200
            assert set(sys.modules) - before == set()  # the first requests import nothing more
    finally:
        runtime.close()
