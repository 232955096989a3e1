"""The Celery app's broker-specific configuration and the import order of the task modules."""

from __future__ import annotations

import subprocess
import sys

from indexer.settings import Settings
from indexer.tasks.app import make_celery, transport_options


def settings(broker: str | None) -> Settings:
    return Settings(CELERY_BROKER_URL=broker, CELERY_VISIBILITY_TIMEOUT=600)


def test_redis_gets_its_visibility_timeout_and_rabbitmq_none():
    assert transport_options(settings("redis://127.0.0.1:6379/0")) == {
        "visibility_timeout": 600, "unacked_restore_interval": 10, "unacked_restore_throttle": 1}
    # RabbitMQ requeues a dead connection's messages itself: no timeout to wait for, none to configure.
    assert transport_options(settings("amqp://guest:guest@127.0.0.1:5672//")) == {}
    assert transport_options(settings(None)) == {}


def test_late_acks_one_message_per_process_and_requeue_on_a_lost_worker():
    conf = make_celery(settings("amqp://guest:guest@127.0.0.1:5672//")).conf
    assert conf.task_acks_late and conf.task_reject_on_worker_lost
    assert conf.worker_prefetch_multiplier == 1
    assert conf.broker_connection_max_retries is None  # a broker restart of any length: keep reconnecting


def test_the_app_imports_no_task_or_worker_module():
    # The cycle app -> worker -> tasks -> app is gone: the app configures, the worker module imports the rest.
    code = ("import sys, indexer.tasks.app; "
            "print(sorted(m for m in sys.modules if m.startswith('indexer.tasks.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "['indexer.tasks.app']"
    code = "import indexer.tasks.worker as w; print(w.run_worker.__module__)"
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.strip() == "indexer.tasks.worker"
