"""API keys for tests that call the API: real keys made in the test's own catalog store."""

from __future__ import annotations


def store_key(catalog, store: str, *scopes: str, **options) -> str:
    """A new key of `store` (or "*") with these scopes (default: admin, which implies every scope)."""
    from search_api.keys import issue_key

    return issue_key(catalog, store=store, scopes=list(scopes or ("admin",)), name="tests", **options).key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def authorize(client, catalog, store: str = "*", *scopes: str):
    """Make every request of a TestClient carry a key (default: a platform admin key); returns the client."""
    client.headers.update(bearer(store_key(catalog, store, *scopes)))
    return client
