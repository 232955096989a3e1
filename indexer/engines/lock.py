"""The single-owner lock of the embedded engines (DESIGN.md section 2).

Qdrant Edge locks its directory and tantivy allows one writer, so exactly one process at a time may
open them: `catalog serve` while it runs, otherwise the CLI command that needs them. The lock is an
OS advisory lock (flock) on CATALOG_HOME/engines.lock: the kernel drops it when the process dies, so
a crash never leaves a stale lock behind. The holder writes its pid into the file so a refused
process can say who owns the engines.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from typing import IO

from indexer.engines.types import EngineError

LOCK_NAME = "engines.lock"


class EngineBusyError(EngineError):
    """Another process owns the embedded engines."""

    def __init__(self, path: Path, pid: int | None) -> None:
        self.path = path
        self.pid = pid
        holder = f"process {pid}" if pid is not None else "another process"
        super().__init__(
            f"the embedded engines under {path.parent} are in use by {holder} (lock {path}); "
            "stop it (e.g. `catalog serve`) or run this command through it, or use the scale-out "
            "engines (ELASTICSEARCH_URL / QDRANT_URL)")


class EngineOwnerLock:
    """Non-blocking exclusive flock on CATALOG_HOME/engines.lock; `acquire` raises EngineBusyError.

    flock locks belong to the open file, so a second EngineOwnerLock in the same process is refused
    too: the engines cannot be opened twice by accident.
    """

    def __init__(self, catalog_home: Path) -> None:
        self.path = Path(catalog_home) / LOCK_NAME
        self._file: IO[str] | None = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> EngineOwnerLock:
        if self._file is not None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # "a+" creates the file without truncating it: the holder's pid must survive our attempt.
        f = open(self.path, "a+")  # noqa: SIM115 - kept open for as long as we hold the lock
        try:
            fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            f.seek(0)
            pid = _parse_pid(f.read())
            f.close()
            raise EngineBusyError(self.path, pid) from None
        f.seek(0)
        f.truncate()
        f.write(f"{os.getpid()}\n")
        f.flush()
        self._file = f
        return self

    def release(self) -> None:
        f, self._file = self._file, None
        if f is None:
            return
        try:
            f.seek(0)
            f.truncate()  # no pid left behind for a lock nobody holds
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)
            f.close()

    def __enter__(self) -> EngineOwnerLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder_pid(catalog_home: Path) -> int | None:
    """The pid written by the current holder, if any (for status pages and messages)."""
    try:
        return _parse_pid((Path(catalog_home) / LOCK_NAME).read_text())
    except OSError:
        return None


def _parse_pid(text: str) -> int | None:
    try:
        return int(text.strip())
    except ValueError:
        return None
