"""Worker process hooks: CPU threads per process, a periodic check that resumes stale jobs, and an optional
metrics port."""

from __future__ import annotations

import logging
import os
import sys
import threading

from celery import signals

log = logging.getLogger(__name__)
_stop = threading.Event()

THREADS_ENV = "WORKER_THREADS"


def threads_per_process(processes: int) -> int:
    """CPU threads one worker process may keep busy: `WORKER_THREADS` if set (e.g. 1 per process when several
    `catalog worker` processes share a machine), else the cores divided among this worker's processes."""
    explicit = os.environ.get(THREADS_ENV, "").strip()
    if explicit:
        return max(1, int(explicit))
    return max(1, (os.cpu_count() or 1) // max(1, processes))


def limit_threads(threads: int) -> None:
    """Keep this process to `threads` cores: extraction threads of the local extractor and torch / OpenMP
    intra-op threads. Two workers on two cores each running two threads stall on each other (no speed-up)."""
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[name] = str(threads)
    os.environ[THREADS_ENV] = str(threads)  # prefork children read it in `worker_process_init`
    import extractor.local.extractor as local

    local.WORKERS = threads
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    log.info("worker process %d: %d CPU thread(s)", os.getpid(), threads)


@signals.worker_process_init.connect(weak=False)
def _limit_child(**_: object) -> None:
    limit_threads(threads_per_process(1))


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
