"""Excel workbooks (.xlsx): values are read from the file's XML, results written by patching it.

Reading (`xlsx_read`) parses the worksheets with lxml and gives what openpyxl's read-only,
data-only mode would, so a formula arrives as the result Excel last calculated, several times
faster. Writing never goes through openpyxl: its save drops cached formula results,
drawings, sparklines and every extension block it does not model. Instead the .xlsx package (a
zip of XML parts) is patched with lxml, touching only

* the `<c>` elements of the cells sheetsync owns on people's tabs (a formula there is replaced);
* `xl/styles.xml`, which gains only the fills, number formats and cell formats those cells need
  and reuses them when they are already there, so a second run adds nothing;
* the worksheets of the tabs sheetsync owns (their `<sheetData>`), and their registration in
  `workbook.xml`, its relationships, `[Content_Types].xml` and `docProps/app.xml` when created;
* `xl/calcChain.xml`, only to drop the formulas sheetsync overwrote, and `workbook.xml`'s
  `<calcPr fullCalcOnLoad="1">`, so that formulas depending on the new values are recalculated
  when the workbook is next opened.

Every other part is copied unchanged. Nothing is written when nothing changed; otherwise the new
file replaces the old one atomically, after a backup, and never while Excel or LibreOffice has
it open or after it changed on disk since it was read.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import zipfile
from collections.abc import Sequence
from io import BytesIO
from itertools import pairwise
from pathlib import Path
from typing import Any

from lxml import etree

from sheetsync.backends.base import (
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)
from sheetsync.backends.excel.disk import SeenFile, fsync_dir
from sheetsync.backends.excel.editor import PlanEditor
from sheetsync.backends.excel.ooxml import DamagedPackage
from sheetsync.backends.excel.read import read_values
from sheetsync.backends.gcpause import cyclic_gc_paused
from sheetsync.core.errors import BackendError, WorkbookBusyError, WorkbookLayoutError

__all__ = ["ExcelWorkbook"]


class ExcelWorkbook(WorkbookBackend):
    """An .xlsx file on disk.

    `read` keeps the file's bytes; `write` patches exactly those bytes and refuses to write when
    the file on disk is no longer byte-for-byte what `read` saw. That check covers the whole
    workbook, so the plan's row guards are satisfied implicitly and not checked one by one.
    `write` may be called more than once (it then starts from what it wrote last).

    `backups` previous versions are kept beside the file: `name.xlsx.bak` when 1, otherwise
    `name.xlsx.bak.1` (the newest) to `name.xlsx.bak.<backups>`; 0 keeps none. One object is
    one sync, so only its first write makes a backup: the backup is the file as it was before
    the sync, not the sync's own first save (a run saves twice when it records alert delivery).
    """

    def __init__(
        self, path: str | os.PathLike[str], *, label: str | None = None, backups: int = 1
    ) -> None:
        if backups < 0:
            raise ValueError("backups must be 0 or more")
        self.path = Path(os.path.abspath(path))
        self.label = label or self.path.name
        self.location = str(self.path)
        self.backups = backups
        self._file = Path(os.path.realpath(self.path))  # replace the target, not a symlink
        self._seen: SeenFile | None = None
        self._parsed: tuple[SeenFile, dict[str, Any]] | None = None
        self._backed_up = False

    def read(self, tabs: Sequence[str]) -> Snapshot:
        """Read the named tabs' values; formulas give the result Excel last calculated.

        The worksheets parsed to read them are kept for `write`, which patches those trees
        rather than parsing the same parts again.
        """
        self._parsed = None
        seen = self._seen = self._load()
        try:
            with cyclic_gc_paused():
                values = read_values(zipfile.ZipFile(BytesIO(seen.data)), tabs)
        except (zipfile.BadZipFile, KeyError, SyntaxError) as exc:
            raise self._not_xlsx(exc) from exc
        self._parsed = (seen, values.trees)
        return Snapshot(values.grids)

    def write(self, plan: WritePlan) -> WriteResult:
        """Patch the owned cells and tabs to the plan's content, or leave the file untouched.

        Raises WorkbookBusyError when the file changed on disk since `read` (which also covers
        the plan's row guards) or, if something is to be written, when Excel or LibreOffice has
        it open; WorkbookLayoutError when a tab to write is missing, is a chart, cannot be
        created under its name, or holds an array formula reaching into the cells to write;
        BackendError when the file cannot be parsed or saved.
        """
        if plan.is_empty:
            return WriteResult()
        seen = self._seen or self._load()
        self._check_unchanged(seen)
        parsed, self._parsed = self._parsed, None  # the editor changes the trees: use them once
        trees = parsed[1] if parsed is not None and parsed[0] is seen else {}
        try:
            with cyclic_gc_paused():
                editor = PlanEditor(seen.data, trees)
                result = editor.apply(plan)
                data = editor.package.to_bytes() if result.wrote else b""
        except zipfile.BadZipFile as exc:
            raise self._not_xlsx(exc) from exc
        except (DamagedPackage, etree.XMLSyntaxError) as exc:
            raise BackendError(
                f"the workbook is damaged ({exc}); open and save it in Excel, then run again",
                workbook=self.label,
            ) from exc
        except WorkbookLayoutError as exc:
            raise WorkbookLayoutError(exc.detail, workbook=self.label) from None
        if not result.wrote:
            return result
        self._check_not_open()
        self._check_writable(seen)
        self._replace(data, seen)
        return result

    def close(self) -> None:
        """Drop the worksheets kept from `read` for `write`."""
        self._parsed = None

    # --- the file on disk ---------------------------------------------------------------

    def _load(self) -> SeenFile:
        try:
            with open(self._file, "rb") as fh:
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

    def _not_xlsx(self, exc: Exception) -> BackendError:
        return BackendError(
            f"{self.location} is not an .xlsx workbook (an old .xls file or a password-protected"
            f" one?); save it as 'Excel Workbook (.xlsx)' ({exc})",
            workbook=self.label,
        )

    def _check_unchanged(self, seen: SeenFile, *, hash_bytes: bool = True) -> None:
        try:
            info = os.stat(self._file)
        except FileNotFoundError as exc:
            raise BackendError(
                f"file not found: {self.location} (moved or deleted while sheetsync worked on it)",
                workbook=self.label,
            ) from exc
        same = (info.st_size, info.st_mtime_ns) == (seen.size, seen.mtime_ns)
        if same and hash_bytes:
            same = hashlib.sha256(self._file.read_bytes()).digest() == seen.sha256
        if not same:
            raise WorkbookBusyError(
                "it changed on disk since sheetsync read it (saved by someone?); run again",
                workbook=self.label,
            )

    def _check_not_open(self) -> None:
        for folder, name in {(p.parent, p.name) for p in (self.path, self._file)}:
            for lock, program in ((f"~${name}", "Excel"), (f".~lock.{name}#", "LibreOffice")):
                if (folder / lock).exists():
                    raise WorkbookBusyError(
                        f"it is open in {program} ({lock} exists beside it); close it in "
                        f"Excel/LibreOffice and run again (if no one has it open, delete "
                        f"{folder / lock})",
                        workbook=self.label,
                    )

    def _check_writable(self, seen: SeenFile) -> None:
        """Honour a read-only file, which replacing it would otherwise ignore."""
        write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        if not seen.stat.st_mode & write_bits or not os.access(self._file, os.W_OK):
            raise BackendError(
                f"{self.location} is read-only; allow changes to it (file properties or "
                "permissions) and run again",
                workbook=self.label,
            )

    def _replace(self, data: bytes, seen: SeenFile) -> None:
        """Write `data` to a temporary file, keep a backup, then swap it in with one rename."""
        folder = self._file.parent
        try:
            fd, tmp_name = tempfile.mkstemp(
                prefix=f".{self._file.name}.", suffix=".tmp", dir=folder
            )
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
            self._check_unchanged(seen, hash_bytes=False)
            self._keep_backup()
            os.replace(tmp, self._file)
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
        fsync_dir(folder)
        info = os.stat(self._file)
        self._seen = SeenFile(
            data, hashlib.sha256(data).digest(), info.st_size, info.st_mtime_ns, info
        )

    def _keep_backup(self) -> None:
        if not self.backups or self._backed_up:
            return
        self._backed_up = True
        name, folder = self._file.name, self._file.parent
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
            os.link(self._file, newest)  # the old file itself becomes the backup: no copy
        except OSError:
            shutil.copy2(self._file, newest)
