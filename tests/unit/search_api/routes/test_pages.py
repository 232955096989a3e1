"""The web pages are served by the API app itself: HTML at /, /sell, /review; assets under /static; nothing
loaded from another origin."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from search_api.app import create_app
from search_api.routes.pages import PAGES, STATIC_DIR


@pytest.fixture(scope="module")
def client():
    app = create_app(runtime=SimpleNamespace())
    return TestClient(app)  # no lifespan: the pages need no runtime


@pytest.mark.parametrize("path", list(PAGES))
def test_each_page_is_html_from_this_origin_only(client, path):
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert 'name="viewport"' in html
    # Every script and stylesheet is ours: no CDN, no web font, no inline script (the CSP refuses it).
    for ref in re.findall(r'(?:src|href)="([^"]+)"', html):
        assert not re.match(r"^(https?:)?//", ref), ref
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)


def test_assets_are_served_with_their_types(client):
    for name, kind in (("common.css", "text/css"), ("api.js", "javascript"), ("search.js", "javascript")):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200 and kind in response.headers["content-type"], name
        assert response.headers["x-content-type-options"] == "nosniff"
    etag = client.get("/static/common.css").headers["etag"]
    again = client.get("/static/common.css", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_storefront_has_its_hooks(client):
    html = client.get("/").text
    assert re.search(r'<label for="q">Search products</label>', html)
    assert re.search(r'<input type="search" id="q"', html)


def test_no_asset_outside_static_and_unknown_ones_are_404(client):
    assert client.get("/static/../routes/pages.py").status_code == 404
    assert client.get("/static/%2e%2e/routes/pages.py").status_code == 404
    assert client.get("/static/nope.js").status_code == 404
    assert client.get("/favicon.ico").headers["content-type"].startswith("image/svg+xml")
    assert (STATIC_DIR / "index.html").is_file()
