"""API keys for tests that call the API: real keys made in the test's own catalog store."""

from __future__ import annotations


def store_key(catalog, store: str, *scopes: str, **options) -> str:
    """A new key of `store` (or "*") with these scopes (default: admin, which implies every scope)."""
    from search_api.keys import issue_key

    return issue_key(catalog, store=store, scopes=list(scopes or ("admin",)), name="tests", **options).key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# The rate of the keys `authorize` gives route tests: far above what a test sends, so a test that pages
# through a whole catalog measures the routes, not the limiter (tests/unit/search_api/routes/test_rate_limits.py
# tests the limiter with keys of its own rates).
TEST_RATE = "100000/s"


def authorize(client, catalog, store: str = "*", *scopes: str):
    """Make every request of a TestClient carry a key (default: a platform admin key); returns the client."""
    client.headers.update(bearer(store_key(catalog, store, *scopes, rate=TEST_RATE)))
    return client
