"""Worker processes: a later call reaches the process of an earlier one, a death fails only the
call it was running, and the workers' log lines reach this process's loggers, tagged."""

from __future__ import annotations

import logging
import os
import signal

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


def ignore_ctrl_c() -> bool:
    return signal.getsignal(signal.SIGINT) is signal.SIG_IGN


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


def test_workers_leave_ctrl_c_and_sigterm_to_the_parent(workers):
    assert workers.submit(0, ignore_ctrl_c).result() is True


def test_worker_log_lines_reach_this_process_naming_the_item(caplog):
    caplog.set_level(logging.WARNING, logger="sheetsync")
    with WorkerProcesses(1, _nothing) as workers:
        workers.submit(0, warn_about, "Sales").result()

    (record,) = [r for r in caplog.records if r.name == log.name]
    assert record.getMessage() == "looked at Sales"
    assert record.workbook == "Sales"  # type: ignore[attr-defined]
    assert record.process != os.getpid()
