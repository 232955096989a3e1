"""Over HTTP a client names only photo URLs, photos uploaded to its store, and images the product already has:
never another file on the server (the server reads a product's local images and serves them to browsers)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from search_api.routes.photos import uploads_dir
from search_api.routes.products import foreign_image
from tests.keys import authorize
from tests.unit.search_api.routes.test_sell_routes import StubExtractor, png


@pytest.fixture
def client(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path / "home", DATABASE_URL=None, CELERY_BROKER_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    imported = tmp_path / "import" / "tee.jpg"
    imported.parent.mkdir()
    imported.write_bytes(png())
    catalog.upsert_products([Product(store="shop", product_id="p0", title="Tee", images=[str(imported)])])
    runtime = SimpleNamespace(settings=settings, catalog=catalog, extractor=StubExtractor())
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    with authorize(TestClient(app), catalog) as c:
        c.runtime, c.imported = runtime, str(imported)
        yield c
    catalog.close()


def test_foreign_image_rule(tmp_path) -> None:
    uploads = tmp_path / "uploads" / "shop"
    assert foreign_image(["https://cdn.example.com/a.jpg", str(uploads / "ab.jpg")], own=[], uploads=uploads) is None
    assert foreign_image(["/srv/a.jpg"], own=["/srv/a.jpg"], uploads=uploads) is None
    assert foreign_image(["/etc/passwd"], own=[], uploads=uploads) == "/etc/passwd"
    assert foreign_image([str(uploads / ".." / "other" / "ab.jpg")], own=[], uploads=uploads) is not None
    assert foreign_image(["file:///etc/passwd"], own=[], uploads=uploads) == "file:///etc/passwd"


@pytest.mark.parametrize("image", ["/etc/passwd", "../../etc/hosts", "relative.jpg"])
def test_put_refuses_a_server_path_and_stores_nothing(client, image) -> None:
    before = client.runtime.catalog.get_product("shop", "p0")
    response = client.put("/v1/stores/shop/products/p0", json={"title": "Tee", "images": [image]})
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_image_ref"
    assert client.runtime.catalog.get_product("shop", "p0") == before
    assert client.put("/v1/stores/shop/products/new", json={"images": [image]}).status_code == 422
    assert client.runtime.catalog.get_product("shop", "new") is None


def test_put_keeps_the_products_own_images_and_takes_uploads(client) -> None:
    kept = client.put("/v1/stores/shop/products/p0", json={"title": "Tee, renamed", "images": [client.imported]})
    assert kept.status_code == 202, kept.text
    ref = client.post("/v1/stores/shop/photos", files=[("images", ("a.png", png(), "image/png"))]).json()
    ref = ref["photos"][0]["ref"]
    assert ref.startswith(str(uploads_dir(client.runtime.settings.catalog_home, "shop")))
    assert client.put("/v1/stores/shop/products/p1", json={"images": [ref]}).status_code == 202
    # Another store's upload is not this store's photo.
    assert client.put("/v1/stores/other/products/p1", json={"images": [ref]}).status_code == 422
