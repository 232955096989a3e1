"""The queued pipeline against real Redis and real worker/serve processes."""

from __future__ import annotations

import os
import signal
import time

import httpx
import pytest
from fault_helpers import send_reindex
from pipeline_helpers import fixture_products, wait_for

pytestmark = pytest.mark.integration

KILL_N = int(os.environ.get("PIPELINE_KILL_N", "500"))


def job_of(stack, job_id: str):
    with stack.catalog() as catalog:
        return catalog.get_job(job_id)


def finished(stack, job_id: str):
    job = job_of(stack, job_id)
    return job if job.state in ("succeeded", "failed") else None


def corrupt_image(stack) -> str:
    path = stack.home / "broken.jpg"
    good = next(p for p in fixture_products("x", 1)[0].images)
    data = open(good, "rb").read()
    path.write_bytes(data[: len(data) // 3])  # a truncated JPEG
    return str(path)


def test_reindex_completes_and_a_poisoned_product_ends_in_dead_letters(stack):
    products = fixture_products("shop", 10)
    products[4] = products[4].model_copy(update={"images": [corrupt_image(stack)]})
    with stack.catalog() as catalog:
        catalog.upsert_products(products)
    stack.worker()
    job_id = send_reindex(stack, "shop")
    job = wait_for(lambda: finished(stack, job_id), 120, "the reindex job", interval=0.5)
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", 10, 9, 1), stack.log("worker")
    with stack.catalog() as catalog:
        letters = catalog.dead_letters("shop")
        assert [d.product_id for d in letters] == [products[4].product_id]
        assert "image 0" in letters[0].error
        for product in products:
            assert catalog.latest_extraction("shop", product.product_id) is not None


def test_killing_a_worker_mid_reindex_loses_nothing_and_indexes_once(stack):
    from extractor.embeddings import get_text_embedder
    from indexer.engines.factory import open_engines
    from indexer.sync import IndexSync
    from taxonomy import Taxonomy

    products = fixture_products("big", KILL_N)
    with stack.catalog() as catalog:
        catalog.upsert_products(products)
    victim = stack.worker("victim")
    job_id = send_reindex(stack, "big")
    wait_for(lambda: job_of(stack, job_id).done >= 8, 120, "some progress", interval=0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(10)
    stack.worker("rescuer")
    job = wait_for(lambda: finished(stack, job_id), 240, "the job to finish after the kill", interval=0.5)
    assert (job.state, job.total, job.done, job.failed) == ("succeeded", KILL_N, KILL_N, 0), stack.log("rescuer")

    ids = {p.product_id for p in products}
    with stack.catalog() as catalog:
        for pid in ids:
            assert catalog.latest_extraction("big", pid) is not None
        engines = open_engines(stack.settings)  # no `serve` here: the test process owns the engines
        try:
            IndexSync(catalog, engines, Taxonomy.load(), get_text_embedder()).run_until_idle()
            assert engines.lexical.count("big") == KILL_N and engines.vector.count("big") == KILL_N
            assert engines.lexical.ids("big") == ids and engines.vector.ids("big") == ids
        finally:
            engines.close()


def test_a_realtime_upsert_during_a_reindex_is_searchable_within_2_seconds(stack):
    with stack.catalog() as catalog:
        catalog.upsert_products(fixture_products("live", 150))
    url = stack.serve()
    stack.worker()
    job_id = send_reindex(stack, "live")
    wait_for(lambda: job_of(stack, job_id).done >= 4, 120, "the reindex to be under way", interval=0.2)
    key = {"Authorization": f"Bearer {stack.env['CATALOG_ADMIN_KEY']}"}
    wait_for(lambda: httpx.get(f"{url}/v1/stores/live/search", params={"q": "yoga"}, headers=key).status_code == 200,
             30, "the store to be searchable")

    started = time.monotonic()
    response = httpx.put(f"{url}/v1/stores/live/products/zx-new", headers=key,
                         json={"title": "Zanzibar quokka raincoat", "price": 42})
    assert response.status_code == 202 and response.json()["task_id"]

    def found() -> bool:
        body = httpx.get(f"{url}/v1/stores/live/search", params={"q": "zanzibar quokka"}, headers=key).json()
        return any(r["product_id"] == "zx-new" for r in body["results"])

    wait_for(found, 5, "the new product in search results", interval=0.05)
    elapsed = time.monotonic() - started
    assert job_of(stack, job_id).state == "running"  # it really was during the reindex
    assert elapsed <= 2.0, f"searchable after {elapsed:.2f}s"
    with stack.catalog() as catalog:  # and the realtime task extracted it, ahead of the bulk queue
        wait_for(lambda: catalog.latest_extraction("live", "zx-new"), 30, "the realtime extraction")
