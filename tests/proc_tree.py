"""This test process's own processes, found through /proc (Linux): the fork server it started
and the worker processes that fork server forked, for tests that kill them."""

from __future__ import annotations

import os
import time
from pathlib import Path


def _stat(entry: Path) -> tuple[str, int] | None:
    """A process's state letter and parent pid, or None when it is gone."""
    try:
        fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        return fields[0], int(fields[1])
    except (OSError, IndexError, ValueError):
        return None


def gone(pid: int) -> bool:
    """The process has ended (or is a zombie nobody has waited for yet)."""
    stat = _stat(Path(f"/proc/{pid}"))
    return stat is None or stat[0] == "Z"


def wait_gone(*pids: int, seconds: float = 30.0) -> None:
    """Wait until every one of `pids` has ended (a kill is delivered asynchronously)."""
    deadline = time.monotonic() + seconds
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, f"processes {pids} still run after {seconds} s"
        time.sleep(0.01)


def wait_signal_taken(pid: int, signum: int, seconds: float = 30.0) -> None:
    """Wait until process `pid` has taken signal `signum` (no longer pending for it or its
    threads: its handler has been called)."""
    bit = 1 << (signum - 1)
    deadline = time.monotonic() + seconds
    while True:
        try:
            lines = Path(f"/proc/{pid}/status").read_text().splitlines()
        except OSError:
            return  # it ended
        pending = [
            int(line.split()[1], 16) for line in lines if line.startswith(("SigPnd:", "ShdPnd:"))
        ]
        if not any(mask & bit for mask in pending):
            return
        assert time.monotonic() < deadline, f"process {pid} never took signal {signum}"
        time.sleep(0.01)


def fork_servers() -> list[int]:
    """This process's children that are multiprocessing's fork server."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or (stat := _stat(entry)) is None or stat[1] != os.getpid():
            continue
        try:
            if b"multiprocessing.forkserver" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def worker_pids() -> list[int]:
    """This process's grandchildren: the workers the fork server (a child) forked."""
    parent_of = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry)) is not None and stat[0] != "Z":
            parent_of[int(entry.name)] = stat[1]
    children = {pid for pid, parent in parent_of.items() if parent == os.getpid()}
    return sorted(pid for pid, parent in parent_of.items() if parent in children)
