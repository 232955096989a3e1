"""The `catalog` command line. Each command calls the same plain functions the API and workers use."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from search_api.cli_keys import keys_app, stores_app
from search_api.model_server_cli import model_server_cmd
from taxonomy.cli import app as taxonomy_app

app = typer.Typer(help="Catalog intelligence: extract, index and search product catalogs.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
app.add_typer(taxonomy_app, name="taxonomy")
eval_app = typer.Typer(help="Measure relevance and extraction quality.", no_args_is_help=True)
app.add_typer(eval_app, name="eval")
report_app = typer.Typer(help="Report on what merchants did with suggestions.", no_args_is_help=True)
app.add_typer(report_app, name="report")
app.add_typer(keys_app, name="keys")
app.add_typer(stores_app, name="stores")
app.command("model-server")(model_server_cmd)


def _fail(message: str, code: int = 1) -> None:
    typer.secho(f"error: {message}", err=True, fg=typer.colors.RED)
    raise typer.Exit(code)


@app.command("import")
def import_cmd(path: Path, store: str = typer.Option(..., "--store", "-s", help="store name"),
               prefetch_photos: bool = typer.Option(False, "--prefetch-photos", help=(
                   "also download the products' http(s) photos into the photo cache now (else `catalog index` "
                   "does)"))) -> None:
    """Import a Magento sample-data folder, a Shopify product CSV export, or our JSONL."""
    from tqdm import tqdm

    from indexer.importers import import_path
    from indexer.photos.resolve import PhotoResolver, prefetch_store
    from indexer.runtime import open_catalog
    from indexer.settings import get_settings

    if not path.exists():
        _fail(f"{path} does not exist")
    photos = None
    with open_catalog() as catalog:
        report = import_path(catalog, store, path)
        if prefetch_photos and catalog.store_exists(store):
            with tqdm(total=0, desc="fetch", unit="photo") as bar:
                photos = prefetch_store(catalog, store, PhotoResolver.from_settings(get_settings(), progress=bar))
    for error in report.errors[:50]:
        typer.secho(f"skipped: {error}", err=True, fg=typer.colors.YELLOW)
    typer.echo(f"store {store}: imported {report.imported}, updated {report.updated}, "
               f"unchanged {report.unchanged}, skipped {report.skipped}")
    if photos is not None:
        typer.echo(photo_summary(photos.as_dict()))


@app.command("index")
def index_cmd(store: str = typer.Option(..., "--store", "-s"),
              rebuild: bool = typer.Option(False, help="rebuild both indexes from the store")) -> None:
    """Extract (where stale) and index every product of the store, with a progress bar."""
    from indexer.runtime import index_store

    try:
        summary = index_store(store, rebuild=rebuild, show_progress=True)
    except LookupError as exc:
        _fail(str(exc))
    typer.echo(json.dumps(summary, indent=2))
    typer.echo(photo_summary(summary["photos"]))


def photo_summary(counts: dict[str, int]) -> str:
    """The `catalog index` line on remote photos: downloaded, taken from the cache, not fetched."""
    cached = counts["cached"] + counts["revalidated"] + counts["stale"]
    return (f"photos: fetched {counts['fetched']}, cached {cached} (revalidated {counts['revalidated']}, "
            f"stale {counts['stale']}), failed {counts['failed']}")


@app.command("train")
def train_cmd(store: str = typer.Option(..., "--store", "-s"),
              curve: bool = typer.Option(False, "--curve", help=(
                  "also fit the heads on 10, 25, 50, 100 and all labelled products per attribute and print "
                  "the held-out learning curve")),
              as_json: bool = typer.Option(False, "--json", help="the report as JSON instead of tables")) -> None:
    """Fit the store's category, attribute and colour heads on its merchant-labelled products (local
    extractor); prints held-out precision, recall and F1 per attribute and overall (folds by product id)."""
    from extractor.local.train import format_report
    from indexer.photos.resolve import PhotoResolver
    from indexer.runtime import make_configured_extractor, open_catalog
    from indexer.settings import get_settings
    from indexer.training import train_store
    from taxonomy import Taxonomy

    settings = get_settings()
    with open_catalog(settings) as catalog:
        if not catalog.store_exists(store):
            _fail(f"unknown store {store!r}")
        try:
            report = train_store(catalog, store, settings.catalog_home, Taxonomy.load(),
                                 extractor=make_configured_extractor(settings),
                                 photos=PhotoResolver.from_settings(settings),
                                 target_precision=settings.head_target_precision, curve=curve)
        except ValueError as exc:
            _fail(str(exc))
    typer.echo(json.dumps(report, indent=2) if as_json else format_report(report))


@app.command("serve")
def serve_cmd(host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
    """Run the API and the web pages; this process owns the embedded engines and syncs them."""
    import uvicorn

    uvicorn.run("search_api.app:create_app", factory=True, host=host, port=port, log_level=log_level,
                workers=1)


@app.command("worker")
def worker_cmd(queues: str = typer.Option("realtime,bulk", help="comma-separated queues"),
               concurrency: int = 1) -> None:
    """Run a Celery worker (needs CELERY_BROKER_URL)."""
    from indexer.tasks.worker import run_worker

    run_worker(queues.split(","), concurrency)


@app.command("demo")
def demo_cmd(port: int = 8000, serve: bool = typer.Option(True, help="serve after indexing")) -> None:
    """Import the bundled fixture catalog as store `demo`, index it, make its search public, print a merchant
    key (and links that carry it), serve on port 8000."""
    from indexer.importers import fixture_path, import_path
    from indexer.runtime import index_store, open_catalog
    from search_api.cli_keys import demo_key

    with open_catalog() as catalog:
        report = import_path(catalog, "demo", fixture_path())
    typer.echo(f"imported {report.imported} (updated {report.updated}, unchanged {report.unchanged})")
    summary = index_store("demo", show_progress=True)
    typer.echo(json.dumps(summary))
    with open_catalog() as catalog:
        typer.echo(demo_key(catalog, f"http://127.0.0.1:{port}"))
    if serve:
        typer.echo(f"serving on http://127.0.0.1:{port}/  (try /v1/stores/demo/search?q=black+hoodie+for+men)")
        serve_cmd(host="127.0.0.1", port=port)


@eval_app.command("relevance")
def eval_relevance(store: str = typer.Option(..., "--store", "-s"),
                   queries: Path = typer.Option(..., "--queries", "-q"),
                   as_json: bool = typer.Option(False, "--json"),
                   per_query: bool = typer.Option(False, help="include nDCG@10 per query")) -> None:
    """nDCG@10, recall@50 and MRR for plain BM25, lexical-only, vector-only and hybrid; nDCG@10 per query class
    and per split (development / held-out)."""
    from search_api.evaluate import evaluate_relevance, format_table
    from search_api.runtime import open_search

    if not queries.is_file():
        _fail(f"{queries} is not a file")
    with open_search() as search:
        try:
            result = evaluate_relevance(search, store, queries)
        except (ValueError, LookupError) as exc:  # a malformed judged line, an unknown store
            _fail(str(exc))
    if not per_query:
        result.pop("per_query")
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@eval_app.command("extraction")
def eval_extraction(dataset: str = typer.Option(..., "--dataset", "-d", help="magento | oa-mine | PATH"),
                    as_json: bool = typer.Option(False, "--json"),
                    split: str = typer.Option("held_out", help="magento only: held_out | other | all"),
                    color_head: bool = typer.Option(False, "--color-head", help=(
                        "magento only: read colours with a store colour head fitted, as `catalog train` fits "
                        "it, on the other split's variant photos")),
                    title: str | None = typer.Option(None, "--title", help=(
                        "magento only: replace every title by this one (descriptions and merchant data dropped): "
                        "how far the photo carries the category against a title that says nothing"))) -> None:
    """Per-attribute precision, recall, F1 of the extractor against gold labels."""
    from extractor.evaluate import evaluate, format_table
    from indexer.runtime import make_configured_extractor

    path = Path(dataset) if Path(dataset).exists() else None
    name = "oa-mine" if path is not None and path.suffix == ".jsonl" else ("magento" if path else dataset)
    try:
        extra = {"split": split, "color_head": color_head, "title": title} if name == "magento" else {}
        result = evaluate(name, make_configured_extractor(), path=path, **extra)
    except (ValueError, FileNotFoundError) as exc:
        _fail(str(exc))
    typer.echo(json.dumps(result, indent=2) if as_json else format_table(result))


@report_app.command("acceptance")
def report_acceptance(store: str = typer.Option(..., "--store", "-s"),
                      as_json: bool = typer.Option(False, "--json"),
                      extractor_version: str | None = typer.Option(None, "--extractor-version", help=(
                          "only decisions on suggestions of this extractor version"))) -> None:
    """Acceptance rate of suggestions (accepted / all decisions; edited apart) per attribute and overall,
    the category on its own line, from the merchant feedback the listing assistant records."""
    from indexer.feedback import acceptance_report, format_acceptance
    from indexer.runtime import open_catalog

    with open_catalog() as catalog:
        if not catalog.store_exists(store):
            _fail(f"unknown store {store!r}")
        report = acceptance_report(catalog, store, extractor_version)
    typer.echo(json.dumps(report, indent=2) if as_json else format_acceptance(report))


def main() -> None:  # pragma: no cover
    sys.exit(app())
