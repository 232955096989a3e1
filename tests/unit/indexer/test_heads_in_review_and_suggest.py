"""How sure the store's heads are reaches the merchant: the review queue shows least-sure proposals first
(uncertainty sampling) and says how precise a head's answers were; suggest reports the same precision next to
each answer (a new field: the existing ones are unchanged)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from fastapi.testclient import TestClient

from extractor.models import CategoryGuess, ExtractedAttribute, ExtractedValue, Extraction
from indexer import review
from indexer.models import Product
from indexer.settings import Settings, get_settings
from indexer.store import CatalogStore
from search_api.app import create_app
from taxonomy import Taxonomy
from tests.keys import authorize

TEES = "aa-1-13-8"


def extraction(taxonomy, values: list[tuple[str, str, float, float | None]]) -> Extraction:
    by_attr: dict[str, list[ExtractedValue]] = {}
    for handle, source, confidence, precision in values:
        v = taxonomy.value(handle)
        by_attr.setdefault(handle.split("__")[0], []).append(ExtractedValue(
            value=v.handle, value_id=v.id, name=v.name, confidence=confidence, source=source, precision=precision))
    cat = taxonomy.category(TEES)
    return Extraction(category=CategoryGuess(id=cat.id, name=cat.name, full_name=cat.full_name, confidence=0.9),
                      attributes=[ExtractedAttribute(handle=h, name=taxonomy.attribute(h).name, values=vs)
                                  for h, vs in by_attr.items()],
                      extractor="local", extractor_version="5+heads.v1", taxonomy_version=taxonomy.version)


def test_the_queue_shows_the_least_sure_first():
    taxonomy = Taxonomy.load()
    items = []
    # p0: a head answered at 0.95 precision; p1: a head at 0.81; p2: the rules (confidence 0.7, no precision).
    for pid, value in (("p0", ("pattern__striped", "image", 0.97, 0.95)),
                       ("p1", ("pattern__floral", "image", 0.62, 0.81)),
                       ("p2", ("pattern__solid", "text", 0.7, None))):
        product = Product(store="s", product_id=pid, title="Tee", images=["a.jpg"], merchant_category_id=TEES)
        items += review.proposals(product, extraction(taxonomy, [value]), taxonomy)
    ordered = [p for p in review.order(items) if p.attribute == "pattern"]
    assert [(p.product_id, p.precision) for p in ordered] == [("p2", None), ("p1", 0.81), ("p0", 0.95)]
    assert review.sureness(ordered[0]) == 0.7  # without a head's precision: its confidence


class StubExtractor:
    name = "local"
    version = "5+heads.v1"

    def __init__(self) -> None:
        self.taxonomy = Taxonomy.load()

    def extract(self, inputs):
        return [extraction(self.taxonomy, [("pattern__striped", "image", 0.91, 0.86),
                                           ("color__black", "image", 0.8, None)]) for _ in inputs]


@pytest.fixture
def client(tmp_path):
    settings = Settings(CATALOG_HOME=tmp_path / "home", DATABASE_URL=None, CELERY_BROKER_URL=None)
    catalog = CatalogStore.open(settings.sqlalchemy_url)
    catalog.upsert_products([Product(store="shop", product_id="p0", title="Tee", merchant_category_id=TEES)])
    runtime = SimpleNamespace(settings=settings, catalog=catalog, extractor=StubExtractor())
    app = create_app(runtime=runtime)
    app.dependency_overrides[get_settings] = lambda: settings
    with authorize(TestClient(app), catalog) as c:
        c.runtime = runtime
        yield c
    catalog.close()


def test_suggest_reports_each_answer_s_precision(client):
    from tests.photos import shirt_jpeg

    response = client.post("/v1/stores/shop/suggest", data={"title": "Striped tee"},
                           files=[("images", ("tee.jpg", shirt_jpeg((20, 20, 20)), "image/jpeg"))])
    assert response.status_code == 200, response.text
    values = {v["handle"]: v for a in response.json()["attributes"] for v in a["values"]}
    assert values["pattern__striped"] == {"id": values["pattern__striped"]["id"], "handle": "pattern__striped",
                                          "name": "Striped", "confidence": 0.91, "precision": 0.86}
    assert values["color__black"]["precision"] is None and values["color__black"]["confidence"] == 0.8


def test_the_review_queue_reports_a_head_s_precision(client):
    from indexer.realtime import extract_batch

    runtime = client.runtime
    extract_batch(runtime.catalog, runtime.extractor, "shop", ["p0"])
    response = client.get("/v1/stores/shop/review", params={"attribute": "pattern"})
    assert response.status_code == 200, response.text
    [proposal] = response.json()["proposals"]
    assert (proposal["value"], proposal["confidence"], proposal["precision"]) == ("pattern__striped", 0.91, 0.86)
