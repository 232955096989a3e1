"""Realtime tasks: one merchant's edit at a time, on the `realtime` queue."""

from __future__ import annotations

from indexer.realtime import delete_one, extract_batch, transient_errors
from indexer.tasks.app import app
from indexer.tasks.context import get_context
from indexer.tasks.metrics import observe_batch

RETRY = {"autoretry_for": transient_errors(), "retry_backoff": True, "retry_backoff_max": 60,
         "retry_jitter": True, "max_retries": 3, "acks_late": True}


@app.task(bind=True, **RETRY)
def extract_and_index(self, store: str, product_id: str) -> str:
    """Extract the product if its content changed (else skip); the engine owner indexes it from the log."""
    ctx = get_context()
    result = extract_batch(ctx.catalog, ctx.extractor_for(store), store, [product_id],
                           attempts=self.request.retries + 1,
                           final_attempt=self.request.retries >= self.max_retries)
    observe_batch(result, "realtime")
    return result.outcomes.get(product_id, "missing")


@app.task(bind=True, **RETRY)
def delete_product(self, store: str, product_id: str) -> bool:
    return delete_one(get_context().catalog, store, product_id)
