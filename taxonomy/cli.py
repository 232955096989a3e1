"""``catalog taxonomy ...``: inspect the packaged Shopify taxonomy."""

from __future__ import annotations

import typer

from taxonomy.core import Taxonomy
from taxonomy.models import TaxonomyError

app = typer.Typer(
    help="Inspect the Shopify Standard Product Taxonomy shipped with the project.", no_args_is_help=True
)

MAX_VALUES_SHOWN = 12


@app.command()
def stats() -> None:
    """Print the taxonomy version and its counts."""
    tax = Taxonomy.load()
    typer.echo(f"version: {tax.version}")
    for name, count in tax.stats().items():
        typer.echo(f"{name}: {count:,}")


@app.command()
def show(category_id: str = typer.Argument(..., help="Category id (aa-1-13-8) or gid.")) -> None:
    """Show a category: full path, children, and its attributes with their values."""
    tax = Taxonomy.load()
    try:
        cat = tax.category(category_id)
    except TaxonomyError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=1) from None
    typer.echo(f"{cat.id}  {cat.full_name}")
    typer.echo(f"gid: {cat.gid}  level: {cat.level}  children: {len(cat.children_ids)}")
    for child in tax.children(cat.id)[:MAX_VALUES_SHOWN]:
        typer.echo(f"  > {child.id}  {child.name}")
    if len(cat.children_ids) > MAX_VALUES_SHOWN:
        typer.echo(f"  > ... {len(cat.children_ids) - MAX_VALUES_SHOWN} more")
    typer.echo(f"attributes ({len(cat.attribute_handles)}):")
    for attr in tax.category_attributes(cat.id):
        names = [tax.values[v].name for v in attr.value_handles]
        shown = ", ".join(names[:MAX_VALUES_SHOWN])
        more = f", ... (+{len(names) - MAX_VALUES_SHOWN})" if len(names) > MAX_VALUES_SHOWN else ""
        typer.echo(f"  {attr.handle} [{attr.name}]: {shown}{more}")


@app.command()
def search(
    text: str = typer.Argument(..., help="Product title or query."),
    k: int = typer.Option(10, "--k", "-k", min=1, max=100, help="How many categories to show."),
) -> None:
    """Rank categories for a product title or query, best first."""
    matches = Taxonomy.load().search_categories(text, k=k)
    if not matches:
        typer.echo("no matching category")
        return
    for rank, m in enumerate(matches, 1):
        typer.echo(f"{rank:>3}. {m.score:7.2f}  {m.category_id:<16} {m.full_name}")
