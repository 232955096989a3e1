"""Prometheus metrics of the pipeline: task outcomes and extraction latency (in whichever process runs them:
the API process in eager mode, a worker otherwise, served on WORKER_METRICS_PORT when set)."""

from __future__ import annotations

from celery import signals
from prometheus_client import Counter, Histogram

TASKS = Counter("catalog_tasks_total", "Celery tasks by outcome", ["task", "outcome"])
EXTRACTION_SECONDS = Histogram("catalog_extraction_seconds", "Extraction latency per batch call", ["source"],
                               buckets=(0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 30))
PRODUCTS = Counter("catalog_products_processed_total", "Products through the pipeline by outcome", ["outcome"])


def _name(sender) -> str:
    return getattr(sender, "name", None) or str(sender)


@signals.task_success.connect(weak=False)
def _success(sender=None, **_: object) -> None:
    TASKS.labels(_name(sender), "succeeded").inc()


@signals.task_failure.connect(weak=False)
def _failure(sender=None, **_: object) -> None:
    TASKS.labels(_name(sender), "failed").inc()


@signals.task_retry.connect(weak=False)
def _retry(sender=None, **_: object) -> None:
    TASKS.labels(_name(sender), "retried").inc()


def observe_batch(result, source: str) -> None:
    if result.extract_seconds:
        EXTRACTION_SECONDS.labels(source).observe(result.extract_seconds)
    for outcome in result.outcomes.values():
        PRODUCTS.labels(outcome).inc()
