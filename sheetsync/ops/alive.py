"""`serve`'s liveness file, and the container HEALTHCHECK that reads it.

A container's health check cannot ask a Python loop whether it is stuck, so `serve` writes a
small file: `{"state": "idle"}` on every turn of its scheduler loop (at least once a minute)
and `{"state": "running"}` when a nightly run starts. The check
(`python -m sheetsync.ops.alive`) passes while the file is fresh: written within
`IDLE_LIMIT_SECONDS` when idle, or within `RUN_LIMIT_SECONDS` while a run is in hand (a run
may take hours; the nightly Job's own deadline is 4 hours). Where the file lives comes from
the `SHEETSYNC_ALIVE_FILE` environment variable, which the container image sets; without it,
`serve` writes nothing.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Literal

ALIVE_FILE_ENV = "SHEETSYNC_ALIVE_FILE"
IDLE_LIMIT_SECONDS = 15 * 60
RUN_LIMIT_SECONDS = 4 * 60 * 60

State = Literal["idle", "running"]

log = logging.getLogger(__name__)


def alive_file(env: dict[str, str] | None = None) -> Path | None:
    """The liveness file named by SHEETSYNC_ALIVE_FILE, or None when it is not set."""
    value = (os.environ if env is None else env).get(ALIVE_FILE_ENV, "").strip()
    return Path(value) if value else None


def mark(path: Path | None, state: State) -> None:
    """Record that `serve` is alive and what it is doing (replaced atomically)."""
    if path is None:
        return
    temporary = path.with_name(path.name + ".tmp")
    try:
        temporary.write_text(json.dumps({"state": state, "pid": os.getpid()}), encoding="utf-8")
        temporary.replace(path)
    except OSError as exc:  # a read-only /tmp must not stop the syncs, only the health check
        log.warning("cannot write the liveness file %s: %s", path, exc.strerror)


def check(path: Path, *, now: float | None = None) -> tuple[bool, str]:
    """(healthy, reason): is the liveness file fresh enough for the state it records?"""
    now = time.time() if now is None else now
    try:
        age = now - path.stat().st_mtime
        state = json.loads(path.read_text(encoding="utf-8")).get("state", "idle")
    except (OSError, ValueError, AttributeError):
        return False, f"{path}: no liveness file yet (is `sheetsync serve` running?)"
    limit = RUN_LIMIT_SECONDS if state == "running" else IDLE_LIMIT_SECONDS
    if age > limit:
        return False, f"{path}: {state} and not updated for {age:.0f} s (limit {limit} s)"
    return True, f"{state}, updated {age:.0f} s ago"


def main() -> int:
    """The HEALTHCHECK: exit 0 when healthy, 1 when not, with the reason on stdout."""
    path = alive_file()
    if path is None:
        print(f"{ALIVE_FILE_ENV} is not set")
        return 1
    healthy, reason = check(path)
    print(reason)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
