"""The Celery app, configured from settings.

`CELERY_BROKER_URL` unset: tasks run eagerly, inline (the embedded default). Set, `catalog worker`
(indexer.tasks.worker) consumes the `realtime` and `bulk` queues: RabbitMQ (`amqp://`, recommended) requeues a
dead worker's unacknowledged message the moment its connection drops; Redis keeps it until its visibility
timeout, so reindex chunks carry their own heartbeats (indexer.reindex). No result backend: job progress lives
in the catalog store. This module only configures; it imports no task module and no worker hook.
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
# Task options shared by every task: retry transient errors with backoff, acknowledge after the work. Retry n
# waits a random 0..3*2^n s (at most 60): the three retries span up to 21 s, so a database restart of a few
# seconds is ridden out (with a factor of 1 the jittered waits were often 0 s and all three came within 1 s).
RETRY = {"autoretry_for": transient_errors(), "retry_backoff": 3, "retry_backoff_max": 60,
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
        broker_connection_retry=True,
        broker_connection_max_retries=None,  # a broker restart of any length: keep reconnecting
        worker_hijack_root_logger=False,
        broker_transport_options=transport_options(settings),
    )
    return celery


def transport_options(settings: Settings) -> dict:
    """Redis only: its visibility timeout (a dead worker's message comes back after it, so it must exceed the
    longest task or a live task's message would be handed out twice) and how often consumers look for such
    messages. RabbitMQ needs none: the broker itself requeues at the dead connection."""
    url = settings.celery_broker_url or ""
    if not url.startswith(("redis://", "rediss://", "redis+socket://")):
        return {}
    return {"visibility_timeout": settings.celery_visibility_timeout_s,
            "unacked_restore_interval": max(1, min(10, settings.celery_visibility_timeout_s // 4)),
            "unacked_restore_throttle": 1}


app = make_celery(get_settings())


def is_eager() -> bool:
    return bool(app.conf.task_always_eager)
