"""Worker process hooks: a periodic check that resumes stale jobs, and an optional metrics port."""

from __future__ import annotations

import logging
import threading

from celery import signals

log = logging.getLogger(__name__)
_stop = threading.Event()


@signals.worker_ready.connect(weak=False)
def _start(sender=None, **_: object) -> None:
    from indexer.tasks.context import get_context
    from indexer.tasks.reindex import recover_jobs

    settings = get_context().settings
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)
    interval = max(1.0, settings.job_stale_after_s / 3)

    def loop() -> None:
        while not _stop.wait(interval):
            try:
                resumed = recover_jobs.run()  # in this thread: it only reads the store and sends messages
                if resumed:
                    log.warning("resumed stale jobs: %s", resumed)
            except Exception:  # keep checking; the store or broker may be back next round
                log.exception("stale job check failed")

    threading.Thread(target=loop, name="stale-job-check", daemon=True).start()


@signals.worker_shutdown.connect(weak=False)
def _stop_check(**_: object) -> None:
    _stop.set()
