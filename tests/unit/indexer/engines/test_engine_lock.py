"""The engine owner lock: one process owns the embedded engines, others get a clear refusal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from indexer.engines.lock import EngineBusyError, EngineOwnerLock, holder_pid

HOLDER = """
import sys
from pathlib import Path
from indexer.engines.lock import EngineOwnerLock
lock = EngineOwnerLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
sys.stdin.read()  # hold until the parent closes our stdin
lock.release()
"""


def _start_holder(home: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(home)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def test_other_process_is_refused_with_holder_pid(tmp_path: Path) -> None:
    proc = _start_holder(tmp_path)
    try:
        with pytest.raises(EngineBusyError) as info:
            EngineOwnerLock(tmp_path).acquire()
        assert info.value.pid == proc.pid
        assert str(proc.pid) in str(info.value)
        assert holder_pid(tmp_path) == proc.pid
    finally:
        assert proc.stdin is not None
        proc.stdin.close()
        proc.wait(timeout=10)
    # released by the holder: now we get it
    with EngineOwnerLock(tmp_path) as lock:
        assert lock.held


def test_lock_is_freed_when_the_holder_dies(tmp_path: Path) -> None:
    proc = _start_holder(tmp_path)
    proc.kill()
    proc.wait(timeout=10)
    lock = EngineOwnerLock(tmp_path).acquire()
    assert holder_pid(tmp_path) is not None
    lock.release()


def test_second_lock_in_same_process_is_refused(tmp_path: Path) -> None:
    with EngineOwnerLock(tmp_path):
        with pytest.raises(EngineBusyError):
            EngineOwnerLock(tmp_path).acquire()


def test_release_clears_pid_and_is_idempotent(tmp_path: Path) -> None:
    lock = EngineOwnerLock(tmp_path).acquire()
    lock.acquire()  # re-entrant on the same object
    lock.release()
    lock.release()
    assert holder_pid(tmp_path) is None and not lock.held
