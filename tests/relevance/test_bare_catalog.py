"""Regression: a catalog of titles and photos only is found by colour + kind through the HTTP API.

See `bare_catalog.py` for the catalog and the judgment rule. The queries are split in two halves by a hash
of the query text: rules and thresholds of the colour reading were developed on the `development` half
only; the `held-out` half is reported beside it and must hold the same floor.
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from search_api.evaluate import ndcg_at_k
from tests.keys import authorize
from tests.relevance.bare_catalog import colour_kind_queries, fixture_truth, write_bare_csv

STORE = "bare"
TARGET = 0.85  # what issue 11 asks of this set
# Measured, what the page shows (the results, then the close matches that fill a short page): 0.875
# (development 0.863, held-out 0.894); the results alone: 0.838 (development 0.813, held-out 0.878). Before
# close matches and similar colours, 0.827 (development 0.803, held-out 0.867), every figure scoring the
# results alone: 0.802 until a white garment on a white backdrop was read from its shading; 0.810 before
# Magento names were decoded ("LumaTech&trade;" to "LumaTech™", which moves a few categories); 0.726 before a
# category filter admitted the kinds the taxonomy groups (search_api.query.kind_groups: a "hoodie" finds the
# pullover hoodies extracted as Sweatshirts); 0.381 before every photo was read for colour. Of the
# development half's photos whose merchant colour the reading misses (17 of 205), looked at one by one: 8
# plainly show another colour than the merchant's name (pink shorts sold as Red, gray leggings as White,
# black tights as Blue, lavender leggings as Blue), 4 lie between two names (olive, lime, navy-gray,
# charcoal), 5 are the reading's own errors (navy read as purple, gray as purple, lime as beige). A few titles
# name another kind ("Pullover Jacket" is read as a sweatshirt, "Hooded Fleece" as fleece fabric).
NDCG_FLOOR = TARGET
RESULTS_FLOOR = 0.80  # the results alone, without close matches


@pytest.fixture(scope="module")
def bare(tmp_path_factory):
    """(client, queries): the bare catalog imported into a fresh CATALOG_HOME, extracted with the real local
    extractor, indexed into the real embedded engines and served by the app."""
    from indexer.importers import import_path
    from indexer.runtime import index_store, open_catalog
    from indexer.settings import Settings
    from search_api.app import create_app
    from search_api.runtime import build_runtime

    truth = fixture_truth()
    csv_path = write_bare_csv(truth, tmp_path_factory.mktemp("bare-csv"))
    settings = Settings(CATALOG_HOME=tmp_path_factory.mktemp("bare-home"), DATABASE_URL=None,
                        CELERY_BROKER_URL=None, REDIS_URL=None, ELASTICSEARCH_URL=None, QDRANT_URL=None,
                        EXTRACTOR_BACKEND="local")
    with open_catalog(settings) as catalog:
        report = import_path(catalog, STORE, csv_path)
    assert report.imported == len(truth) and not report.errors, report
    summary = index_store(STORE, settings=settings)
    assert summary["indexed"] == len(truth), summary
    runtime = build_runtime(settings)
    try:
        with authorize(TestClient(create_app(runtime=runtime)), runtime.catalog) as client:
            yield client, colour_kind_queries(truth)
    finally:
        runtime.close()


def _ranked(client: TestClient, query: str) -> tuple[list[str], list[str]]:
    """(the results alone, what the page shows: the results, then the close matches that fill it when the
    results end inside it)."""
    response = client.get(f"/v1/stores/{STORE}/search", params={"q": query, "limit": 10})
    assert response.status_code == 200, response.text
    body = response.json()
    results = [r["product_id"] for r in body["results"]]
    return results, [*results, *(r["product_id"] for r in body["close_matches"])]


def _report(queries: list[dict], scores: dict[str, float]) -> dict[str, float]:
    halves = {half: [scores[q["query"]] for q in queries if q["half"] == half] for half in ("development", "held-out")}
    return {"ndcg@10": round(sum(scores.values()) / len(scores), 4),
            **{half: round(sum(v) / len(v), 4) for half, v in halves.items()}}


@pytest.mark.relevance
def test_colour_and_kind_queries_find_a_bare_catalog(bare):
    client, queries = bare
    assert len(queries) >= 20
    ranked = {q["query"]: _ranked(client, q["query"]) for q in queries}
    judged = {q["query"]: q["judgments"] for q in queries}
    page = {q: ndcg_at_k(ids, judged[q]) for q, (_results, ids) in ranked.items()}
    alone = {q: ndcg_at_k(results, judged[q]) for q, (results, _ids) in ranked.items()}
    shown, results_only = _report(queries, page), _report(queries, alone)
    print({"page": shown, "results alone": results_only, "queries": len(page), "target": TARGET})
    print({q: round(s, 3) for q, s in sorted(page.items(), key=lambda kv: kv[1])})
    assert shown["ndcg@10"] >= NDCG_FLOOR
    assert shown["held-out"] >= NDCG_FLOOR
    assert results_only["ndcg@10"] >= RESULTS_FLOOR and results_only["held-out"] >= RESULTS_FLOOR
