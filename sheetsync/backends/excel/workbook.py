"""Excel workbooks (.xlsx): values are read from the file's XML, results written by patching it.

Reading (`read.py`) parses the worksheets with lxml and gives what openpyxl's read-only,
data-only mode would, so a formula arrives as the result Excel last calculated, several times
faster. Writing never goes through openpyxl: its save drops cached formula results,
drawings, sparklines and every extension block it does not model. Instead the .xlsx package (a
zip of XML parts) is patched, touching only

* the `<c>` elements of the cells sheetsync owns on people's tabs (a formula there is replaced),
  spliced into the sheet's XML as text (`sheet_text.py`), so the rest of a person's sheet keeps
  its exact bytes and no tree of it is built (a sheet it cannot patch as text is edited as an
  lxml tree);
* `xl/styles.xml`, which gains only the fills, number formats and cell formats those cells need
  and reuses them when they are already there, so a second run adds nothing;
* the worksheets of the tabs sheetsync owns (their `<sheetData>`: only the rows that show
  something else are written again, spliced into the sheet's text, the other rows keeping their
  bytes), and their registration in `workbook.xml`, its relationships, `[Content_Types].xml`
  and `docProps/app.xml` when created;
* `xl/calcChain.xml`, only to drop the formulas sheetsync overwrote, and `workbook.xml`'s
  `<calcPr fullCalcOnLoad="1">`, so that formulas depending on the new values are recalculated
  when the workbook is next opened.

An unchanged run finds there is nothing to write without building what it would write: a tab
is recognised by digests of the content sheetsync last wrote to it (an owned tab's rows, a
person's tab's output cells), kept in a hidden defined name local to the tab (`digests.py`);
on a person's tab that changed, the cells to be written are found by one search of its XML
and compared where they stand (`SheetText.scan`).

Every other part is copied unchanged. Nothing is written when nothing changed; otherwise the new
file replaces the old one atomically, after a backup, and never while Excel or LibreOffice has
it open or after it changed on disk since it was read.

This module holds only `ExcelWorkbook`, the port's implementation, which wires the others:
`read.py` (reading values), `disk.py` (the file on disk: checks, atomic replace, backups),
`editor.py` (applying a plan to the package in memory) and, below it, `package.py` (the zip's
parts), `sheet_text.py` (a person's worksheet patched as text), `worksheet.py` (a worksheet's
XML as a tree), `styles.py` (fills, number formats, cell formats),
`owned_tabs.py` (owned tabs' rows as XML text), `cells.py` (references and cell values),
`shared_strings.py`, `serials.py` (built-in number formats, date serials) and `ooxml.py`
(namespaces, tags, schema order); `limits.py` bounds what
is read (each part's size, each text's length) and refuses parts that declare a DTD.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Mapping, Sequence
from io import BytesIO
from pathlib import Path

from lxml import etree

from sheetsync.backends.base import (
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)
from sheetsync.backends.excel.disk import SeenFile, WorkbookFile
from sheetsync.backends.excel.editor import PlanEditor
from sheetsync.backends.excel.limits import Limits
from sheetsync.backends.excel.ooxml import DamagedPackage, RefusedPackage
from sheetsync.backends.excel.read import read_values
from sheetsync.backends.gcpause import cyclic_gc_paused
from sheetsync.core.errors import BackendError, WorkbookLayoutError

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

    `limits` bound what is read from the file (each part's size, each cell's text); a workbook
    beyond them, saved as Strict Open XML or with a part that declares a DTD is refused with a
    BackendError saying why.

    `stale_temp_before` (a time, as `time.time()` gives it: when the run took its lock): the
    first `read` removes the temporary files that saves killed before then left beside the file.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        label: str | None = None,
        backups: int = 1,
        limits: Limits | None = None,
        stale_temp_before: float | None = None,
    ) -> None:
        if backups < 0:
            raise ValueError("backups must be 0 or more")
        self.path = Path(os.path.abspath(path))
        self.label = label or self.path.name
        self.location = str(self.path)
        self.backups = backups
        self.limits = limits or Limits()
        self._file = WorkbookFile(self.path, label=self.label, backups=backups)
        self._seen: SeenFile | None = None
        self._stale_temp_before = stale_temp_before

    def read(self, tabs: Sequence[str], heads: Mapping[str, str] | None = None) -> Snapshot:
        """Read the named tabs' values; formulas give the result Excel last calculated.

        Each sheet is read row by row and nothing parsed is kept: `write` patches people's
        tabs as text and parses only the owned tabs it has to change.
        """
        if self._stale_temp_before is not None:
            self._file.remove_stale_temp_files(self._stale_temp_before)
            self._stale_temp_before = None  # once per sync
        seen = self._seen = self._file.load()
        try:
            with cyclic_gc_paused():
                values = read_values(
                    zipfile.ZipFile(BytesIO(seen.data)), tabs, limits=self.limits, heads=heads
                )
        except (zipfile.BadZipFile, KeyError, SyntaxError) as exc:
            raise self._file.not_xlsx(exc) from exc
        except RefusedPackage as exc:
            raise BackendError(str(exc), workbook=self.label) from None
        return Snapshot(
            values.grids,
            number_formats=values.formats,
            output_columns=values.output_columns,
        )

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
        seen = self._seen or self._file.load()
        self._file.check_unchanged(seen)
        try:
            with cyclic_gc_paused():
                editor = PlanEditor(seen.data, limits=self.limits)
                result = editor.apply(plan)
                data = editor.package.to_bytes() if result.wrote else b""
        except zipfile.BadZipFile as exc:
            raise self._file.not_xlsx(exc) from exc
        except RefusedPackage as exc:
            raise BackendError(str(exc), workbook=self.label) from None
        except (DamagedPackage, etree.XMLSyntaxError, UnicodeDecodeError) as exc:
            # UnicodeDecodeError: a part declaring UTF-8 holds other bytes (the text path)
            raise BackendError(
                f"the workbook is damaged ({exc}); open and save it in Excel, then run again",
                workbook=self.label,
            ) from exc
        except WorkbookLayoutError as exc:
            raise WorkbookLayoutError(exc.detail, workbook=self.label) from None
        if not result.wrote:
            return result
        self._file.check_not_open()
        self._file.check_writable(seen)
        self._seen = self._file.replace(data, seen)
        return result
