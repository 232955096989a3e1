"""`catalog worker` and its process hooks: CPU threads per process, the recovery sweeps, an optional metrics port.

Recovery runs in every worker, from a thread started when the worker is ready:
- every CHUNK_STALE_AFTER/3 s, reindex chunks whose heartbeats stopped are requeued (their worker died);
- every JOB_STALE_AFTER/3 s, jobs with no sign of life at all are resumed (a message the broker lost).
This module imports the app and the tasks; the app imports neither (no import cycle)."""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from celery import signals

from indexer.tasks.app import QUEUES, app
from indexer.tasks.context import get_context
from indexer.tasks.reindex import recover_jobs, requeue_silent

log = logging.getLogger(__name__)
_stop = threading.Event()

THREADS_ENV = "WORKER_THREADS"


def run_worker(queues: list[str], concurrency: int = 1) -> None:
    """Consume the given queues (realtime listed first), one message prefetched per process.

    With one process a `threads` pool of one runs tasks in the worker process itself (a `kill -9` takes the
    task with it, and its message is redelivered); with more, `prefork`. Not `solo`: it runs the task inside the
    consumer's event loop, and on RabbitMQ the next message then waited up to 10 s in the client's buffer
    (measured on Celery 5.7: 2 of 17 chained tasks delayed ~10 s with solo, none with threads or prefork)."""
    settings = get_context().settings
    if not settings.celery_broker_url:
        raise SystemExit("catalog worker needs CELERY_BROKER_URL (e.g. amqp://guest:guest@127.0.0.1:5672// or "
                         "redis://127.0.0.1:6379/0); without it tasks run inline in the API process")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise SystemExit(f"unknown queue(s) {', '.join(unknown)}; choose from {', '.join(QUEUES)}")
    # Solo: this process runs the tasks. Prefork: each child gets its share (`worker_process_init`).
    limit_threads(threads_per_process(concurrency))
    warm_up()

    ordered = [q for q in QUEUES if q in queues]
    # A node name per process: two workers on one machine must not share one (RabbitMQ refuses the second's
    # exclusive remote-control queue, and the worker dies at start).
    app.worker_main(["worker", "-Q", ",".join(ordered), f"--concurrency={concurrency}",
                     f"--hostname=catalog-{os.getpid()}@%h",
                     "--pool", "threads" if concurrency == 1 else "prefork", "--loglevel=INFO",
                     "--without-gossip", "--without-mingle", "--without-heartbeat"])


def warm_up() -> None:
    """Load what every task needs (the extractor and its models, the text embedder, the taxonomy) before
    consuming: a worker says `ready` when it can take a task at full speed, and a rescuer started after a crash
    does not spend its first task loading models (prefork children share what the parent loaded). The soak
    measured why: without it a worker's RSS grew 627 -> 1047 MiB on its first photos, then stayed flat."""
    from extractor.embeddings import get_text_embedder
    from taxonomy import Taxonomy

    started = time.perf_counter()
    Taxonomy.load()
    context = get_context()
    context.extractor  # noqa: B018 - loads the configured backend
    if context.settings.extractor_backend == "local":  # its image models load on the first photo otherwise
        from extractor.local.warmup import warm_up_steps

        for _name, work in warm_up_steps(lambda: context.extractor):
            work()
    get_text_embedder().embed(["warm up"])
    log.info("worker warmed up in %.1f s", time.perf_counter() - started)


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


def recovery_loop(chunk_every_s: float, job_every_s: float, stop: threading.Event) -> None:
    """The two sweeps, each on its own cadence, until `stop`; a failing round is logged and tried again."""
    next_job_check = time.monotonic() + job_every_s
    while not stop.wait(chunk_every_s):
        try:
            sent = requeue_silent.run()  # in this thread: it only reads the store and sends messages
            if sent:
                log.warning("requeued silent chunks: %s", sent)
            if time.monotonic() >= next_job_check:
                next_job_check = time.monotonic() + job_every_s
                resumed = recover_jobs.run()
                if resumed:
                    log.warning("resumed stale jobs: %s", resumed)
        except Exception:  # keep checking; the store or broker may be back next round
            log.exception("recovery sweep failed")


@signals.worker_ready.connect(weak=False)
def _start(sender=None, **_: object) -> None:
    settings = get_context().settings
    if settings.worker_metrics_port:
        from prometheus_client import start_http_server

        start_http_server(settings.worker_metrics_port)
    chunk_every = max(1.0, settings.chunk_stale_after_s / 3)
    job_every = max(chunk_every, settings.job_stale_after_s / 3)
    threading.Thread(target=recovery_loop, args=(chunk_every, job_every, _stop), name="recovery-sweep",
                     daemon=True).start()


@signals.worker_shutdown.connect(weak=False)
def _stop_check(**_: object) -> None:
    _stop.set()
