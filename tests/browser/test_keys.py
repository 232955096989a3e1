"""Store API keys in the pages, in real Chromium against a real `catalog serve`: the review queue and the
listing assistant ask for the merchant's key, keep it in the tab's session storage and send it as the
Bearer header only; a key in the link's fragment is kept and taken out of the address bar; the storefront
of a public store needs no key. (The served fixture checks at the end that no key reached the server log.)"""

from __future__ import annotations

import re

from playwright.sync_api import expect

WRONG = "ck_000000000000_" + "0" * 48


def api_requests(page) -> list:
    seen: list = []
    page.on("request", lambda request: seen.append(request) if "/v1/" in request.url else None)
    return seen


def test_the_review_queue_asks_for_the_key_and_keeps_it_in_the_tab(page, served, screenshot):
    seen = api_requests(page)
    page.goto("/review?store=demo")
    prompt = page.get_by_role("form", name="API key for store demo")
    expect(prompt).to_be_visible()
    expect(page.get_by_label("API key", exact=True)).to_be_focused()
    assert page.locator(".proposal").count() == 0 and seen == []  # nothing asked of the API without a key
    screenshot(page, "review-key-prompt")

    page.get_by_label("API key", exact=True).fill(WRONG)
    page.get_by_role("button", name="Use key").click()
    expect(prompt.get_by_text("invalid API key")).to_be_visible()  # the API's own words
    assert page.locator(".proposal").count() == 0
    screenshot(page, "review-key-refused")

    page.get_by_label("API key", exact=True).fill(served.key)
    page.get_by_role("button", name="Use key").click()
    page.locator(".proposal").first.wait_for()
    expect(page.get_by_text("Using your API key for store demo")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('catalog-key:demo')") == served.key
    page.reload()  # the tab keeps it
    page.locator(".proposal").first.wait_for()
    assert served.key not in page.content()
    queue = [r for r in seen if "/review" in r.url]
    assert queue and all(served.key not in r.url for r in seen)
    assert queue[-1].all_headers().get("authorization") == f"Bearer {served.key}"
    screenshot(page, "review-with-key")


def test_a_key_in_the_link_fragment_is_kept_and_leaves_the_address_bar(page, served, browser):
    seen = api_requests(page)
    page.goto(f"/sell?store=demo#key={served.key}")
    expect(page.get_by_text("Using your API key for store demo")).to_be_visible()
    assert page.url == f"{served.url}/sell?store=demo"
    assert page.evaluate("location.hash") == ""
    assert page.evaluate("sessionStorage.getItem('catalog-key:demo')") == served.key
    page.wait_for_load_state("networkidle")
    acceptance = [r for r in seen if "/feedback/acceptance" in r.url]
    assert acceptance and acceptance[0].all_headers().get("authorization") == f"Bearer {served.key}"
    assert all(served.key not in r.url for r in seen) and served.key not in page.content()
    expect(page.locator("#error")).to_be_hidden()

    # Another tab does not share it (session storage is per tab); forgetting it brings the prompt back.
    other = browser.new_context(base_url=served.url).new_page()
    try:
        other.goto("/sell?store=demo")
        expect(other.get_by_role("form", name="API key for store demo")).to_be_visible()
    finally:
        other.context.close()
    page.get_by_role("button", name="Forget key").click()
    expect(page.get_by_role("form", name="API key for store demo")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('catalog-key:demo')") is None


def test_the_storefront_of_a_public_store_needs_no_key(page, served):
    seen = api_requests(page)
    page.goto("/?store=demo&q=hoodie")
    page.locator("[data-product-id]").first.wait_for()
    searches = [r for r in seen if "/search" in r.url]
    assert searches and all("authorization" not in r.all_headers() for r in searches)
    photo = page.locator("[data-product-id] img").first
    photo.scroll_into_view_if_needed()
    expect(photo).to_have_js_property("complete", True)
    assert photo.evaluate("img => img.naturalWidth") > 0  # product photos load without a key too
    expect(page.locator("#key-slot")).to_be_hidden()


def test_a_private_store_s_storefront_asks_for_a_search_key_and_loads_its_photos_with_it(page, served):
    from indexer.settings import Settings
    from indexer.store import CatalogStore
    from search_api.auth import KEY_TTL_S
    from tests.keys import store_key

    with CatalogStore.open(Settings(CATALOG_HOME=served.home, DATABASE_URL=None).sqlalchemy_url) as catalog:
        search_key = store_key(catalog, "demo", "search")
        catalog.set_public_search("demo", False)
        try:
            page.wait_for_timeout(KEY_TTL_S * 1000 + 500)  # the server's cached public flag expires
            page.goto("/?store=demo&q=hoodie")
            prompt = page.get_by_role("form", name="API key for store demo")
            expect(prompt).to_be_visible()
            assert page.locator("[data-product-id]").count() == 0
            page.get_by_label("API key", exact=True).fill(search_key)
            page.get_by_role("button", name="Use key").click()
            page.locator("[data-product-id]").first.wait_for()
            photo = page.locator("[data-product-id] img").first
            photo.scroll_into_view_if_needed()
            # An <img> cannot send the key: the plain load is refused, the page fetches the photo with the key.
            expect(photo).to_have_attribute("src", re.compile(r"^blob:"))
            expect(photo).to_have_js_property("complete", True)
            assert photo.evaluate("img => img.naturalWidth") > 0
        finally:
            catalog.set_public_search("demo", True)
    page.wait_for_timeout(KEY_TTL_S * 1000 + 500)  # public again for the other scenarios
