"""The rate limit shared by worker processes: a process that dies or hangs while it holds the
limiter's lock never blocks the others forever."""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from sheetsync.core.errors import SheetsyncError
from sheetsync.ops.processes import WorkerDied, WorkerProcesses, worker_context
from sheetsync.ops.ratelimit import RateLimiter
from tests.proc_tree import worker_pids

_given: list[RateLimiter] = []
_in_worker = False


def _keep(limiter: RateLimiter) -> None:
    global _in_worker
    _in_worker = True
    _given.append(limiter)


def _dies_in_a_worker() -> float:
    """A clock (read while the limiter's lock is held) that kills the worker reading it."""
    if _in_worker:
        os.kill(os.getpid(), signal.SIGKILL)
    return time.monotonic()


@dataclass(frozen=True)
class _HangsInAWorker:
    """A clock that never answers in a worker (a process stopped while holding the lock),
    having first created the file `held`: the test waits for it, not for a guessed time."""

    held: Path

    def __call__(self) -> float:
        if _in_worker:
            self.held.touch()
            time.sleep(3600)
        return time.monotonic()


def _wait_for(path: Path, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path.name} never appeared"
        time.sleep(0.01)


def _acquire() -> bool:
    return _given[0].acquire()


def _acquire_here(limiter: RateLimiter) -> list[object]:
    """acquire() in a thread of this process: what it returned or raised, [] if it hangs."""
    answer: list[object] = []

    def run() -> None:
        try:
            answer.append(limiter.acquire())
        except BaseException as exc:  # the assertion looks at it
            answer.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(20)
    return answer


def test_a_worker_killed_while_it_holds_the_limit_does_not_block_the_others():
    limiter = RateLimiter(1000, processes=worker_context(), clock=_dies_in_a_worker)
    with WorkerProcesses(1, _keep, (limiter,)) as workers:
        with pytest.raises(WorkerDied):
            workers.call(0, _acquire)

        assert _acquire_here(limiter) == [True]


def test_a_worker_that_hangs_holding_the_limit_fails_the_others_with_a_clear_error(tmp_path):
    held = tmp_path / "held"
    limiter = RateLimiter(
        1000, processes=worker_context(), clock=_HangsInAWorker(held), lock_seconds=1.0
    )
    workers = WorkerProcesses(1, _keep, (limiter,))

    def hang() -> None:
        with pytest.raises(WorkerDied):  # killed below
            workers.call(0, _acquire)

    caller = threading.Thread(target=hang, daemon=True)
    caller.start()
    _wait_for(held)  # the worker holds the lock and hangs

    (answer,) = _acquire_here(limiter)

    assert isinstance(answer, SheetsyncError)
    assert "rate limit" in str(answer) and "1 s" in str(answer)
    for pid in worker_pids():
        os.kill(pid, signal.SIGKILL)
    caller.join(10)
    workers.close()
