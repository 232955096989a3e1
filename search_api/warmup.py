"""Start-up work that `catalog serve` finishes before it reports ready: opening the runtime, loading every
model and running each once, reading each store's vocabulary. A server is asked its first question seconds
after it starts; that question must not pay for any of this.

The steps run in order on one background thread, so /healthz answers at once; /readyz is 503 and names
the steps still loading until every required one is done.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

log = logging.getLogger(__name__)

PENDING, LOADING, DONE = "pending", "loading", "ok"


@dataclass(frozen=True)
class Step:
    name: str
    run: Callable[[], object]
    # A required step that fails keeps the server unready (a model that does not load breaks every request
    # that needs it); an optional one is logged and skipped (a store's warm-up only makes its first query fast).
    required: bool = True


class WarmUp:
    def __init__(self, steps: Iterable[Step] = ()) -> None:
        self._steps: list[Step] = []
        self._state: dict[str, str] = {}
        self._ms: dict[str, float] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._thread: threading.Thread | None = None
        self.extend(steps)

    def extend(self, steps: Iterable[Step]) -> None:
        """Add steps to run after the current ones (a step may add those it makes possible)."""
        with self._lock:
            for step in steps:
                if step.name in self._state:
                    raise ValueError(f"duplicate warm-up step {step.name!r}")
                self._steps.append(step)
                self._state[step.name] = PENDING

    def start(self) -> None:
        self._thread = threading.Thread(target=self.run, name="warm-up", daemon=True)
        self._thread.start()

    def run(self) -> None:
        position = 0
        try:
            while not self._stop.is_set():
                with self._lock:
                    if position == len(self._steps):
                        break
                    step = self._steps[position]
                    self._state[step.name] = LOADING
                position += 1
                self._run_step(step)
                with self._lock:
                    if self._state[step.name] != DONE and step.required:
                        break  # later steps may rely on this one
        finally:
            self._finished.set()
            log.info("warm-up finished: %s", self.check())

    def _run_step(self, step: Step) -> None:
        started = time.perf_counter()
        try:
            step.run()
            outcome = DONE
        except Exception as exc:  # reported by /readyz; the server keeps answering /healthz
            log.exception("warm-up step %r failed", step.name)
            outcome = f"error: {type(exc).__name__}: {exc}"[:300]
        with self._lock:
            self._ms[step.name] = round((time.perf_counter() - started) * 1000, 1)
            self._state[step.name] = outcome

    def stop(self, timeout: float = 30.0) -> None:
        """Run no further step; wait for the one in progress (a model load cannot be interrupted)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float | None = None) -> bool:
        return self._finished.wait(timeout)

    def loading(self) -> list[str]:
        """Names of the steps not done yet (in progress or waiting), in order."""
        with self._lock:
            return [s.name for s in self._steps if self._state[s.name] in (PENDING, LOADING)]

    def check(self) -> str:
        """"ok" when every required step is done, "error: <step>: ..." when one failed, else "loading"."""
        with self._lock:
            for step in self._steps:
                state = self._state[step.name]
                if step.required and state.startswith("error"):
                    return f"error: {step.name}: {state[len('error: '):]}"
            if any(state in (PENDING, LOADING) for state in self._state.values()):
                return "stopped" if self._finished.is_set() else LOADING
            return DONE

    def timings_ms(self) -> dict[str, float]:
        with self._lock:
            return dict(self._ms)
