"""The app the fuzz tests call in process: a copy of the session's demo catalog (real engines, 199 indexed
products), so what the fuzzing writes and deletes never reaches the catalog other tests read; a second
store, `other`, with a key of its own for the wrong-store cases; and the app's own OpenAPI schema."""

from __future__ import annotations

import shutil
from dataclasses import dataclass

import pytest

ADMIN_KEY = "fuzz-platform-admin-key"


@dataclass(frozen=True)
class FuzzKeys:
    demo_admin: str  # every scope on store demo
    demo_search: str  # search only, on demo
    other_admin: str  # every scope on store other: the wrong store for demo's routes
    platform: str  # CATALOG_ADMIN_KEY


@dataclass(frozen=True)
class FuzzApp:
    app: object
    runtime: object
    keys: FuzzKeys


@pytest.fixture(scope="session")
def fuzz_app(demo_settings, tmp_path_factory) -> FuzzApp:
    from indexer.models import Product
    from indexer.settings import get_settings
    from search_api.app import create_app
    from search_api.runtime import build_runtime

    home = tmp_path_factory.mktemp("fuzz") / "home"
    shutil.copytree(demo_settings.catalog_home, home, ignore=shutil.ignore_patterns("engines.lock"))
    # Rates high enough that the fuzzing reaches the routes (the limiter has tests of its own).
    settings = demo_settings.model_copy(update={"catalog_home": home, "catalog_admin_key": ADMIN_KEY,
                                                "rate_limit_default": "100000/s", "rate_limit_public": "100000/s"})
    runtime = build_runtime(settings)
    runtime.catalog.upsert_products([Product(store="other", product_id="o1", title="Red wool scarf")])
    runtime.sync.run_until_idle()
    runtime.catalog.set_public_search("demo", True)
    keys = FuzzKeys(demo_admin=runtime.catalog.create_key("demo", frozenset({"admin"}), name="fuzz")[1],
                    demo_search=runtime.catalog.create_key("demo", frozenset({"search"}), name="fuzz")[1],
                    other_admin=runtime.catalog.create_key("other", frozenset({"admin"}), name="fuzz")[1],
                    platform=ADMIN_KEY)
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    yield FuzzApp(app=app, runtime=runtime, keys=keys)
    runtime.close()


@pytest.fixture(scope="session")
def api_schema(fuzz_app):
    import schemathesis

    return schemathesis.openapi.from_asgi("/openapi.json", fuzz_app.app)

