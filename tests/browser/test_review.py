"""Issue 12, scenario 4: accept a group in the review queue and see the value become merchant data
(the product's own attributes, and a search filter on the value finds it as the merchant's)."""

from __future__ import annotations

import json
import time
import urllib.request


def get_json(url: str, headers: dict | None = None) -> dict:
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=10) as response:
        return json.loads(response.read())


def post_json(url: str, body: dict, headers: dict | None = None) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json", **(headers or {})})
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def scroll_through(page) -> None:
    """Scroll to the end and back, as a merchant reading the queue would: the lazy photos load."""
    page.evaluate("""async () => {
        for (let y = 0; y < document.body.scrollHeight; y += 500) {
            window.scrollTo(0, y);
            await new Promise((done) => setTimeout(done, 40));
        }
        window.scrollTo(0, 0);
    }""")
    page.wait_for_load_state("networkidle")


# Attributes the other scenarios search by (the served catalog is shared by the session's browser tests).
SEARCHED = {"category", "color", "fabric", "material", "target-gender", "size", "pattern", "neckline"}


def small_group(served) -> tuple[dict, dict, list[str]]:
    """A value group of a few products, all additions, of an attribute no other scenario searches by."""
    queue = get_json(f"{served.url}/v1/stores/demo/review?limit=1", served.headers)
    candidates = sorted(((v["count"], g["attribute"], v["value"]), g, v) for g in queue["groups"]
                        if g["attribute"] not in SEARCHED for v in g["values"] if 2 <= v["count"] <= 6)
    for _, group, value in candidates:
        chosen = get_json(f"{served.url}/v1/stores/demo/review?attribute={group['attribute']}"
                          f"&value={value['value']}&limit=500", served.headers)
        if all(p["kind"] == "adds" for p in chosen["proposals"]):
            products = sorted({p["product_id"] for p in chosen["proposals"]})
            assert len(products) == value["count"]
            return group, value, products
    raise AssertionError(f"no small group of additions in {queue['groups']}")


def test_accepting_a_group_makes_its_value_merchant_data(page, served, screenshot):
    group, value, products = small_group(served)
    page.goto(f"/review?store=demo#key={served.key}")
    first = page.locator(".proposal").first
    first.wait_for()
    assert "proposals in" in page.get_by_role("status").inner_text()
    scroll_through(page)
    screenshot(page, "review")

    # Filter to the attribute with the labelled select, as a merchant would; the URL keeps it.
    page.get_by_label("Attribute").select_option(group["attribute"])
    page.wait_for_url(f"**attribute={group['attribute']}**")
    page.locator(f'.proposal[data-attribute="{group["attribute"]}"]').first.wait_for()
    assert page.locator(".proposal").evaluate_all(
        "(cards, attr) => cards.every(c => c.dataset.attribute === attr)", group["attribute"])

    item = page.locator(f'.group[data-attribute="{group["attribute"]}"]')
    item.locator("summary").click()  # "By value"
    page.once("dialog", lambda dialog: dialog.accept())  # "Accept all N proposals of ...?"
    name = f"Accept all {value['count']} proposals of {group['name']}: {value['name']}"
    item.get_by_role("button", name=name).click()
    status = page.get_by_role("status")
    status.filter(has_text="Accepted").wait_for()
    assert f"Accepted {value['count']} proposals" in status.inner_text()
    assert page.locator(f'.proposal[data-value="{value["value"]}"]').count() == 0

    # Merchant data now: the products' own attributes hold the value ...
    for pid in products:
        product = get_json(f"{served.url}/v1/stores/demo/products/{pid}", served.headers)["product"]
        assert value["name"] in [v for vs in product["attributes"].values() for v in vs], product["attributes"]
    # ... and, once the sync applied it (about a second), a search filter on it finds them as the merchant's.
    field = f"attr.{group['attribute']}"
    deadline = time.monotonic() + 30
    while True:
        found = post_json(f"{served.url}/v1/stores/demo/search",
                          {"q": "", "filters": [{"field": field, "op": "in", "values": [value["value"]]}],
                           "limit": 100})
        by_id = {r["product_id"]: r for r in found["results"]}
        merchant = {pid for pid in products if pid in by_id and any(
            m["handle"] == group["attribute"] and m["value"] == value["value"] and m["source"] == "merchant"
            for m in by_id[pid]["matched_attributes"])}
        if merchant == set(products) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert merchant == set(products), found["results"][:3]
    # The queue no longer proposes it.
    after = get_json(f"{served.url}/v1/stores/demo/review?attribute={group['attribute']}&limit=500",
                     served.headers)
    assert not any(p["value"] == value["value"] and p["product_id"] in products for p in after["proposals"])


def test_the_queue_works_from_the_keyboard(page, served):
    page.goto(f"/review?store=demo&attribute=category&min_confidence=0.99#key={served.key}")
    page.locator(".proposal").first.wait_for()
    assert page.get_by_label("Minimum confidence").input_value() == "99"
    # Every control has an accessible name.
    for control in page.locator("main button, main select, main input").all():
        name = control.evaluate("e => e.getAttribute('aria-label') || (e.labels && e.labels[0] && "
                                "e.labels[0].textContent) || e.textContent")
        assert name and name.strip(), control.evaluate("e => e.outerHTML")
    first = page.locator(".proposal").first
    pid = first.get_attribute("data-product-id")
    first.get_by_role("button", name="Accept", exact=False).focus()
    page.keyboard.press("Tab")  # to its Reject button, by keyboard
    reject = first.get_by_role("button", name="Reject", exact=False)
    assert reject.evaluate("e => e === document.activeElement")
    outline = reject.evaluate("e => getComputedStyle(e).outlineStyle")
    assert outline != "none"  # focus is visible
    page.keyboard.press("Enter")
    page.get_by_role("status").filter(has_text="Rejected 1 proposal").wait_for()
    assert page.evaluate("document.activeElement.id") == "status"
    after = get_json(f"{served.url}/v1/stores/demo/review?attribute=category&limit=500", served.headers)
    assert pid not in {p["product_id"] for p in after["proposals"]}
