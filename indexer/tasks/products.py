"""Realtime tasks: one merchant's edit at a time, on the `realtime` queue."""

from __future__ import annotations

from indexer.realtime import delete_one, extract_batch
from indexer.tasks.app import RETRY, app
from indexer.tasks.context import get_context
from indexer.tasks.metrics import observe_batch


@app.task(bind=True, **RETRY)
def extract_and_index(self, store: str, product_id: str) -> str:
    """Extract the product if its content changed (else skip); the engine owner indexes it from the log."""
    ctx = get_context()
    result = extract_batch(ctx.catalog, ctx.extractor_for(store), store, [product_id],
                           attempts=self.request.retries + 1,
                           final_attempt=self.request.retries >= self.max_retries, photos=ctx.photos())
    observe_batch(result, "realtime")
    return result.outcomes.get(product_id, "missing")


@app.task(bind=True, **RETRY)
def delete_product(self, store: str, product_id: str) -> bool:
    return delete_one(get_context().catalog, store, product_id)
