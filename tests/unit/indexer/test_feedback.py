"""Merchant feedback: decisions checked against the taxonomy, the acceptance report and its command."""

from __future__ import annotations

import json

import pytest

from indexer.feedback import FeedbackError, acceptance_report, checked_items, format_acceptance
from indexer.models import Product
from indexer.store import CatalogStore
from indexer.store.feedback import FeedbackItem
from taxonomy import Taxonomy


def item(attribute, suggested, decision, final=None) -> FeedbackItem:
    return FeedbackItem(attribute=attribute, suggested_value=suggested, decision=decision, final_value=final)


@pytest.fixture
def catalog(tmp_path):
    store = CatalogStore.open(f"sqlite:///{tmp_path / 'home' / 'catalog.db'}")
    store.ensure_store("demo")
    yield store
    store.close()


def record(catalog, items, version="1"):
    catalog.record_feedback("demo", items, product_id=None, extractor="local", extractor_version=version)


def test_checked_items_speak_taxonomy_handles():
    taxonomy = Taxonomy.load()
    gray = taxonomy.value("color__gray")
    items = checked_items(taxonomy, [item("target_gender", "target-gender__male", "accepted"),
                                     item("color", "color__black", "edited", str(gray.id)),
                                     item("category", "gid://shopify/TaxonomyCategory/aa-1-13-13", "rejected")])
    assert [(i.attribute, i.suggested_value, i.final_value) for i in items] == [
        ("target-gender", "target-gender__male", None), ("color", "color__black", "color__gray"),
        ("category", "aa-1-13-13", None)]


@pytest.mark.parametrize(("bad", "message"), [
    (item("colour", "color__black", "accepted"), "decisions[1].attribute: unknown taxonomy attribute"),
    (item("color", "pattern__striped", "accepted"), "decisions[1].suggested_value: 'pattern__striped' is not a value"),
    (item("category", "aa-1-13-13", "edited", "zz"), "decisions[1].final_value: unknown taxonomy category"),
    # Edited "to" the suggested value under another name is no edit.
    (item("color", "color__black", "edited", str(Taxonomy.load().value("color__black").id)), "decisions[1]: "),
])
def test_a_bad_decision_names_its_position(bad, message):
    with pytest.raises(FeedbackError, match=message.replace("[", r"\[").replace("]", r"\]")):
        checked_items(Taxonomy.load(), [item("color", "color__black", "accepted"), bad])


def test_the_report_counts_accepted_over_all_decisions_with_edits_apart(catalog):
    # 20 suggested categories: 17 accepted (85%), 2 edited, 1 rejected.
    record(catalog, [item("category", "aa-1-13-13", "accepted")] * 17
           + [item("category", "aa-1-13-13", "edited", "aa-1-13-8")] * 2 + [item("category", "aa-1-13-13", "rejected")])
    record(catalog, [item("color", "color__black", "accepted")] * 3 + [item("color", "color__black", "edited",
                                                                            "color__blue")],
           version="2")
    record(catalog, [item("pattern", "pattern__striped", "rejected")] * 4)
    report = acceptance_report(catalog, "demo")
    assert report["category"] == {"decisions": 20, "accepted": 17, "edited": 2, "rejected": 1, "acceptance": 0.85,
                                  "edit_rate": 0.1}
    assert report["attributes"]["color"]["acceptance"] == 0.75 and report["attributes"]["color"]["edited"] == 1
    assert report["attributes"]["pattern"]["acceptance"] == 0.0
    assert report["all_attributes"] == {"decisions": 8, "accepted": 3, "edited": 1, "rejected": 4,
                                        "acceptance": 0.375, "edit_rate": 0.125}
    assert report["overall"]["decisions"] == 28 and report["overall"]["acceptance"] == round(20 / 28, 4)
    only_v2 = acceptance_report(catalog, "demo", "2")
    assert only_v2["category"]["decisions"] == 0 and only_v2["category"]["acceptance"] is None
    assert only_v2["overall"]["accepted"] == 3

    text = format_acceptance(report).splitlines()
    assert text[0] == "Acceptance of suggestions in store demo (all extractor versions)"
    category = next(line for line in text if line.startswith("category"))
    assert category.split() == ["category", "20", "17", "2", "1", "85.0%"]
    assert next(line for line in text if line.startswith("color")).split()[-1] == "75.0%"
    assert next(line for line in text if line.startswith("overall")).split()[-1] == "71.4%"


def test_a_store_without_feedback_says_so(catalog):
    report = acceptance_report(catalog, "demo")
    assert report["overall"] == {"decisions": 0, "accepted": 0, "edited": 0, "rejected": 0, "acceptance": None,
                                 "edit_rate": None}
    assert "no merchant feedback recorded yet" in format_acceptance(report)


def test_catalog_report_acceptance_prints_the_table_and_json(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from indexer.settings import get_settings
    from search_api.cli import app

    home = tmp_path / "home"
    for name in ("DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CATALOG_HOME", str(home))
    with CatalogStore.open(f"sqlite:///{home / 'catalog.db'}") as catalog:
        catalog.upsert_products([Product(store="demo", product_id="p")])
        record(catalog, [item("category", "aa-1-13-13", "accepted")] * 17
               + [item("category", "aa-1-13-13", "edited", "aa-1-13-8")] * 3
               + [item("color", "color__black", "rejected")])
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        table = runner.invoke(app, ["report", "acceptance", "--store", "demo"])
        as_json = runner.invoke(app, ["report", "acceptance", "--store", "demo", "--json"])
        unknown = runner.invoke(app, ["report", "acceptance", "--store", "nope"])
    finally:
        get_settings.cache_clear()
    assert table.exit_code == 0, table.output
    assert "category" in table.output and "85.0%" in table.output
    assert as_json.exit_code == 0, as_json.output
    body = json.loads(as_json.output)
    assert body["category"]["acceptance"] == 0.85 and body["attributes"]["color"]["rejected"] == 1
    assert unknown.exit_code == 1 and "unknown store 'nope'" in unknown.output
