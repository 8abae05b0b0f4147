"""Worker processes: a later call reaches the process of an earlier one, a death fails only the
call it was running, and the workers' log lines reach this process's loggers, tagged."""

from __future__ import annotations

import gc
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from sheetsync.ops.processes import WorkerDied, WorkerProcesses, tag
from tests.proc_tree import fork_servers, gone, wait_gone

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


def collected_here(module: str) -> tuple[bool, bool]:
    """Whether this worker's collector scans the namespace of `module` (imported before the
    worker started), and an object made in the worker."""
    made_here: dict[str, list[int]] = {"cells": [1, 2]}
    scanned = gc.get_objects()
    namespace = sys.modules[module].__dict__
    return any(o is namespace for o in scanned), any(o is made_here for o in scanned)


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
            [0, 1], lambda slot, _: workers.call(slot, fn, "ab"[slot], *args),
            slot_of=lambda slot: slot,
        )  # fmt: skip

    pids = each_slot(remember, "kept")
    found = each_slot(recall)

    assert found == [(pids[0], "kept"), (pids[1], "kept")]
    assert pids[0] != pids[1]


def test_a_dead_worker_fails_only_its_call_and_its_slot_gets_a_new_process(workers):
    before, _ = workers.call(0, recall, "x")

    with pytest.raises(WorkerDied, match="crashed or was killed"):
        workers.call(0, die)
    after, _ = workers.call(0, recall, "x")

    assert after != before
    assert workers.call(1, recall, "x")[1] is None


def test_a_worker_killed_while_idle_is_replaced_before_the_next_call_runs(workers):
    """The OOM killer may pick a worker between two calls (holding a big workbook while the
    parent sends mail): the slot's next call runs in a new process instead of failing unrun."""
    pid, _ = workers.call(0, recall, "x")
    os.kill(pid, signal.SIGKILL)
    wait_gone(pid)  # the next call finds its pipe closed and starts a new process

    after, remembered = workers.call(0, recall, "x")

    assert after != pid and remembered is None


def test_workers_leave_ctrl_c_and_sigterm_to_the_parent(workers):
    assert workers.call(0, ignore_ctrl_c_and_sigterm) == (True, True)


def test_a_workers_collector_leaves_alone_what_it_inherited(workers):
    # Each collection in a worker would otherwise rescan every module the fork server imported
    # (and write to their pages, which the fork had shared).
    inherited, own = workers.call(0, collected_here, "sheetsync.ops.processes")

    assert (inherited, own) == (False, True)


def test_worker_log_lines_reach_this_process_naming_the_item(caplog):
    caplog.set_level(logging.WARNING, logger="sheetsync")
    with WorkerProcesses(1, _nothing) as workers:
        workers.call(0, warn_about, "Sales")

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
    print(pool.call(0, os.getpid), flush=True)
    time.sleep(600)
"""


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
        while not gone(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert gone(worker)
    finally:
        parent.kill()


def finish_when(flag: str, started: str, out: str) -> str:
    """A call that says it started, waits for `flag`, then leaves its work in `out`."""
    Path(started).touch()
    while not os.path.exists(flag):
        time.sleep(0.02)
    Path(out).write_text("written")
    return "finished"


def _wait_for(path: Path) -> None:
    deadline = time.monotonic() + 30
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.02)


@pytest.mark.skipif(sys.platform != "linux", reason="finds the fork server through /proc")
def test_a_call_that_finishes_after_the_fork_server_was_killed_answers_with_its_result(
    workers, tmp_path
):
    """systemd or the OOM killer may kill the fork server while a worker is busy; the worker
    itself lives on and finishes its workbook, so its call must answer as it finished, not
    be reported as failed (a workbook written but reported failed)."""
    flag, started, out = tmp_path / "go", tmp_path / "started", tmp_path / "out"
    answers: list[object] = []

    def run() -> None:
        try:
            answers.append(workers.call(0, finish_when, str(flag), str(started), str(out)))
        except BaseException as exc:  # seen by the assertion below
            answers.append(exc)

    caller = threading.Thread(target=run)
    caller.start()
    _wait_for(started)
    (server,) = fork_servers()
    os.kill(server, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not gone(server) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)  # the pool has seen the fork server's end
    flag.touch()
    caller.join(30)

    assert answers == ["finished"] and out.read_text() == "written"
    assert workers.call(1, recall, "x")[1] is None  # a new process comes from a new fork server


def test_a_worker_killed_in_the_middle_of_a_call_says_its_outcome_is_unknown(workers):
    """The call may have done its work (a workbook written) before the kill: the error says
    the outcome is not known rather than that nothing happened."""
    with pytest.raises(WorkerDied, match="not known whether it finished") as died:
        workers.call(0, die)

    assert died.value.started
