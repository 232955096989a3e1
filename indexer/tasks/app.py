"""The Celery app, configured from settings.

`CELERY_BROKER_URL` unset: tasks run eagerly, inline (the embedded default). Set (Redis): `catalog worker`
consumes the `realtime` and `bulk` queues. No result backend: job progress lives in the catalog store.
"""

from __future__ import annotations

import logging

from celery import Celery
from kombu import Queue

from indexer.realtime import transient_errors
from indexer.settings import Settings, get_settings

log = logging.getLogger(__name__)

QUEUES = ("realtime", "bulk")
TASK_MODULES = ["indexer.tasks.products", "indexer.tasks.reindex"]
# Task options shared by every task: retry transient errors with backoff, acknowledge after the work.
RETRY = {"autoretry_for": transient_errors(), "retry_backoff": True, "retry_backoff_max": 60,
         "retry_jitter": True, "max_retries": 3, "acks_late": True}


def make_celery(settings: Settings) -> Celery:
    celery = Celery("catalog", broker=settings.celery_broker_url or "memory://", include=TASK_MODULES)
    celery.conf.update(
        task_always_eager=not settings.celery_broker_url,
        task_eager_propagates=True,
        task_ignore_result=True,
        result_backend=None,
        task_queues=[Queue(name) for name in QUEUES],
        task_default_queue="realtime",
        # Routed by task name globs: merchants' edits never wait behind a reindex.
        task_routes={"indexer.tasks.products.*": {"queue": "realtime"},
                     "indexer.tasks.reindex.*": {"queue": "bulk"}},
        task_acks_late=True,  # tasks are idempotent: a crashed worker's message is redelivered
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,  # hold one message at a time, so realtime is taken as soon as a slot frees
        task_serializer="json",
        accept_content=["json"],
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        broker_transport_options={
            "visibility_timeout": settings.celery_visibility_timeout_s,
            # Sweep for messages a dead worker held often enough for a short visibility timeout.
            "unacked_restore_interval": max(1, min(10, settings.celery_visibility_timeout_s // 4)),
            "unacked_restore_throttle": 1,
        },
    )
    return celery


app = make_celery(get_settings())


def is_eager() -> bool:
    return bool(app.conf.task_always_eager)


def run_worker(queues: list[str], concurrency: int = 1) -> None:
    """`catalog worker`: consume the given queues (realtime listed first), one message prefetched per process.

    With one process the `solo` pool runs tasks in the worker process itself (a `kill -9` takes the task
    with it, and its message is redelivered); with more, `prefork`."""
    settings = get_settings()
    if not settings.celery_broker_url:
        raise SystemExit("catalog worker needs CELERY_BROKER_URL (e.g. redis://127.0.0.1:6379/0); "
                         "without it tasks run inline in the API process")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise SystemExit(f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(QUEUES)}")
    from indexer.tasks import worker  # connects the worker signals (threads, recovery, metrics)

    # Solo: this process runs the tasks. Prefork: each child gets its share (`worker_process_init`).
    worker.limit_threads(worker.threads_per_process(concurrency))

    ordered = [q for q in QUEUES if q in queues]
    app.worker_main(["worker", "-Q", ",".join(ordered), f"--concurrency={concurrency}",
                     "--pool", "solo" if concurrency == 1 else "prefork", "--loglevel=INFO",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])
