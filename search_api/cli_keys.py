"""`catalog keys` (create, list, revoke store API keys) and `catalog stores` (a store's public search)."""

from __future__ import annotations

import typer

keys_app = typer.Typer(help="Store API keys: create, list, revoke.", no_args_is_help=True)
stores_app = typer.Typer(help="Store settings.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(1)


@keys_app.command("create")
def create(store: str = typer.Option(..., "--store", "-s", help="a store name, or '*' for a platform key"),
           scopes: list[str] = typer.Option(..., "--scope", help="search | suggest | write | admin (repeatable)"),
           name: str = typer.Option("", "--name", help="what the key is for"),
           expires: str | None = typer.Option(None, "--expires", help="lifetime from now, as 30d, 12h, 15m"),
           rate: str | None = typer.Option(None, "--rate", help="the key's rate limit, as 20/s, 600/min, 10000/h"),
           ) -> None:
    """Make a key; it is printed once, alone on the last line (only its hash is kept)."""
    from indexer.api_keys import InvalidKeyRequest
    from indexer.runtime import open_catalog
    from search_api.keys import issue_key, key_line

    with open_catalog() as catalog:
        try:
            created = issue_key(catalog, store=store, scopes=scopes, name=name, expires=expires, rate=rate)
        except InvalidKeyRequest as exc:
            _fail(str(exc))
    typer.echo(key_line(created))
    typer.echo("the key (shown only now; send it as Authorization: Bearer <key>):")
    typer.echo(created.key)


@keys_app.command("list")
def list_cmd(store: str | None = typer.Option(None, "--store", "-s", help="this store's keys (default: all)")
             ) -> None:
    """One key a line: its id, store, scopes, name, rate, last use and state (never the key)."""
    from indexer.runtime import open_catalog
    from search_api.keys import key_line, shown

    with open_catalog() as catalog:
        records = catalog.list_keys(store)
    for record in records:
        typer.echo(key_line(shown(record)))


@keys_app.command("revoke")
def revoke(key_id: str = typer.Argument(..., help="the key's id (the first column of `catalog keys list`)")
           ) -> None:
    """Revoke a key: running servers refuse it within seconds."""
    from indexer.runtime import open_catalog
    from search_api.keys import key_line, shown

    with open_catalog() as catalog:
        record = catalog.revoke_key(key_id)
    if record is None:
        _fail(f"no key {key_id!r}")
    typer.echo(key_line(shown(record)))


@stores_app.command("set")
def set_store(store: str = typer.Argument(..., help="the store"),
              public_search: bool | None = typer.Option(None, "--public-search/--no-public-search", help=(
                  "whether anyone may search the store (and load its product photos) without a key"))) -> None:
    """Change a store's settings."""
    from indexer.runtime import open_catalog

    if public_search is None:
        _fail("nothing to set: give --public-search or --no-public-search")
    with open_catalog() as catalog:
        if not catalog.set_public_search(store, public_search):
            _fail(f"unknown store {store!r}")
    typer.echo(f"store {store}: search is {'public' if public_search else 'by key only'}")


DEMO_KEY_NAME = "demo merchant"


def demo_key(catalog, base_url: str) -> str:
    """`catalog demo`'s store access: search public, and a fresh merchant key (suggest, write) in place of
    the one an earlier run printed, with the listing-assistant and review-queue links that carry it in their
    fragment (a browser never sends a fragment to the server)."""
    from search_api.keys import issue_key

    catalog.set_public_search("demo", True)
    for old in catalog.list_keys("demo"):
        if old.name == DEMO_KEY_NAME and old.revoked_at is None:
            catalog.revoke_key(old.id)
    key = issue_key(catalog, store="demo", scopes=["suggest", "write"], name=DEMO_KEY_NAME).key
    return "\n".join([
        "store demo: search is public (no key); the merchant's pages ask for its key:",
        f"  listing assistant: {base_url}/sell?store=demo#key={key}",
        f"  review queue:      {base_url}/review?store=demo#key={key}",
        f"merchant key of store demo (scopes suggest, write): {key}",
    ])
