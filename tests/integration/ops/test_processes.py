"""Worker processes: a later call reaches the process of an earlier one, a death fails only the
call it was running, and the workers' log lines reach this process's loggers, tagged."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sheetsync.ops.processes import WorkerDied, WorkerProcesses, tag

log = logging.getLogger("sheetsync.test_processes")
_remembered: dict[str, str] = {}


def _nothing() -> None:
    """A worker's setup with nothing to set up."""


def remember(key: str, value: str) -> int:
    """Leave something in this worker's memory."""
    _remembered[key] = value
    return os.getpid()


def recall(key: str) -> tuple[int, str | None]:
    return os.getpid(), _remembered.get(key)


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def ignore_ctrl_c_and_sigterm() -> tuple[bool, bool]:
    return (
        signal.getsignal(signal.SIGINT) is signal.SIG_IGN,
        signal.getsignal(signal.SIGTERM) is signal.SIG_IGN,
    )


def warn_about(item: str) -> None:
    tag(workbook=item)
    try:
        log.warning("looked at %s", item)
    finally:
        tag(workbook=None)


@pytest.fixture
def workers():
    with WorkerProcesses(2, _nothing) as pool:
        yield pool


def test_a_later_call_to_a_slot_finds_what_its_earlier_call_left(workers):
    def each_slot(fn, *args):
        return workers.for_each(
            [0, 1], lambda slot, _: workers.submit(slot, fn, "ab"[slot], *args).result(),
            slot_of=lambda slot: slot,
        )  # fmt: skip

    pids = each_slot(remember, "kept")
    found = each_slot(recall)

    assert found == [(pids[0], "kept"), (pids[1], "kept")]
    assert pids[0] != pids[1]


def test_a_dead_worker_fails_only_its_call_and_its_slot_gets_a_new_process(workers):
    before, _ = workers.submit(0, recall, "x").result()

    with pytest.raises(WorkerDied, match="crashed or was killed"):
        workers.submit(0, die).result()
    after, _ = workers.submit(0, recall, "x").result()

    assert after != before
    assert workers.submit(1, recall, "x").result()[1] is None


def test_a_worker_killed_while_idle_is_replaced_before_the_next_call_runs(workers):
    """The OOM killer may pick a worker between two calls (holding a big workbook while the
    parent sends mail): the slot's next call runs in a new process instead of failing unrun."""
    pid, _ = workers.submit(0, recall, "x").result()
    os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not _gone(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the pool's own thread has seen the death

    after, remembered = workers.submit(0, recall, "x").result()

    assert after != pid and remembered is None


def test_workers_leave_ctrl_c_and_sigterm_to_the_parent(workers):
    assert workers.submit(0, ignore_ctrl_c_and_sigterm).result() == (True, True)


def test_worker_log_lines_reach_this_process_naming_the_item(caplog):
    caplog.set_level(logging.WARNING, logger="sheetsync")
    with WorkerProcesses(1, _nothing) as workers:
        workers.submit(0, warn_about, "Sales").result()

    (record,) = [r for r in caplog.records if r.name == log.name]
    assert record.getMessage() == "looked at Sales"
    assert record.workbook == "Sales"  # type: ignore[attr-defined]
    assert record.process != os.getpid()


PARENT = """
import os, sys, time
from sheetsync.ops.processes import WorkerProcesses
from tests.integration.ops.test_processes import _nothing
if __name__ == "__main__":
    pool = WorkerProcesses(1, _nothing)
    print(pool.submit(0, os.getpid).result(), flush=True)
    time.sleep(600)
"""


def _gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state == "Z"


@pytest.mark.skipif(sys.platform != "linux", reason="watches the worker through /proc")
def test_a_worker_ends_when_its_parent_is_killed(tmp_path):
    """A run killed with SIGKILL (the OOM killer, a timeout's last resort) leaves no worker
    waiting for work forever."""
    script = tmp_path / "parent.py"
    script.write_text(PARENT)
    root = Path(__file__).resolve().parents[3]
    parent = subprocess.Popen([sys.executable, str(script)], cwd=root, stdout=subprocess.PIPE,
                              text=True, env={**os.environ, "PYTHONPATH": str(root)})  # fmt: skip
    try:
        worker = int(parent.stdout.readline())  # type: ignore[union-attr]
        parent.kill()
        parent.wait()
        deadline = time.monotonic() + 30
        while not _gone(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _gone(worker)
    finally:
        parent.kill()
