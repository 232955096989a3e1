"""Helpers of the pipeline integration tests."""

from __future__ import annotations

import time


def fixture_products(store: str, n: int) -> list:
    """The fixture catalog's products (local photos), replicated with new ids beyond its 199."""
    from indexer.importers import fixture_path, read_products

    base = list(read_products(store, fixture_path()))
    out = []
    for i in range(n):
        product = base[i % len(base)]
        out.append(product.model_copy(update={"product_id": f"{product.product_id}-r{i // len(base)}"})
                   if i >= len(base) else product)
    return out


def wait_for(predicate, timeout: float, what: str, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")
