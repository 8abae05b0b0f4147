"""The .xlsx file on disk as `read` saw it, and syncing a folder after replacing a file in it."""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SeenFile:
    """The file as `read` (or the last `write`) left it."""

    data: bytes
    sha256: bytes
    size: int
    mtime_ns: int
    stat: os.stat_result


def fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
