"""GET /v1/stores/{store}/products/{product_id}/images/{n}: a product's own photos for a browser, and nothing else
(a real SQLite catalog store, real fixture photos, a real photo cache)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from indexer.importers import fixture_path
from indexer.models import Product
from indexer.photos.cache import PhotoCache
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from search_api.routes.product_images import image_url, ref_version
from tests.keys import authorize

PHOTO = fixture_path() / "images" / "m" / "h" / "mh07-gray_main.jpg"
REMOTE_CACHED = "https://shop.example/photos/hoodie.jpg"
REMOTE_MISSING = "https://shop.example/photos/not-fetched.jpg"


@pytest.fixture
def client(tmp_path):
    secret = tmp_path / "secret.jpg"  # a .jpg that is not an image: refused like any non-image file
    secret.write_text("password=hunter2\n")
    PhotoCache.in_home(tmp_path).put(REMOTE_CACHED, PHOTO.read_bytes(), {"content-type": "image/jpeg"})
    catalog = CatalogStore.open(f"sqlite:///{tmp_path / 'catalog.db'}")
    catalog.upsert_products([
        Product(store="shop", product_id="p1", title="Hoodie",
                images=[str(PHOTO), REMOTE_CACHED, REMOTE_MISSING, "/etc/passwd", str(secret),
                        "../../../../etc/hosts"]),
        Product(store="shop", product_id="a b&c", title="Odd id", images=[str(PHOTO)]),
        Product(store="other", product_id="p2", title="Other store's", images=[str(PHOTO)]),
    ])
    settings = Settings(CATALOG_HOME=tmp_path, DATABASE_URL=None)
    app = create_app(runtime=SimpleNamespace(catalog=catalog, settings=settings))
    app.state.runtime = SimpleNamespace(catalog=catalog, settings=settings)
    app.dependency_overrides[get_settings] = lambda: settings
    yield authorize(TestClient(app), catalog)  # no lifespan: the runtime is the stub above
    catalog.close()


def _get(client, product_id: str, n, **params):
    return client.get(f"/v1/stores/shop/products/{product_id}/images/{n}", params=params, follow_redirects=False)


def test_a_local_photo_of_the_product_streams_with_its_type_and_caching(client):
    response = _get(client, "p1", 0, v=ref_version(str(PHOTO)))
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/jpeg"
    assert response.content == PHOTO.read_bytes()
    assert response.headers["cache-control"] == "public, max-age=86400"
    assert response.headers["x-content-type-options"] == "nosniff"
    again = client.get("/v1/stores/shop/products/p1/images/0", headers={"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304 and not again.content
    # Without the version (or with an old one) the link may name another photo later: a short lifetime.
    assert _get(client, "p1", 0, v="0ld").headers["cache-control"] == "public, max-age=300"


def test_a_remote_photo_comes_from_the_cache_or_redirects_to_its_url(client):
    cached = _get(client, "p1", 1)
    assert cached.status_code == 200 and cached.headers["content-type"] == "image/jpeg"
    assert cached.content == PHOTO.read_bytes()
    missing = _get(client, "p1", 2)
    assert missing.status_code == 302 and missing.headers["location"] == REMOTE_MISSING


@pytest.mark.parametrize("n", [3, 4, 5])
def test_a_reference_that_is_no_image_file_is_not_served(client, n):
    # /etc/passwd, a text file named .jpg, a relative path that climbs out: all named by the product itself.
    response = _get(client, "p1", n)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "image_not_found"
    assert "hunter2" not in response.text and "root:" not in response.text


@pytest.mark.parametrize("path", [
    "/v1/stores/shop/products/p1/images/6",  # past the product's images
    "/v1/stores/shop/products/nope/images/0",  # unknown product
    "/v1/stores/nowhere/products/p1/images/0",  # unknown store
    "/v1/stores/shop/products/p2/images/0",  # another store's product
    "/v1/stores/shop/products/..%2F..%2F..%2Fetc%2Fpasswd/images/0",  # traversal in the id
    "/v1/stores/shop/products/p1/images/..%2F..%2F..%2Fetc%2Fpasswd",  # traversal in the index
    "/v1/stores/shop/products/p1/images/-1",
    "/v1/stores/shop/products/p1/images/%2Fetc%2Fpasswd",
])
def test_anything_else_is_an_error_without_a_file(client, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code in (404, 422), (path, response.status_code)
    assert set(response.json()) == {"error"}
    assert "root:" not in response.text


def test_image_url_quotes_the_id_and_names_the_photo(client):
    url = image_url("shop", "a b&c", str(PHOTO))
    assert url == f"/v1/stores/shop/products/a%20b%26c/images/0?v={ref_version(str(PHOTO))}"
    assert image_url("shop", "p1", None) is None
    response = client.get(url)
    assert response.status_code == 200 and response.content == PHOTO.read_bytes()


def test_a_thumbnail_is_a_small_webp_made_once_for_local_and_cached_photos(client, tmp_path):
    from io import BytesIO

    from PIL import Image

    for n in (0, 1):  # a local file, a fetched URL's cached copy
        response = _get(client, "p1", n, size="thumbnail")
        assert response.status_code == 200 and response.headers["content-type"] == "image/webp"
        assert len(response.content) < PHOTO.stat().st_size
        image = Image.open(BytesIO(response.content))
        assert max(image.size) <= 480 and image.format == "WEBP"
        again = _get(client, "p1", n, size="thumbnail")
        assert again.content == response.content  # from the file made the first time
        not_modified = client.get(f"/v1/stores/shop/products/p1/images/{n}", params={"size": "thumbnail"},
                                  headers={"If-None-Match": response.headers["etag"]})
        assert not_modified.status_code == 304
    assert len(list((tmp_path / "thumbnails").rglob("*.webp"))) == 2
    # A photo only the merchant's URL holds is its URL; what is no image of the product stays a 404.
    assert _get(client, "p1", 2, size="thumbnail").status_code == 302
    assert _get(client, "p1", 3, size="thumbnail").status_code == 404
    assert _get(client, "p1", 0, size="huge").status_code == 422


def test_a_photo_that_does_not_decode_is_served_as_it_is_not_as_a_thumbnail(client, tmp_path):
    truncated = tmp_path / "truncated.jpg"
    truncated.write_bytes(PHOTO.read_bytes()[:600])  # a JPEG header, then nothing
    client.app.state.runtime.catalog.upsert_products([
        Product(store="shop", product_id="cut", title="Cut short", images=[str(truncated)])])
    response = _get(client, "cut", 0, size="thumbnail")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content == truncated.read_bytes()
    assert not list((tmp_path / "thumbnails").rglob("*.webp"))
