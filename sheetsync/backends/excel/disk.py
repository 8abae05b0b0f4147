"""The .xlsx file on disk: reading it whole, refusing to replace it when it changed since it was
read, is open in Excel or LibreOffice or is read-only, replacing it atomically after rotating its
backups, and removing the temporary files of saves that were killed."""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import re
import shutil
import stat
import tempfile
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

from sheetsync.core.errors import BackendError, WorkbookBusyError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SeenFile:
    """The file as `read` (or the last `write`) left it."""

    data: bytes
    sha256: bytes
    size: int
    mtime_ns: int
    stat: os.stat_result


def _fsync_dir(folder: Path) -> None:
    """Make a rename in `folder` survive a power cut (POSIX; elsewhere a no-op)."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class WorkbookFile:
    """The file behind one `ExcelWorkbook`: where it is, what to call it, how many backups.

    `target` is the file a symlink points to: that file is replaced, the symlink kept. Only
    the first `replace` of an object makes a backup (one object is one sync).
    """

    def __init__(self, path: Path, *, label: str, backups: int) -> None:
        self.path = path
        self.label = label
        self.location = str(path)
        self.backups = backups
        self.target = Path(os.path.realpath(path))  # replace the target, not a symlink
        self._backed_up = False

    def _temp_prefix(self) -> str:
        return f".{self.target.name}."

    def remove_stale_temp_files(self, before: float) -> list[Path]:
        """Delete the temporary files of this workbook's saves that were killed mid-way.

        `replace` writes `.name.xlsx.<8 random characters>.tmp` beside the file and renames it
        over the file; a process killed in between leaves it, full size. Only files of exactly
        that name, modified before `before` (when this run took the run lock, so no save of
        this run or another can still be writing them), are removed. Best effort: one that
        cannot be removed is left. Returns the files removed.
        """
        name = re.compile(re.escape(self._temp_prefix()) + r"[a-z0-9_]{8}\.tmp")
        removed: list[Path] = []
        try:
            candidates = [e for e in os.scandir(self.target.parent) if name.fullmatch(e.name)]
        except OSError:
            return removed
        for entry in candidates:
            try:
                if entry.is_file(follow_symlinks=False) and entry.stat().st_mtime < before:
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
            except OSError:
                continue
        for path in removed:
            log.info("%s: removed %s, left by a save that was interrupted", self.label, path)
        return removed

    def load(self) -> SeenFile:
        """Read the whole file, with what identifies this version of it."""
        try:
            with open(self.target, "rb") as fh:
                info = os.fstat(fh.fileno())
                data = fh.read()
        except FileNotFoundError as exc:
            raise BackendError(f"file not found: {self.location}", workbook=self.label) from exc
        except IsADirectoryError as exc:
            raise BackendError(
                f"{self.location} is a folder, not an .xlsx workbook", workbook=self.label
            ) from exc
        except PermissionError as exc:
            raise BackendError(
                f"no permission to read {self.location}; check the file's permissions",
                workbook=self.label,
            ) from exc
        return SeenFile(data, hashlib.sha256(data).digest(), info.st_size, info.st_mtime_ns, info)

    def not_xlsx(self, exc: Exception) -> BackendError:
        return BackendError(
            f"{self.location} is not an .xlsx workbook (an old .xls file or a password-protected"
            f" one?); save it as 'Excel Workbook (.xlsx)' ({exc})",
            workbook=self.label,
        )

    def check_unchanged(self, seen: SeenFile, *, hash_bytes: bool = True) -> None:
        try:
            info = os.stat(self.target)
        except FileNotFoundError as exc:
            raise BackendError(
                f"file not found: {self.location} (moved or deleted while sheetsync worked on it)",
                workbook=self.label,
            ) from exc
        same = (info.st_size, info.st_mtime_ns) == (seen.size, seen.mtime_ns)
        if same and hash_bytes:
            same = hashlib.sha256(self.target.read_bytes()).digest() == seen.sha256
        if not same:
            raise WorkbookBusyError(
                "it changed on disk since sheetsync read it (saved by someone?); run again",
                workbook=self.label,
            )

    def check_not_open(self) -> None:
        for folder, name in {(p.parent, p.name) for p in (self.path, self.target)}:
            for lock, program in ((f"~${name}", "Excel"), (f".~lock.{name}#", "LibreOffice")):
                if (folder / lock).exists():
                    raise WorkbookBusyError(
                        f"it is open in {program} ({lock} exists beside it); close it in "
                        f"Excel/LibreOffice and run again (if no one has it open, delete "
                        f"{folder / lock})",
                        workbook=self.label,
                    )

    def check_writable(self, seen: SeenFile) -> None:
        """Honour a read-only file, which replacing it would otherwise ignore."""
        write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        if not seen.stat.st_mode & write_bits or not os.access(self.target, os.W_OK):
            raise BackendError(
                f"{self.location} is read-only; allow changes to it (file properties or "
                "permissions) and run again",
                workbook=self.label,
            )

    def replace(self, data: bytes, seen: SeenFile) -> SeenFile:
        """Write `data` to a temporary file, keep a backup, then swap it in with one rename.

        Returns the file as it now is on disk.
        """
        folder = self.target.parent
        try:
            fd, tmp_name = tempfile.mkstemp(prefix=self._temp_prefix(), suffix=".tmp", dir=folder)
        except OSError as exc:
            raise BackendError(f"cannot save in {folder}: {exc}", workbook=self.label) from exc
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(OSError):
                os.chmod(tmp, stat.S_IMODE(seen.stat.st_mode))
            self.check_unchanged(seen, hash_bytes=False)
            self._keep_backup()
            os.replace(tmp, self.target)
        except BaseException as exc:
            with contextlib.suppress(OSError):
                tmp.unlink()
            if isinstance(exc, OSError):
                raise BackendError(
                    f"could not save {self.location}: {exc.strerror or exc}; if a program has it "
                    "open, close it and run again",
                    workbook=self.label,
                ) from exc
            raise
        _fsync_dir(folder)
        info = os.stat(self.target)
        return SeenFile(data, hashlib.sha256(data).digest(), info.st_size, info.st_mtime_ns, info)

    def _keep_backup(self) -> None:
        if not self.backups or self._backed_up:
            return
        self._backed_up = True
        name, folder = self.target.name, self.target.parent
        if self.backups == 1:
            generations = [folder / f"{name}.bak"]
        else:
            generations = [folder / f"{name}.bak.{n}" for n in range(1, self.backups + 1)]
        for newer, older in reversed(list(pairwise(generations))):
            if newer.exists():
                os.replace(newer, older)
        newest = generations[0]
        newest.unlink(missing_ok=True)
        try:
            os.link(self.target, newest)  # the old file itself becomes the backup: no copy
        except OSError:
            shutil.copy2(self.target, newest)
