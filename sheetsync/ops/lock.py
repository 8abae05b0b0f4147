"""One run at a time: an OS-level file lock beside the state, released when the holder dies.

Cron, `sheetsync serve` and a person at a terminal all take the same lock, so two runs never
write the same workbooks at once. The lock is `flock(2)` on `<state_dir>/sheetsync.lock`
(through `filelock`), so the kernel drops it when the process exits for any reason, including
`kill -9` and power loss: there is no stale lock to clean up by hand.

A sidecar file (`sheetsync.lock.info`) records who holds the lock (PID, host, start time) so the
refusal message can say which run is in the way. It is informative only: the lock itself is the
`flock`, and a sidecar left behind by a crashed run is simply overwritten by the next holder.

Example:
    with run_lock(config.resolve(config.state_dir)):
        report = run_all(config, as_of)
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from sheetsync.core.errors import ConfigError, LockHeldError

LOCK_NAME = "sheetsync"


def lock_path(state_dir: Path, name: str = LOCK_NAME) -> Path:
    """Where the lock file for `name` lives in `state_dir`."""
    return Path(state_dir) / f"{name}.lock"


@contextmanager
def run_lock(state_dir: Path, *, name: str = LOCK_NAME) -> Iterator[Path]:
    """Hold the run lock for the body of the `with`; refuse at once if another run holds it.

    Raises `LockHeldError` (exit code 3 in the CLI) without waiting when the lock is taken, and
    `ConfigError` (key `state_dir`) when the lock file cannot be created. Yields the lock path.

    `name` separates locks that may be held at the same time, e.g. one per shard when several
    shards share a state folder: `run_lock(state, name="sheetsync-shard-0-of-4")`.
    """
    path = lock_path(state_dir, name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(
            f"cannot create the state folder {path.parent}: {exc.strerror or exc}",
            key="state_dir",
        ) from exc
    lock = FileLock(path, timeout=0)
    try:
        lock.acquire()
    except Timeout as exc:
        raise LockHeldError(
            f"another sheetsync run is in progress ({_describe_holder(path)}lock file {path}); "
            "this one exits"
        ) from exc
    except OSError as exc:
        raise ConfigError(
            f"cannot create the lock file {path}: {exc.strerror or exc}", key="state_dir"
        ) from exc
    info = _info_path(path)
    try:
        _write_holder(info)
        yield path
    finally:
        with suppress(OSError):
            info.unlink()
        lock.release()


def _info_path(path: Path) -> Path:
    return path.with_name(path.name + ".info")


def _write_holder(info: Path) -> None:
    """Best effort: a missing sidecar only makes the refusal message less specific."""
    holder = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "started": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = info.with_name(info.name + f".{os.getpid()}.tmp")
    with suppress(OSError):
        tmp.write_text(json.dumps(holder), encoding="utf-8")
        os.replace(tmp, info)


def _describe_holder(path: Path) -> str:
    try:
        holder = json.loads(_info_path(path).read_text(encoding="utf-8"))
        return f"pid {int(holder['pid'])} on {holder['host']}, started {holder['started']}; "
    except (OSError, ValueError, KeyError, TypeError):
        return ""
