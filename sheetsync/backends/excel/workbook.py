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
import copy
import hashlib
import math
import os
import posixpath
import re
import secrets
import shutil
import stat
import tempfile
import zipfile
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from io import BytesIO
from itertools import chain, pairwise, repeat
from pathlib import Path
from typing import Any, TypeAlias

from lxml import etree
from openpyxl.formula.translate import Translator
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_REVERSE
from openpyxl.utils.datetime import CALENDAR_MAC_1904, CALENDAR_WINDOWS_1900, to_excel

from sheetsync.backends.base import (
    CellValue,
    OwnedTab,
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)
from sheetsync.backends.excel.read import new_parser, read_values
from sheetsync.backends.gcpause import cyclic_gc_paused
from sheetsync.core.errors import BackendError, WorkbookBusyError, WorkbookLayoutError
from sheetsync.core.model import Colour

__all__ = ["ExcelWorkbook"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CONTENT_TYPES = "http://schemas.openxmlformats.org/package/2006/content-types"
_APP = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
_VT = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_WORKSHEET_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
_STYLES_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

_C, _V, _F, _IS, _T, _R = (f"{{{_MAIN}}}{tag}" for tag in ("c", "v", "f", "is", "t", "r"))
_ROW, _COL, _EXT_LST = (f"{{{_MAIN}}}{tag}" for tag in ("row", "col", "extLst"))
_RELATIONSHIP = f"{{{_PKG_REL}}}Relationship"

# Where a new child element may go: the schemas fix the order of a part's top-level children.
_WORKBOOK_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
    "externalReferences definedNames calcPr oleSize customWorkbookViews pivotCaches "
    "smartTagPr smartTagTypes webPublishing fileRecoveryPr webPublishObjects extLst"
).split()
_STYLES_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "numFmts fonts fills borders cellStyleXfs cellXfs cellStyles dxfs tableStyles colors extLst"
).split()
_WORKSHEET_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
    "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews "
    "mergeCells phoneticPr conditionalFormatting dataValidations hyperlinks printOptions "
    "pageMargins pageSetup headerFooter rowBreaks colBreaks customProperties cellWatches "
    "ignoredErrors smartTags drawing legacyDrawing legacyDrawingHF drawingHF picture "
    "oleObjects controls webPublishItems tableParts extLst"
).split()

_NEW_WORKSHEET = (
    f'<worksheet xmlns="{_MAIN}" xmlns:r="{_DOC_REL}"><dimension ref="A1"/>'
    '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    "</worksheet>"
).encode()
_NEW_STYLES = (
    f'<styleSheet xmlns="{_MAIN}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
).encode()

_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_MAX_TEXT = 32767  # the most characters an Excel cell holds
_ILLEGAL_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPE_LIKE = re.compile(r"_(x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
_DIGITS = "0123456789"
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")
_BAD_TAB_CHARS = re.compile(r"[\[\]:*?/\\]")

_Val: TypeAlias = tuple[str, Any]
"""A cell's content as the XML states it: ("n", float), ("s", str), ("b", bool), ("e", code),
("f", None) for any formula (never equal to what sheetsync writes), or _BLANK."""
_BLANK: _Val = ("", None)
_Cell: TypeAlias = tuple[_Val, str | None, str]
"""What a cell of an owned tab shows: content, fill (RGB hex, "other" or None), number format."""


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
        self._seen: _Seen | None = None
        self._parsed: tuple[_Seen, dict[str, Any]] | None = None
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
                editor = _Editor(seen.data, trees)
                result = editor.apply(plan)
                data = editor.package.to_bytes() if result.wrote else b""
        except zipfile.BadZipFile as exc:
            raise self._not_xlsx(exc) from exc
        except (_Damaged, etree.XMLSyntaxError) as exc:
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

    def _load(self) -> _Seen:
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
        return _Seen(data, hashlib.sha256(data).digest(), info.st_size, info.st_mtime_ns, info)

    def _not_xlsx(self, exc: Exception) -> BackendError:
        return BackendError(
            f"{self.location} is not an .xlsx workbook (an old .xls file or a password-protected"
            f" one?); save it as 'Excel Workbook (.xlsx)' ({exc})",
            workbook=self.label,
        )

    def _check_unchanged(self, seen: _Seen, *, hash_bytes: bool = True) -> None:
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

    def _check_writable(self, seen: _Seen) -> None:
        """Honour a read-only file, which replacing it would otherwise ignore."""
        write_bits = stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
        if not seen.stat.st_mode & write_bits or not os.access(self._file, os.W_OK):
            raise BackendError(
                f"{self.location} is read-only; allow changes to it (file properties or "
                "permissions) and run again",
                workbook=self.label,
            )

    def _replace(self, data: bytes, seen: _Seen) -> None:
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
        _fsync_dir(folder)
        info = os.stat(self._file)
        self._seen = _Seen(
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


@dataclass(frozen=True)
class _Seen:
    """The file as `read` (or the last `write`) left it."""

    data: bytes
    sha256: bytes
    size: int
    mtime_ns: int
    stat: os.stat_result


def _fsync_dir(folder: Path) -> None:
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class _Damaged(Exception):
    """The package is not what a valid .xlsx holds; the message says where."""


# --- the package ---------------------------------------------------------------------------


class _Package:
    """The zip's parts: each parsed at most once, the unchanged ones copied as they were."""

    def __init__(self, data: bytes, trees: dict[str, Any] | None = None) -> None:
        """`trees`: parts already parsed from these same bytes (part name -> root)."""
        self._zip = zipfile.ZipFile(BytesIO(data))
        self._infos = self._zip.infolist()
        self._names = {info.filename.casefold(): info.filename for info in self._infos}
        self._parser = new_parser()
        self._trees: dict[str, Any] = dict(trees or {})
        self.splice_target = f"sheetsync-{secrets.token_hex(8)}"
        """The target of the processing instructions that stand, in a tree, for rows or cells
        kept as XML text until the part is serialised (`_splice`); random, so that no part
        can hold one already."""
        self.splices: dict[str, dict[str, str]] = {}
        """Part -> placeholder key -> the XML to put in its place."""
        self._changed: set[str] = set()
        self._added: dict[str, Any] = {}
        self._removed: set[str] = set()

    def find(self, name: str) -> str | None:
        """The part's name as stored (OPC part names are case-insensitive), if present."""
        if name in self._added:
            return name
        found = self._names.get(name.casefold())
        return None if found is None or found in self._removed else found

    def xml(self, name: str) -> Any:
        tree = self._trees.get(name)
        if tree is None:
            try:
                data = self._zip.read(name)
            except KeyError as exc:
                raise _Damaged(f"its part {name} is missing") from exc
            tree = self._trees[name] = etree.fromstring(data, self._parser)
        return tree

    def touch(self, name: str) -> None:
        if name not in self._added:
            self._changed.add(name)

    def add(self, name: str, root: Any) -> None:
        self._added[name] = self._trees[name] = root

    def remove(self, name: str) -> None:
        self._removed.add(name)

    def to_bytes(self) -> bytes:
        out = BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info in self._infos:
                name = info.filename
                if name in self._removed:
                    continue
                changed = name in self._changed
                data = self._serialize(name) if changed else self._zip.read(info)
                archive.writestr(_same_entry(info), data)
            for name in self._added:
                entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, self._serialize(name))
            archive.comment = self._zip.comment
        return out.getvalue()

    def _serialize(self, name: str) -> bytes:
        data = _xml_bytes(self._trees[name])
        splices = self.splices.get(name)
        return _splice(data, self.splice_target, splices) if splices else data


def _splice(data: bytes, target: str, splices: dict[str, str]) -> bytes:
    """Put each placeholder's XML where the placeholder stands in the serialised part.

    The XML is sheetsync's own (`_cell_xml`), well-formed by construction: text is cleaned of
    characters XML cannot hold and escaped as libxml2 escapes it.
    """
    pieces = re.split(rb"<\?" + re.escape(target.encode()) + rb" (\w+)\?>", data)
    if len(pieces) != 2 * len(splices) + 1:
        raise AssertionError("a placeholder for new rows went missing")
    pieces[1::2] = [splices[key.decode()].encode() for key in pieces[1::2]]
    return b"".join(pieces)


def _same_entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.compress_type = info.compress_type
    entry.external_attr = info.external_attr
    entry.create_system = info.create_system
    entry.comment = info.comment
    return entry


def _xml_bytes(root: Any) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def _resolve(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))


def _insert_ordered(parent: Any, child: Any, order: Sequence[str]) -> None:
    """Insert `child` before the first sibling the schema puts after it."""
    rank = order.index(etree.QName(child).localname)
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        name = etree.QName(sibling).localname
        if name in order and order.index(name) > rank:
            sibling.addprevious(child)
            return
    parent.append(child)


# --- cell references and values ------------------------------------------------------------


@lru_cache(maxsize=20000)
def _letters(col: int) -> str:
    text = ""
    while col:
        col, rest = divmod(col - 1, 26)
        text = chr(65 + rest) + text
    return text


_COLUMNS = {_letters(col): col for col in range(1, 16385)}
"""Column letters -> number, for every column a worksheet has."""


def _ref(row: int, col: int) -> str:
    return f"{_letters(col)}{row}"


@lru_cache(maxsize=20000)
def _column(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def _split_ref(ref: str) -> tuple[int, int]:
    found = _CELL_REF.fullmatch(ref)
    if found is None:
        raise _Damaged(f"bad cell reference {ref!r}")
    return int(found[2]), _column(found[1])


def _split_range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    r1, c1 = _split_ref(first)
    r2, c2 = _split_ref(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def _range(r1: int, c1: int, r2: int, c2: int) -> str:
    return _ref(r1, c1) if (r1, c1) == (r2, c2) else f"{_ref(r1, c1)}:{_ref(r2, c2)}"


def _clean_text(text: str) -> str:
    if text.isprintable() and len(text) <= _MAX_TEXT:  # the common case, without a regex
        return text
    return _ILLEGAL_XML.sub("", text)[:_MAX_TEXT]


def _escape(text: str) -> str:
    """Excel reads `_x0041_` as "A"; its own escape keeps such text literal."""
    return _ESCAPE_LIKE.sub(r"_x005F_\1", text) if "_x" in text else text


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


def _number_text(number: float) -> str:
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def _desired(value: CellValue, epoch: datetime) -> tuple[_Val, str | None]:
    """What to store for a Python value, and the number format it needs (dates)."""
    if value is None:
        return _BLANK, None
    if isinstance(value, bool):
        return ("b", value), None
    if isinstance(value, int | float):
        number = float(value)
        return (("n", number) if math.isfinite(number) else ("e", "#NUM!")), None
    if isinstance(value, datetime):
        return ("n", float(to_excel(value.replace(tzinfo=None), epoch))), _DATETIME_FORMAT
    if isinstance(value, date):
        return ("n", float(to_excel(value, epoch))), _DATE_FORMAT
    if isinstance(value, str):
        return ("s", _clean_text(value)), None
    raise TypeError(f"cannot write a {type(value).__name__} to a cell: {value!r}")


def _rich_text(element: Any) -> str:
    """The text of an `<is>` or `<si>`: its `<t>` or its runs' `<t>`s (not phonetic hints)."""
    if len(element) == 1 and element[0].tag == _T:
        return element[0].text or ""
    plain = element.find(_T)
    parts = [plain.text or ""] if plain is not None else []
    parts += [t.text or "" for run in element.iterfind(_R) for t in run.iterfind(_T)]
    return "".join(parts)


def _current(cell: Any, shared: Callable[[int], str]) -> _Val:
    if not len(cell):
        return _BLANK
    first = cell[0]  # the schema's order: f, v, is, extLst
    if first.tag == _F:
        return ("f", None)
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = first if first.tag == _IS else cell.find(_IS)
        return ("s", _unescape(_rich_text(inline))) if inline is not None else _BLANK
    text = first.text if first.tag == _V else None
    if not text:
        return _BLANK
    try:
        if kind == "n":
            return ("n", float(text))
        if kind == "s":
            return ("s", _unescape(shared(int(text))))
    except ValueError:
        return ("?", text)
    if kind == "str":
        return ("s", _unescape(text))
    if kind == "b":
        return ("b", text.strip() in ("1", "true"))
    return (kind, text)


def _set_value(cell: Any, value: _Val) -> None:
    if len(cell):
        for child in [*cell.iterchildren(_F, _V, _IS)]:
            cell.remove(child)
    if len(cell.attrib) > 1:
        for attribute in ("t", "cm", "vm"):  # vm/cm: metadata of the value or formula replaced
            cell.attrib.pop(attribute, None)
    kind, payload = value
    if not kind:
        return
    if len(cell):  # keep what follows the value (extLst)
        content = etree.Element(_IS if kind == "s" else _V)
        cell.insert(0, content)
    else:
        content = etree.SubElement(cell, _IS if kind == "s" else _V)
    if kind == "s":
        cell.set("t", "inlineStr")
        text = etree.SubElement(content, _T)
        text.text = _escape(payload)
        if payload != payload.strip():
            text.set(_XML_SPACE, "preserve")
    elif kind == "n":
        content.text = _number_text(payload)
    else:
        cell.set("t", kind)
        content.text = ("1" if payload else "0") if kind == "b" else payload


def _set_style(cell: Any, style: int) -> None:
    if style:
        cell.set("s", str(style))
    else:
        cell.attrib.pop("s", None)


class _SharedStrings:
    """The shared string table, read on first use (sheetsync itself writes inline strings)."""

    def __init__(self, package: _Package, part: str | None) -> None:
        self._package, self._part = package, part
        self._strings: list[str] | None = None

    def __call__(self, index: int) -> str:
        if self._strings is None:
            root = self._package.xml(self._part) if self._part else None
            items = [] if root is None else root.iterfind(f"{{{_MAIN}}}si")
            self._strings = [_rich_text(item) for item in items]
        return self._strings[index] if 0 <= index < len(self._strings) else ""


# --- styles --------------------------------------------------------------------------------


class _Styles:
    """`xl/styles.xml`: finds or adds the fills, number formats and cell formats cells need."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.changed = False
        fills, xfs = root.find(f"{{{_MAIN}}}fills"), root.find(f"{{{_MAIN}}}cellXfs")
        if fills is None or xfs is None or not len(xfs):
            raise _Damaged("xl/styles.xml has no fills or cell formats")
        self._fills_el, self._xfs_el = fills, xfs
        self._fills = list(fills)
        self._fill_keys = [_fill_key(fill) for fill in self._fills]
        self._xfs = list(xfs)
        self._xf_ids: dict[tuple[Any, ...], int] | None = None
        self._formats_el = root.find(f"{{{_MAIN}}}numFmts")
        self._formats: dict[int, str] = {}
        if self._formats_el is not None:
            for fmt in self._formats_el:
                with contextlib.suppress(TypeError, ValueError):
                    self._formats[int(fmt.get("numFmtId"))] = fmt.get("formatCode", "")
        self._derived: dict[tuple[int, Colour | None, str | None], int] = {}

    def _xf(self, style: int) -> Any:
        return self._xfs[style] if 0 <= style < len(self._xfs) else self._xfs[0]

    def fill_of(self, style: int) -> str | None:
        """The cell format's fill: an RGB hex for a plain solid fill, None, or "other"."""
        fill_id = int(self._xf(style).get("fillId", "0"))
        return self._fill_keys[fill_id] if 0 <= fill_id < len(self._fills) else None

    def format_of(self, style: int) -> str:
        return self._format_code(int(self._xf(style).get("numFmtId", "0")))

    def _format_code(self, fmt_id: int) -> str:
        return self._formats.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id) or f"#{fmt_id}"

    def derive(self, base: int, fill: Colour | None, number_format: str | None) -> int:
        """Cell format `base` with `fill` (None: no fill) and `number_format` (None: as it is).

        Returns `base` itself when it already looks like that, else an existing identical
        format if there is one, else a new one.
        """
        key = (base, fill, number_format)
        found = self._derived.get(key)
        if found is None:
            found = self._derive(base, fill, number_format, create=True)
            assert found is not None  # creating never fails
            self._derived[key] = found
        return found

    def existing(self, base: int, fill: Colour | None, number_format: str | None) -> int | None:
        """What `derive` would return, or None where it would have to add a format.

        For comparing an owned tab with what it should show without adding formats to a
        workbook that may end up not being written at all.
        """
        key = (base, fill, number_format)
        found = self._derived.get(key)
        if found is None:
            found = self._derive(base, fill, number_format, create=False)
            if found is not None:
                self._derived[key] = found
        return found

    def _derive(
        self, base: int, fill: Colour | None, number_format: str | None, *, create: bool
    ) -> int | None:
        xf = self._xf(base)
        fill_id, fmt_id = int(xf.get("fillId", "0")), int(xf.get("numFmtId", "0"))
        new_fill: int | None = fill_id
        if self.fill_of(base) != (fill.value if fill else None):
            new_fill = self._fill_id(fill, create=create)
        new_fmt: int | None = fmt_id
        if number_format is not None and self._format_code(fmt_id) != number_format:
            new_fmt = self._format_id(number_format, create=create)
        if new_fill is None or new_fmt is None:
            return None
        if (new_fill, new_fmt) == (fill_id, fmt_id) and 0 <= base < len(self._xfs):
            return base
        new = copy.deepcopy(xf)
        new.tail = None
        if new_fill != fill_id:
            new.set("fillId", str(new_fill))
            new.set("applyFill", "1")
        if new_fmt != fmt_id:
            new.set("numFmtId", str(new_fmt))
            new.set("applyNumberFormat", "1")
        return self._xf_id(new, create=create)

    def _xf_id(self, xf: Any, *, create: bool) -> int | None:
        if self._xf_ids is None:
            self._xf_ids = {}
            for i, existing in reversed(list(enumerate(self._xfs))):
                self._xf_ids[_xf_key(existing)] = i
        key = _xf_key(xf)
        if key not in self._xf_ids:
            if not create:
                return None
            self._xf_ids[key] = len(self._xfs)
            self._append(self._xfs_el, self._xfs, xf)
        return self._xf_ids[key]

    def _fill_id(self, colour: Colour | None, *, create: bool) -> int | None:
        wanted = colour.value if colour else None
        if wanted in self._fill_keys:
            return self._fill_keys.index(wanted)
        if not create:
            return None
        fill = etree.Element(f"{{{_MAIN}}}fill")
        pattern = etree.SubElement(fill, f"{{{_MAIN}}}patternFill")
        if colour is None:
            pattern.set("patternType", "none")
        else:
            pattern.set("patternType", "solid")
            etree.SubElement(pattern, f"{{{_MAIN}}}fgColor", rgb=f"FF{colour.value}")
            etree.SubElement(pattern, f"{{{_MAIN}}}bgColor", indexed="64")
        self._fill_keys.append(wanted)
        self._append(self._fills_el, self._fills, fill)
        return len(self._fills) - 1

    def _format_id(self, code: str, *, create: bool) -> int | None:
        for fmt_id, existing in self._formats.items():
            if existing == code:
                return fmt_id
        builtin = BUILTIN_FORMATS_REVERSE.get(code)
        if builtin is not None and builtin not in self._formats:
            return builtin
        if not create:
            return None
        if self._formats_el is None:
            self._formats_el = etree.Element(f"{{{_MAIN}}}numFmts")
            _insert_ordered(self.root, self._formats_el, _STYLES_ORDER)
        fmt_id = max([163, *self._formats]) + 1
        self._formats[fmt_id] = code
        etree.SubElement(
            self._formats_el, f"{{{_MAIN}}}numFmt", numFmtId=str(fmt_id), formatCode=code
        )
        self._formats_el.set("count", str(len(self._formats_el)))
        self.changed = True
        return fmt_id

    def _append(self, parent: Any, items: list[Any], element: Any) -> None:
        parent.append(element)
        items.append(element)
        parent.set("count", str(len(items)))
        self.changed = True


def _fill_key(fill: Any) -> str | None:
    pattern = fill.find(f"{{{_MAIN}}}patternFill")
    if pattern is None:
        return "other"
    kind = pattern.get("patternType", "none")
    if kind == "none":
        return None
    fg = pattern.find(f"{{{_MAIN}}}fgColor")
    if kind == "solid" and fg is not None and fg.get("rgb") and fg.get("tint") is None:
        return fg.get("rgb")[-6:].upper()
    return "other"


def _xf_key(xf: Any) -> tuple[Any, ...]:
    return (
        tuple(sorted(xf.attrib.items())),
        tuple(etree.tostring(child, with_tail=False) for child in xf),
    )


# --- worksheets ----------------------------------------------------------------------------


class _Sheet:
    """One worksheet part, indexed by row number once; cells of a row indexed on first use."""

    def __init__(self, root: Any, shared: Callable[[int], str], splice_target: str) -> None:
        self.root = root
        self.changed = False
        self.removed_formulas: set[str] = set()
        self.splices: dict[str, str] = {}
        """Placeholder key -> the rows' XML to put in its place (see `replace_rows`)."""
        self._splice_target = splice_target
        self._shared = shared
        data = root.find(f"{{{_MAIN}}}sheetData")
        if data is None:
            data = etree.Element(f"{{{_MAIN}}}sheetData")
            _insert_ordered(root, data, _WORKSHEET_ORDER)
        self.data = data
        self._rows: dict[int, Any] = {}
        previous = 0
        for row in data.iterchildren(_ROW):
            ref = row.get("r")
            number = int(ref) if ref else previous + 1
            if not ref:
                row.set("r", str(number))
            self._rows[number] = row
            previous = number
        self._row_numbers: list[int] | None = None
        self._cells: dict[int, dict[int, Any]] = {}
        self._col_styles: list[tuple[int, int, int]] | None = None
        self._new_bounds: tuple[int, int, int, int] | None = None
        self._pending: dict[int, list[str]] = {}
        """Row number -> XML of the cells appended to it, until `finish` (`_append_cell`)."""

    def cells(self, number: int) -> dict[int, Any]:
        """Column -> `<c>` of one row (empty if the row does not exist)."""
        cells = self._cells.get(number)
        if cells is None:
            cells = self._cells[number] = {}
            row = self._rows.get(number)
            if row is not None:
                previous, ordered = 0, True
                for cell in row.iterchildren(_C):
                    ref = cell.get("r")
                    if ref:
                        col = _COLUMNS.get(ref.rstrip(_DIGITS)) or _split_ref(ref)[1]
                    else:
                        col = previous + 1
                        cell.set("r", _ref(number, col))
                    ordered = ordered and col > previous
                    cells[col], previous = cell, col
                if not ordered:
                    _sort_by_column(cells)
        return cells

    def _default_style(self, number: int, col: int) -> int:
        """The format a cell there would show with no `<c>`: its row's or its column's."""
        row = self._rows.get(number)
        if row is not None and row.get("customFormat") in ("1", "true"):
            return int(row.get("s", "0"))
        if self._col_styles is None:
            cols = self.root.find(f"{{{_MAIN}}}cols")
            self._col_styles = [
                (int(c.get("min", "0")), int(c.get("max", "0")), int(c.get("style", "0")))
                for c in ([] if cols is None else cols.iterchildren(_COL))
            ]
        return next((s for lo, hi, s in self._col_styles if lo <= col <= hi), 0)

    def release_formulas(self, targets: set[tuple[int, int]], tab: str) -> None:
        """Make the cells about to be overwritten safe to overwrite.

        A shared formula stores its text once, in its first cell; if sheetsync overwrites that
        cell, each other cell sharing it gets its own copy. An array formula cannot be split:
        overwriting part of one is refused.
        """
        masters: dict[str, tuple[Any, int, int]] = {}
        sharing: dict[str, list[tuple[Any, int, int]]] = {}
        for formula in self.data.iter(_F):
            kind = formula.get("t")
            if kind not in ("shared", "array", "dataTable"):
                continue
            cell = formula.getparent()
            row_number = int(cell.getparent().get("r"))
            if cell.get("r") is None:
                self.cells(row_number)
            row, col = _split_ref(cell.get("r"))
            if kind == "shared":
                group = formula.get("si", "")
                if formula.text:
                    masters[group] = (formula, row, col)
                else:
                    sharing.setdefault(group, []).append((formula, row, col))
            elif formula.get("ref"):
                r1, c1, r2, c2 = _split_range(formula.get("ref"))
                area = (r2 - r1 + 1) * (c2 - c1 + 1)
                inside = sum(1 for r, c in targets if r1 <= r <= r2 and c1 <= c <= c2)
                if 0 < inside < area:
                    raise WorkbookLayoutError(
                        f"the array formula in {tab}!{formula.get('ref')} reaches into cells "
                        "sheetsync writes; move it out of the output columns",
                    )
        for group, (master, row, col) in masters.items():
            if (row, col) not in targets:
                continue
            origin, text = _ref(row, col), "=" + master.text
            for formula, r, c in sharing.get(group, []):
                if (r, c) not in targets:
                    formula.text = Translator(text, origin=origin).translate_formula(_ref(r, c))[1:]
                    for attribute in ("t", "si", "ref"):
                        formula.attrib.pop(attribute, None)

    def write_cell(
        self,
        number: int,
        col: int,
        value: _Val,
        fill: Colour | None,
        number_format: str | None,
        styles: _Styles,
    ) -> bool:
        """Give one cell a value, fill and number format; False if it already had them."""
        cells = self.cells(number)
        cell = cells.get(col)
        if cell is None:
            base = self._default_style(number, col)
            style = styles.derive(base, fill, number_format)
            if value == _BLANK and style == base:
                return False
            if not cells or next(reversed(cells)) < col:  # after the row's last cell
                self._append_cell(number, col, _cell_xml(value, style))
                self.changed = True
                return True
            cell = self._new_cell(number, col, cells)
        else:
            base = int(cell.get("s") or 0)
            style = styles.derive(base, fill, number_format)
            if style == base and _current(cell, self._shared) == value:
                return False
            if cell.find(_F) is not None:
                self.removed_formulas.add(cell.get("r"))
        _set_style(cell, style)
        _set_value(cell, value)
        if value == _BLANK and not len(cell) and style == self._default_style(number, col):
            cell.getparent().remove(cell)
            del cells[col]
        self.changed = True
        return True

    def _new_cell(self, number: int, col: int, cells: dict[int, Any]) -> Any:
        row = self._rows.get(number)
        if row is None:
            row = self._new_row(number)
        ref = _ref(number, col)
        if not cells or next(reversed(cells)) < col:  # `cells` is in column order
            ext = row.find(_EXT_LST)
            if ext is None:
                cell = etree.SubElement(row, _C, r=ref)
            else:
                cell = etree.Element(_C, r=ref)
                ext.addprevious(cell)
            cells[col] = cell
        else:
            cell = etree.Element(_C, r=ref)
            cells[min(c for c in cells if c > col)].addprevious(cell)
            cells[col] = cell
            _sort_by_column(cells)
        _widen_spans(row, col)
        self._grow(number, col)
        return cell

    def _append_cell(self, number: int, col: int, xml: str) -> None:
        """Add a cell after the last of its row: `xml` is the `<c>` after its reference.

        Such cells (a new output column on every row) are not built as elements: `finish`
        puts one placeholder per row, replaced by their XML when the part is serialised
        (`_splice`), which costs a fraction of building, then serialising, the elements.
        `cells(number)` does not list them, which is right for later writes in the same
        pass: those go to columns further right, after them.
        """
        row = self._rows.get(number)
        if row is None:
            row = self._new_row(number)
        self._pending.setdefault(number, []).append(f'<c r="{_ref(number, col)}"{xml}')
        _widen_spans(row, col)
        self._grow(number, col)

    def _grow(self, number: int, col: int) -> None:
        if self._new_bounds is None:
            self._new_bounds = (number, col, number, col)
        else:
            r1, c1, r2, c2 = self._new_bounds
            self._new_bounds = (min(r1, number), min(c1, col), max(r2, number), max(c2, col))

    def _new_row(self, number: int) -> Any:
        if self._row_numbers is None:
            self._row_numbers = sorted(self._rows)
        at = bisect_left(self._row_numbers, number)
        row = etree.Element(_ROW, r=str(number))
        if at < len(self._row_numbers):
            self._rows[self._row_numbers[at]].addprevious(row)
        else:
            self.data.append(row)
        self._row_numbers.insert(at, number)
        self._rows[number] = row
        return row

    def finish(self) -> None:
        """Place the cells appended to rows, and grow `<dimension>` over the cells added."""
        for number, cells in self._pending.items():
            row = self._rows[number]
            key = str(len(self.splices))
            self.splices[key] = "".join(cells)
            placeholder = etree.ProcessingInstruction(self._splice_target, key)
            last = row[-1] if len(row) else None
            if last is not None and last.tag == _EXT_LST:
                last.addprevious(placeholder)
            else:
                row.append(placeholder)
        self._pending.clear()
        dimension = self.root.find(f"{{{_MAIN}}}dimension")
        if self._new_bounds is None or dimension is None:
            return
        try:
            old = _split_range(dimension.get("ref", ""))
        except _Damaged:
            return
        new = self._new_bounds
        grown = (min(old[0], new[0]), min(old[1], new[1]), max(old[2], new[2]), max(old[3], new[3]))
        if grown != old:
            dimension.set("ref", _range(*grown))

    def row_prefix(self) -> str:
        """How a `<row>` of this sheet starts when serialised on its own, up to its attributes.

        lxml repeats the namespace declarations in scope on an element serialised alone, so
        the XML sheetsync would write for a row compares equal to an existing row's only
        with this in front.
        """
        probe = etree.SubElement(self.data, _ROW)
        try:
            return etree.tostring(probe, encoding=str)[:-2]  # without the closing "/>"
        finally:
            self.data.remove(probe)

    def serialized(self, number: int) -> str | None:
        """The row's XML (see `row_prefix`), None if there is no such row."""
        row = self._rows.get(number)
        return None if row is None else etree.tostring(row, encoding=str, with_tail=False)

    def row_numbers(self) -> list[int]:
        return list(self._rows)

    def shown(self, number: int, styles: _Styles) -> tuple[dict[int, _Cell], list[str]]:
        """What each non-blank cell of a row shows (value, fill, number format; fonts aside),
        and the references of its formulas."""
        shown: dict[int, _Cell] = {}
        formulas: list[str] = []
        for col, cell in self.cells(number).items():
            value = _current(cell, self._shared)
            if value[0] == "f":
                formulas.append(cell.get("r"))
            style = int(cell.get("s") or 0)
            fill, fmt = styles.fill_of(style), styles.format_of(style)
            if value != _BLANK or fill is not None or fmt != "General":
                shown[col] = (value, fill, fmt)
        return shown, formulas

    def replace_rows(self, rows: dict[int, str | None]) -> None:
        """Replace or add whole rows (row number -> the `<row>`'s XML) or remove them (None).

        The new rows are not built as elements: each run of consecutive new rows becomes one
        placeholder in the tree, and their XML is spliced in where it stands when the part is
        serialised (`_splice`). Building, parsing and serialising the elements of 10,000 rows
        would cost many times what joining their text does.
        """
        for number in rows:
            old = self._rows.pop(number, None)
            self._cells.pop(number, None)
            if old is not None:
                old.getparent().remove(old)
        kept = sorted(self._rows)
        runs: list[tuple[int, list[str]]] = []  # (index in `kept` of the row after, rows' XML)
        for number in sorted(rows):
            xml = rows[number]
            if xml is None:
                continue
            at = bisect_right(kept, number)
            if not runs or runs[-1][0] != at:
                runs.append((at, []))
            runs[-1][1].append(xml)
        for at, texts in runs:
            key = str(len(self.splices))
            self.splices[key] = "".join(texts)
            placeholder = etree.ProcessingInstruction(self._splice_target, key)
            if at < len(kept):
                self._rows[kept[at]].addprevious(placeholder)
            else:
                self.data.append(placeholder)
        self._row_numbers = None
        self.changed = True

    def unsplice(self) -> None:
        """Turn the rows and cells waiting to be spliced in into elements, to work on them."""
        if not self.splices:
            return
        for placeholder in list(self.data.iter(etree.ProcessingInstruction)):
            if placeholder.target != self._splice_target:
                continue
            xml = self.splices.pop(placeholder.text)
            parent = placeholder.getparent()
            wrapped = f'<sheetData xmlns="{_MAIN}">{xml}</sheetData>'.encode()
            for element in list(etree.fromstring(wrapped, new_parser())):
                placeholder.addprevious(element)
                if parent is self.data:
                    self._rows[int(element.get("r"))] = element
            if parent is not self.data:
                self._cells.pop(int(parent.get("r")), None)
            parent.remove(placeholder)
        self._row_numbers = None

    def set_dimension(self, bounds: tuple[int, int, int, int] | None) -> None:
        dimension = self.root.find(f"{{{_MAIN}}}dimension")
        if dimension is not None:
            dimension.set("ref", _range(*bounds) if bounds else "A1")

    def set_widths(self, widths: dict[int, float]) -> None:
        if not widths:
            return
        cols = etree.Element(f"{{{_MAIN}}}cols")
        for col in sorted(widths):
            etree.SubElement(
                cols, _COL, min=str(col), max=str(col), width=str(widths[col]), customWidth="1"
            )
        _insert_ordered(self.root, cols, _WORKSHEET_ORDER)


def _sort_by_column(cells: dict[int, Any]) -> None:
    ordered = sorted(cells.items())
    cells.clear()
    cells.update(ordered)


def _widen_spans(row: Any, col: int) -> None:
    spans = row.get("spans")
    if not spans:
        return
    try:
        bounds = [int(n) for part in spans.split() for n in part.split(":")]
    except ValueError:
        del row.attrib["spans"]
        return
    if not min(bounds) <= col <= max(bounds):
        row.set("spans", f"{min(*bounds, col)}:{max(*bounds, col)}")


# --- owned tabs ----------------------------------------------------------------------------


_Wanted: TypeAlias = tuple[_Val, Colour | None, str, str | None]
"""A cell of an owned tab: content, fill, number format, and its XML after `<c r="A1` (from
the reference's closing quote on; None while its cell format does not exist yet)."""


class _OwnedRows:
    """The rows an owned tab should have, and the XML sheetsync writes for each.

    Each distinct (value, fill) is converted once: an append-mostly log repeats its dates,
    names and statuses on every row, so a cell costs a dictionary lookup and a few list items.
    With `create` false, no cell format is added to the workbook (a row needing one gets no
    XML yet): that is for comparing, before it is known whether anything is to be written.
    """

    def __init__(self, owned: OwnedTab, styles: _Styles, epoch: datetime, *, create: bool):
        self._styles = styles
        self._epoch = epoch
        self._create = create
        self._memo: dict[Any, _Wanted] = {}
        self._plain: dict[type, dict[Any, _Wanted]] = {}
        """Value's class -> value -> cell, for cells without a fill: one lookup per class keeps
        1, 1.0 and True apart."""
        self._grid = owned.rows
        self._fills: dict[int, dict[int, Colour]] = {}
        for (r, c), colour in owned.fills.items():
            if r >= 1 and c >= 1:
                self._fills.setdefault(r, {})[c] = colour
        self.rows: dict[int, str | None] = {}
        """Row number -> the row's XML (None: needs a cell format not there yet); only rows
        with cells."""
        self.counts: dict[int, int] = {}
        """Row number -> how many cells it has."""
        self.cells = 0
        self.bounds: tuple[int, int, int, int] | None = None

        grid, fills, plain, cell_of = self._grid, self._fills, self._plain, self._cell
        width = max([len(row) for row in grid] + [c for f in fills.values() for c in f] + [0])
        heads = [f'<c r="{_letters(col)}' for col in range(width + 1)]
        no_fills: dict[int, Colour] = {}
        r1 = c1 = 1 << 30
        r2 = c2 = 0
        for number in range(1, max(len(grid), max(fills, default=0)) + 1):
            row = str(number)
            parts = ['<row r="', row, '">']
            first = last = count = 0
            complete = True
            row_fills = fills.get(number, no_fills)
            values = grid[number - 1] if number <= len(grid) else []
            # Cells with a value, then fill-only cells beyond the row's last value.
            beyond = sorted(c for c in row_fills if c > len(values)) if row_fills else ()
            for col, value in chain(enumerate(values, 1), zip(beyond, repeat(None))):
                fill = row_fills.get(col) if row_fills else None
                if fill is None:
                    if value is None:
                        continue
                    known = plain.get(value.__class__)
                    cell = known.get(value) if known is not None else None
                    if cell is None:
                        cell = cell_of(value, None)
                else:
                    cell = cell_of(value, fill)
                if cell[3] is None:
                    complete = False
                elif complete:
                    parts += (heads[col], row, cell[3])
                first = first or col
                last = col
                count += 1
            if not count:
                continue
            parts.append("</row>")
            self.rows[number] = "".join(parts) if complete else None
            self.counts[number] = count
            self.cells += count
            r1, r2 = min(r1, number), number
            c1, c2 = min(c1, first), max(c2, last)
        if self.rows:
            self.bounds = (r1, c1, r2, c2)

    def _columns(self, number: int) -> list[tuple[int, CellValue]]:
        """(column, value) of a row's cells with a value or a fill, in column order."""
        values = self._grid[number - 1] if number <= len(self._grid) else []
        fills = self._fills.get(number, {})
        found = [(c, v) for c, v in enumerate(values, 1) if v is not None or c in fills]
        return found + [(c, None) for c in sorted(fills) if c > len(values)]

    def _cell(self, value: CellValue, fill: Colour | None) -> _Wanted:
        try:
            key: Any = (value.__class__, value, fill)
            found = self._memo.get(key)
        except TypeError:  # unhashable: not a cell value, let _desired say so
            key, found = None, None
        if found is None:
            content, fmt = _desired(value, self._epoch)
            fmt = fmt or "General"
            if self._create:
                style: int | None = self._styles.derive(0, fill, fmt)
            else:
                style = self._styles.existing(0, fill, fmt)
            xml = None if style is None else '"' + _cell_xml(content, style)
            found = (content, fill, fmt, xml)
            if key is not None:
                self._memo[key] = found
                if fill is None:
                    self._plain.setdefault(value.__class__, {})[value] = found
        return found

    def cells_of(self, number: int) -> list[tuple[int, _Wanted]]:
        """(column, cell) of a row, in column order."""
        fills = self._fills.get(number, {})
        return [(c, self._cell(v, fills.get(c))) for c, v in self._columns(number)]

    def xml(self, number: int) -> str:
        """The row's XML, adding the cell formats it needs."""
        xml = self.rows[number]
        if xml is None:
            parts = [f'<row r="{number}">']
            for col, (content, fill, fmt, _) in self.cells_of(number):
                tail = _cell_xml(content, self._styles.derive(0, fill, fmt))
                parts.append(f'<c r="{_letters(col)}{number}"{tail}')
            parts.append("</row>")
            xml = self.rows[number] = "".join(parts)
        return xml


def _cell_xml(content: _Val, style: int) -> str:
    """A `<c>` as lxml serialises the cell `_set_style` and `_set_value` make, after its `r`."""
    attributes = f' s="{style}"' if style else ""
    kind, payload = content
    if not kind:
        return f"{attributes}/>"
    if kind == "s":
        text = _xml_text(_escape(payload))
        space = ' xml:space="preserve"' if payload != payload.strip() else ""
        inner = f"<t{space}>{text}</t>" if text else f"<t{space}/>"
        return f'{attributes} t="inlineStr"><is>{inner}</is></c>'
    if kind == "n":
        return f"{attributes}><v>{_number_text(payload)}</v></c>"
    text = ("1" if payload else "0") if kind == "b" else _xml_text(payload)
    return f'{attributes} t="{kind}"><v>{text}</v></c>'


def _xml_text(text: str) -> str:
    """Text as libxml2 escapes it in element content."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = text.replace("\r", "&#13;")
    return text


def _differences(wanted: list[tuple[int, _Wanted]], shown: dict[int, _Cell]) -> int:
    """How many cells of a row show something other than wanted."""
    want = {
        col: (content, fill.value if fill else None, fmt) for col, (content, fill, fmt, _) in wanted
    }
    return sum(1 for col in want.keys() | shown.keys() if want.get(col) != shown.get(col))


# --- the workbook --------------------------------------------------------------------------


@dataclass
class _Tab:
    name: str
    sheet_id: int
    part: str | None
    kind: str
    """The relationship type's last word: worksheet, chartsheet, dialogsheet ..."""


class _Editor:
    """Applies one plan to one package in memory."""

    def __init__(self, data: bytes, trees: dict[str, Any] | None = None) -> None:
        self.package = _Package(data, trees)
        self._workbook_part = self._office_document()
        self._workbook = self.package.xml(self._workbook_part)
        if etree.QName(self._workbook).namespace != _MAIN:
            raise _Damaged("it is saved as Strict Open XML, which sheetsync cannot write")
        self._rels_part = _rels_part(self._workbook_part)
        self._rels = self.package.xml(self._rels_part)
        targets = {
            rel.get("Id"): (rel.get("Type", "").rsplit("/", 1)[-1], rel.get("Target", ""))
            for rel in self._rels.iterchildren(_RELATIONSHIP)
        }
        self._tabs: list[_Tab] = []
        for sheet in self._workbook.iterfind(f"{{{_MAIN}}}sheets/{{{_MAIN}}}sheet"):
            kind, target = targets.get(sheet.get(f"{{{_DOC_REL}}}id"), ("", ""))
            part = self.package.find(_resolve(self._workbook_part, target)) if target else None
            self._tabs.append(_Tab(sheet.get("name"), int(sheet.get("sheetId")), part, kind))
        properties = self._workbook.find(f"{{{_MAIN}}}workbookPr")
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        self._epoch = CALENDAR_MAC_1904 if date1904 else CALENDAR_WINDOWS_1900
        self._sheets: dict[str, _Sheet] = {}
        self._styles: _Styles | None = None
        self._styles_part = ""
        self._shared = _SharedStrings(self.package, self._related("sharedStrings"))

    def apply(self, plan: WritePlan) -> WriteResult:
        result = WriteResult()
        by_tab: dict[str, dict[tuple[int, int], Any]] = {}
        names: dict[str, str] = {}  # as the plan spells a tab -> as the workbook does
        for write in plan.cells:
            if not (1 <= write.row <= 1048576 and 1 <= write.col <= 16384):
                raise ValueError(f"cell ({write.row}, {write.col}) is outside a worksheet")
            name = names.get(write.tab) or names.setdefault(write.tab, self._tab(write.tab).name)
            by_tab.setdefault(name, {})[write.row, write.col] = write
        for name, writes in by_tab.items():
            tab = self._tab(name)
            sheet = self._sheet(tab)
            sheet.release_formulas(set(writes), tab.name)
            for (row, col), write in sorted(writes.items()):
                value, fmt = _desired(write.value, self._epoch)
                fmt = write.number_format or fmt
                if sheet.write_cell(row, col, value, write.fill, fmt, self.styles):
                    result.cells_changed += 1
            sheet.finish()
        for owned in plan.owned_tabs:
            self._write_owned(owned, result)
        result.wrote = bool(result.cells_changed or result.tabs_created)
        if result.wrote:
            self._finish()
        return result

    # --- parts ---

    def _office_document(self) -> str:
        for rel in self.package.xml("_rels/.rels").iterchildren(_RELATIONSHIP):
            if rel.get("Type", "").endswith("/officeDocument"):
                found = self.package.find(_resolve("", rel.get("Target", "")))
                if found:
                    return found
        raise _Damaged("it has no workbook part")

    def _related(self, kind: str) -> str | None:
        for rel in self._rels.iterchildren(_RELATIONSHIP):
            if rel.get("Type", "").endswith(f"/{kind}"):
                return self.package.find(_resolve(self._workbook_part, rel.get("Target", "")))
        return None

    @property
    def styles(self) -> _Styles:
        if self._styles is None:
            part = self._related("styles")
            if part is None:
                part = posixpath.join(posixpath.dirname(self._workbook_part), "styles.xml")
                self.package.add(part, etree.fromstring(_NEW_STYLES))
                self._register(part, _STYLES_TYPE, "styles")
            self._styles = _Styles(self.package.xml(part))
            self._styles_part = part
        return self._styles

    def _tab(self, name: str) -> _Tab:
        tab = self._find_tab(name)
        if tab is None:
            raise WorkbookLayoutError(f"tab '{name}' not found")
        if tab.kind != "worksheet" or tab.part is None:
            raise WorkbookLayoutError(
                f"tab '{tab.name}' is a {tab.kind or 'sheet'} sheetsync cannot write to"
            )
        return tab

    def _find_tab(self, name: str) -> _Tab | None:
        wanted = name.strip().casefold()
        return next((t for t in self._tabs if t.name.strip().casefold() == wanted), None)

    def _sheet(self, tab: _Tab) -> _Sheet:
        assert tab.part is not None
        sheet = self._sheets.get(tab.part)
        if sheet is None:
            sheet = self._sheets[tab.part] = _Sheet(
                self.package.xml(tab.part), self._shared, self.package.splice_target
            )
        return sheet

    # --- owned tabs ---

    def _write_owned(self, owned: OwnedTab, result: WriteResult) -> None:
        """Bring an owned tab to `owned`'s content, rewriting only the rows that differ.

        A row that is already as wanted is recognised by its XML: the row sheetsync would
        write, serialised, equals the row there, one string comparison. A row that does not
        match (it differs, or a person saved the file and Excel rewrote it its own way) is
        compared by what its cells show; only rows that show something else are replaced. So
        an append-mostly tab such as History costs its new rows plus one serialisation per
        existing row, and nothing is written when nothing differs.
        """
        tab = self._find_tab(owned.name)
        if tab is None:
            sheet = self._new_tab(owned.name)
            sheet.set_widths(owned.widths)
            result.tabs_created.append(owned.name)
            wanted = _OwnedRows(owned, self.styles, self._epoch, create=True)
            result.cells_changed += wanted.cells
            sheet.replace_rows({number: wanted.xml(number) for number in wanted.rows})
            sheet.set_dimension(wanted.bounds)
            return
        sheet = self._sheet(self._tab(tab.name))
        sheet.unsplice()  # the same tab twice in one plan
        wanted = _OwnedRows(owned, self.styles, self._epoch, create=False)
        prefix = sheet.row_prefix()
        changes: dict[int, str | None] = {}
        changed = 0
        formulas: list[str] = []
        for number, xml in wanted.rows.items():
            there = sheet.serialized(number)
            if there is None:  # a new row
                changed += wanted.counts[number]
                changes[number] = ""
                continue
            if xml is not None and there == prefix + xml[4:]:
                continue  # xml starts with "<row"
            shown, found = sheet.shown(number, self.styles)
            differ = _differences(wanted.cells_of(number), shown)
            if differ:
                changed += differ
                changes[number] = ""
                formulas += found
        for number in sheet.row_numbers():
            if number not in wanted.rows:
                shown, found = sheet.shown(number, self.styles)
                if shown:
                    changed += len(shown)
                    changes[number] = None
                    formulas += found
        if not changed:
            return
        result.cells_changed += changed
        sheet.removed_formulas.update(formulas)
        sheet.replace_rows(
            {number: None if xml is None else wanted.xml(number) for number, xml in changes.items()}
        )
        sheet.set_dimension(wanted.bounds)

    def _new_tab(self, name: str) -> _Sheet:
        if (
            not name.strip()
            or len(name) > 31
            or _BAD_TAB_CHARS.search(name)
            or name.startswith("'")
            or name.endswith("'")
        ):
            raise WorkbookLayoutError(
                f"cannot create tab {name!r}: Excel tab names have 1 to 31 characters, none of"
                " [ ] : * ? / \\, and do not start or end with an apostrophe"
            )
        folder = posixpath.dirname(self._workbook_part)
        number = len(self._tabs) + 1
        while self.package.find(posixpath.join(folder, f"worksheets/sheet{number}.xml")):
            number += 1
        part = posixpath.join(folder, f"worksheets/sheet{number}.xml")
        root = etree.fromstring(_NEW_WORKSHEET)
        self.package.add(part, root)
        rel_id = self._register(part, _WORKSHEET_TYPE, "worksheet")
        self._add_title(name)
        sheet_id = max((t.sheet_id for t in self._tabs), default=0) + 1
        sheets = self._workbook.find(f"{{{_MAIN}}}sheets")
        entry = etree.SubElement(sheets, f"{{{_MAIN}}}sheet", name=name, sheetId=str(sheet_id))
        entry.set(f"{{{_DOC_REL}}}id", rel_id)
        self.package.touch(self._workbook_part)
        tab = _Tab(name, sheet_id, part, "worksheet")
        self._tabs.append(tab)
        return self._sheet(tab)

    def _register(self, part: str, content_type: str, kind: str) -> str:
        """Relate a new part to the workbook and declare its content type; its relationship id."""
        used = {rel.get("Id") for rel in self._rels.iterchildren(_RELATIONSHIP)}
        number = len(used) + 1
        while f"rId{number}" in used:
            number += 1
        target = posixpath.relpath(part, posixpath.dirname(self._workbook_part) or ".")
        etree.SubElement(
            self._rels, _RELATIONSHIP, Id=f"rId{number}", Type=f"{_DOC_REL}/{kind}", Target=target
        )
        self.package.touch(self._rels_part)
        types = self.package.xml("[Content_Types].xml")
        etree.SubElement(
            types, f"{{{_CONTENT_TYPES}}}Override", PartName=f"/{part}", ContentType=content_type
        )
        self.package.touch("[Content_Types].xml")
        return f"rId{number}"

    def _add_title(self, name: str) -> None:
        """List a new worksheet in docProps/app.xml, if its lists match the workbook's tabs.

        Excel rewrites these lists on save and tolerates stale ones, so when they do not look
        as expected they are left alone.
        """
        part = self.package.find("docProps/app.xml")
        if part is None:
            return
        root = self.package.xml(part)
        pairs = root.find(f"{{{_APP}}}HeadingPairs/{{{_VT}}}vector")
        titles = root.find(f"{{{_APP}}}TitlesOfParts/{{{_VT}}}vector")
        if pairs is None or titles is None:
            return
        worksheets = [t.name for t in self._tabs if t.kind == "worksheet"]
        listed = list(titles)
        offset = 0
        for variant in list(pairs)[1::2]:
            count_el = variant[0] if len(variant) else None
            if count_el is None or not (count_el.text or "").strip().isdigit():
                return
            count = int(count_el.text)
            if [t.text for t in listed[offset : offset + count]] == worksheets:
                title = etree.Element(f"{{{_VT}}}lpstr")
                title.text = name
                if offset + count < len(listed):
                    listed[offset + count].addprevious(title)
                else:
                    titles.append(title)
                count_el.text = str(count + 1)
                titles.set("size", str(len(listed) + 1))
                self.package.touch(part)
                return
            offset += count

    # --- the rest of the package ---

    def _finish(self) -> None:
        removed: dict[int, set[str]] = {}
        for tab in self._tabs:
            sheet = self._sheets.get(tab.part or "")
            if sheet is not None and sheet.changed:
                self.package.touch(tab.part or "")
                self.package.splices[tab.part or ""] = sheet.splices
                if sheet.removed_formulas:
                    removed[tab.sheet_id] = sheet.removed_formulas
        if self._styles is not None and self._styles.changed:
            self.package.touch(self._styles_part)
        if removed:
            self._prune_calc_chain(removed)
        calc = self._workbook.find(f"{{{_MAIN}}}calcPr")
        if calc is None:
            calc = etree.Element(f"{{{_MAIN}}}calcPr")
            _insert_ordered(self._workbook, calc, _WORKBOOK_ORDER)
        if calc.get("fullCalcOnLoad") not in ("1", "true"):
            calc.set("fullCalcOnLoad", "1")
            self.package.touch(self._workbook_part)

    def _prune_calc_chain(self, removed: dict[int, set[str]]) -> None:
        """Drop the formulas sheetsync overwrote from the calculation chain.

        Excel calls a workbook damaged when its calculation chain lists a cell with no formula.
        """
        part = self._related("calcChain")
        if part is None:
            return
        chain = self.package.xml(part)
        sheet_id: int | None = None
        for entry in list(chain.iterchildren(f"{{{_MAIN}}}c")):
            if entry.get("i") is not None:
                sheet_id = int(entry.get("i"))
            elif sheet_id is not None:
                entry.set("i", str(sheet_id))  # each entry names its sheet, once some are gone
            if sheet_id in removed and entry.get("r") in removed[sheet_id]:
                chain.remove(entry)
        self.package.touch(part)
        if len(chain):
            return
        # An empty chain is not allowed: remove the part and every reference to it.
        self.package.remove(part)
        for rel in list(self._rels.iterchildren(_RELATIONSHIP)):
            if rel.get("Type", "").endswith("/calcChain"):
                self._rels.remove(rel)
        types = self.package.xml("[Content_Types].xml")
        for override in list(types.iterchildren(f"{{{_CONTENT_TYPES}}}Override")):
            if override.get("PartName", "").casefold() == f"/{part}".casefold():
                types.remove(override)
        self.package.touch(self._rels_part)
        self.package.touch("[Content_Types].xml")
