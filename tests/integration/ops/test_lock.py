"""The run lock: a second run is refused at once, and a crashed holder leaves no lock behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from sheetsync.core.errors import ConfigError, LockHeldError
from sheetsync.ops.lock import lock_path, run_lock

REPO = Path(__file__).resolve().parents[2]

HOLDER = """
import sys, time
from pathlib import Path
from sheetsync.ops.lock import run_lock

with run_lock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


@contextmanager
def holder_process(state: Path) -> Iterator[subprocess.Popen[str]]:
    """A real process that takes the lock and sits on it."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(state)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "locked"
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        if proc.stdout:
            proc.stdout.close()


def take_lock(state: Path) -> None:
    with run_lock(state):
        pass


def test_a_second_run_in_the_same_process_is_refused(tmp_path: Path) -> None:
    with run_lock(tmp_path), pytest.raises(LockHeldError) as refused:
        take_lock(tmp_path)

    message = str(refused.value)
    assert "another sheetsync run is in progress" in message
    assert f"pid {os.getpid()}" in message
    assert str(lock_path(tmp_path)) in message
    assert message.endswith("this one exits")


def test_a_run_in_another_process_is_refused_and_named(tmp_path: Path) -> None:
    with holder_process(tmp_path) as holder:
        refused = pytest.raises(LockHeldError, match=f"pid {holder.pid}")
        with refused:
            take_lock(tmp_path)


def test_the_lock_is_released_when_the_holder_is_killed(tmp_path: Path) -> None:
    with holder_process(tmp_path) as holder:
        os.kill(holder.pid, signal.SIGKILL)
        holder.wait(timeout=10)

        with run_lock(tmp_path) as path:  # no stale lock to clean up by hand
            assert path == lock_path(tmp_path)
            info = path.with_name(path.name + ".info").read_text(encoding="utf-8")
            assert f'"pid": {os.getpid()}' in info  # the dead holder's sidecar was replaced


def test_the_lock_is_released_when_the_run_raises(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError), run_lock(tmp_path):
        raise RuntimeError("the run failed")

    take_lock(tmp_path)
    assert not lock_path(tmp_path).with_name("sheetsync.lock.info").exists()


def test_the_state_folder_is_created(tmp_path: Path) -> None:
    state = tmp_path / "state" / "nested"
    with run_lock(state) as path:
        assert path.parent == state


def test_locks_with_different_names_do_not_block_each_other(tmp_path: Path) -> None:
    with (
        run_lock(tmp_path, name="sheetsync-shard-0-of-2"),
        run_lock(tmp_path, name="sheetsync-shard-1-of-2"),
    ):
        pass


def test_a_state_folder_that_cannot_be_made_is_a_config_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="utf-8")

    with pytest.raises(ConfigError, match="state_dir"):
        take_lock(blocker / "state")
