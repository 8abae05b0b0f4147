"""Applying one write plan to one package in memory: finding the tabs, writing output cells,
bringing owned tabs to their content, creating and registering new tabs, pruning the
calculation chain and asking for a full recalculation on load."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Set
from dataclasses import dataclass
from typing import Any

from lxml import etree

from sheetsync.backends.base import (
    OutputColumn,
    OwnedTab,
    WritePlan,
    WriteResult,
)
from sheetsync.backends.excel.cells import desired_content
from sheetsync.backends.excel.charts import SheetCharts
from sheetsync.backends.excel.digests import OwnedDigests, content_digest, writes_digest
from sheetsync.backends.excel.limits import Limits
from sheetsync.backends.excel.ooxml import (
    APP_NS,
    CONTENT_TYPES_NS,
    DOC_REL_NS,
    MAIN_NS,
    NEW_STYLES,
    NEW_WORKSHEET,
    RELATIONSHIP,
    STYLES_CONTENT_TYPE,
    VT_NS,
    WORKBOOK_ORDER,
    WORKSHEET_CONTENT_TYPE,
    DamagedPackage,
    insert_ordered,
    refuse_strict,
)
from sheetsync.backends.excel.owned_tabs import OwnedRows, row_changes
from sheetsync.backends.excel.package import XlsxPackage, rels_part, resolve_target
from sheetsync.backends.excel.read import marker_name
from sheetsync.backends.excel.serials import MAC_1904, WINDOWS_1900
from sheetsync.backends.excel.shared_strings import SharedStrings
from sheetsync.backends.excel.sheet_tail import append_rows, last_row, tag_prefix
from sheetsync.backends.excel.sheet_text import NeedsTree, SheetText
from sheetsync.backends.excel.styles import Styles
from sheetsync.backends.excel.worksheet import Worksheet
from sheetsync.core.errors import RowsMovedError, WorkbookLayoutError
from sheetsync.core.layout import OUTPUT_COLUMNS
from sheetsync.core.parse import column_letter
from sheetsync.core.plan import OWNED_DATA_ROW, shifted

_BAD_TAB_CHARS = re.compile(r"[\[\]:*?/\\]")
_ROWS, _COLUMNS = 1048576, 16384
"""How many rows and columns (A to XFD) an Excel worksheet has."""


def check_fits(tab: str, end: int, count: int, *, new: bool = False) -> None:
    """Raise WorkbookLayoutError when `count` rows of owned tab `tab` (`new` ones added below
    it, else the whole tab) would end on sheet row `end`, past a worksheet's last: rows past
    it make a sheet Excel cannot open."""
    if count and end > _ROWS:
        what = f"its {count:,} new rows" if new else f"its {count:,} rows"
        raise WorkbookLayoutError(
            f"tab '{tab}' is full: {what} would end on row {end:,}, past the last row a "
            f"worksheet has ({_ROWS:,}); move its older rows to another workbook (copy them "
            f"there, delete them here) to make room; nothing was written to this workbook"
        )


@dataclass
class _Tab:
    name: str
    sheet_id: int
    part: str | None
    kind: str
    """The relationship type's last word: worksheet, chartsheet, dialogsheet ..."""


class PlanEditor:
    """Applies one plan to one package in memory."""

    def __init__(
        self, data: bytes, trees: dict[str, Any] | None = None, limits: Limits | None = None
    ) -> None:
        self.package = XlsxPackage(data, trees, limits)
        self._workbook_part = self._office_document()
        self._workbook = self.package.xml(self._workbook_part)
        namespace = etree.QName(self._workbook).namespace
        refuse_strict(namespace)
        if namespace != MAIN_NS:
            raise DamagedPackage(f"its workbook part is not SpreadsheetML ({namespace})")
        self._rels_part = rels_part(self._workbook_part)
        self._rels = self.package.xml(self._rels_part)
        targets = {
            rel.get("Id"): (rel.get("Type", "").rsplit("/", 1)[-1], rel.get("Target", ""))
            for rel in self._rels.iterchildren(RELATIONSHIP)
        }
        self._tabs: list[_Tab] = []
        for sheet in self._workbook.iterfind(f"{{{MAIN_NS}}}sheets/{{{MAIN_NS}}}sheet"):
            kind, target = targets.get(sheet.get(f"{{{DOC_REL_NS}}}id"), ("", ""))
            part = (
                self.package.find(resolve_target(self._workbook_part, target)) if target else None
            )
            self._tabs.append(_Tab(sheet.get("name"), int(sheet.get("sheetId")), part, kind))
        properties = self._workbook.find(f"{{{MAIN_NS}}}workbookPr")
        date1904 = properties is not None and properties.get("date1904") in ("1", "true")
        self._epoch = MAC_1904 if date1904 else WINDOWS_1900
        self._sheets: dict[str, Worksheet] = {}
        self._texts: dict[str, SheetText] = {}
        """People's tabs patched as text, by part (`SheetText`); the others are trees."""
        self._styles: Styles | None = None
        self._styles_part = ""
        self._shared = SharedStrings(self.package, self._related("sharedStrings"))
        self._digests = OwnedDigests(
            self.package, self._workbook, self._related("styles"), self._related("sharedStrings")
        )
        self._contents: dict[str, str] = {}
        self._owned_written: set[str] = set()
        """Parts of the owned tabs this write brought to their content (text or tree)."""
        """Tab (casefolded) -> the digest of the content this write brought it to (an owned
        tab's, or a person's tab's output cells and columns: `digests.py`)."""
        self._people: set[str] = set()
        """The people's tabs (casefolded) in `_contents`."""
        self._owned_formulas: dict[int, set[str]] = {}
        """Sheet id -> the formulas overwritten on an owned tab patched as text."""

    def apply(self, plan: WritePlan) -> WriteResult:
        result = WriteResult()
        by_tab: dict[str, dict[tuple[int, int], Any]] = {}
        names: dict[str, str] = {}  # as the plan spells a tab -> as the workbook does
        for write in plan.cells:
            if write.col > _COLUMNS and 1 <= write.row <= _ROWS:
                raise WorkbookLayoutError(
                    f"no room for the output columns on tab '{write.tab}': sheetsync adds them"
                    " after the last column in use, and a worksheet ends at column XFD, which"
                    f" holds data; clear the far-right columns, or add the headers"
                    f" {', '.join(OUTPUT_COLUMNS)} yourself in free columns"
                )
            if not (1 <= write.row <= _ROWS and 1 <= write.col <= _COLUMNS):
                raise ValueError(f"cell ({write.row}, {write.col}) is outside a worksheet")
            name = names.get(write.tab) or names.setdefault(write.tab, self._tab(write.tab).name)
            by_tab.setdefault(name, {})[write.row, write.col] = write
        settled = self._settled_tabs(plan, by_tab)
        self._open_as_text(plan, by_tab, settled)
        self._check_guards(plan)
        marked = self._mark_columns(plan.columns)
        for name, writes in by_tab.items():
            if name in settled:
                continue
            tab = self._tab(name)
            try:
                result.cells_changed += self._write_cells(tab, writes)
            except NeedsTree:  # a row to change that is not patched as text: the whole tree
                del self._texts[tab.part or ""]
                marked |= self._mark_columns([c for c in plan.columns if self._tab(c.tab) is tab])
                result.cells_changed += self._write_cells(tab, writes)
        for owned in plan.owned_tabs:
            self._write_owned(owned, result)
        for rows in plan.appends:
            self._append(rows, result)
        result.wrote = bool(
            result.cells_changed or result.tabs_created or marked or result.charts_changed
        )
        if result.wrote:
            self._finish()
        return result

    def _check_guards(self, plan: WritePlan) -> None:
        """Raise RowsMovedError, writing nothing, when a guarded cell of a tab the plan does not
        rewrite whole holds something else than expected. The file's bytes, compared before
        the save, cover every cell that was read; these guards name cells of rows that were
        not (the Delivery marks of an Alerts tab read to its header only)."""
        owned = {t.name.strip().casefold() for t in plan.owned_tabs}
        for guard in plan.guards:
            if guard.tab.strip().casefold() in owned:
                continue
            tab = self._tab(guard.tab)
            try:
                there = self._person_sheet(tab).content(guard.row, guard.col)
            except NeedsTree:
                del self._texts[tab.part or ""]
                there = self._sheet(tab).content(guard.row, guard.col)
            wanted = desired_content(guard.expected, self._epoch)[0]
            if there != wanted:
                cell = f"{column_letter(guard.col)}{guard.row}"
                raise RowsMovedError(
                    f"tab '{tab.name}' cell {cell} no longer holds {guard.expected!r}: rows were "
                    "moved, inserted or deleted since sheetsync wrote them"
                )

    def _write_cells(self, tab: _Tab, writes: dict[tuple[int, int], Any]) -> int:
        """Write a person's tab's output cells; how many changed."""
        sheet = self._person_sheet(tab)
        sheet.release_formulas(set(writes), tab.name)
        changed = 0
        epoch, styles = self._epoch, self.styles
        for (row, col), write in sorted(writes.items()):
            value, fmt = desired_content(write.value, epoch)
            fmt = write.number_format or fmt
            if sheet.write_cell(row, col, value, write.fill, fmt, styles, write.keep_format):
                changed += 1
        sheet.finish()
        return changed

    # --- output columns ---

    def _settled_tabs(
        self, plan: WritePlan, by_tab: dict[str, dict[tuple[int, int], Any]]
    ) -> set[str]:
        """The people's tabs the plan writes output cells to that are, byte for byte, as
        sheetsync left them for these same cells (`digests.py`): nothing in them is read,
        compared or written.

        A tab with output columns in the plan (new ones, or an earlier version's, recognised)
        is not settled; its cells are digested without their headers, so that the next run,
        which writes no header, finds the tab as this one leaves it."""
        headers: dict[str, set[tuple[int, int]]] = {}
        for column in plan.columns:
            headers.setdefault(self._tab(column.tab).name, set()).add(
                (column.header_row, column.col)
            )
        settled: set[str] = set()
        for name, writes in by_tab.items():
            tab = self._tab(name)
            assert tab.part is not None
            marked = headers.get(name)
            cells = [w for k, w in writes.items() if k not in marked] if marked else writes.values()
            content = writes_digest(cells, self._epoch)
            self._contents[name.strip().casefold()] = content
            self._people.add(name.strip().casefold())
            if not marked and self._digests.holds(self._tabs.index(tab), tab.part, content):
                settled.add(name)
        return settled

    def _mark_columns(self, columns: list[OutputColumn]) -> bool:
        """Mark each output column with a hidden defined name local to its tab; give a new
        one the look of the person's header cell and a width. True if anything changed."""
        changed = False
        for column in columns:
            tab = self._tab(column.tab)
            sheet = self._person_sheet(tab)
            if column.style_from is not None:
                style = sheet.style_of(column.header_row, column.style_from)
                changed |= sheet.set_style(column.header_row, column.col, style)
            if column.width is not None:
                changed |= sheet.set_column_width(column.col, column.width)
            changed |= self._define_marker(self._tabs.index(tab), tab.name, column)
        return changed

    def _define_marker(self, index: int, tab: str, column: OutputColumn) -> bool:
        names = self._workbook.find(f"{{{MAIN_NS}}}definedNames")
        if names is None:
            names = etree.Element(f"{{{MAIN_NS}}}definedNames")
            insert_ordered(self._workbook, names, WORKBOOK_ORDER)
        key = marker_name(column.output)
        letter = column_letter(column.col)
        quoted = "'" + tab.replace("'", "''") + "'"
        reference = f"{quoted}!${letter}:${letter}"
        for name in names.iterchildren(f"{{{MAIN_NS}}}definedName"):
            if name.get("name", "").casefold() == key.casefold() and name.get(
                "localSheetId"
            ) == str(index):
                if name.text == reference:
                    return False
                names.remove(name)
                break
        entry = etree.SubElement(
            names, f"{{{MAIN_NS}}}definedName", name=key, localSheetId=str(index), hidden="1"
        )
        entry.text = reference
        self.package.touch(self._workbook_part)
        return True

    # --- parts ---

    def _office_document(self) -> str:
        for rel in self.package.xml("_rels/.rels").iterchildren(RELATIONSHIP):
            if rel.get("Type", "").endswith("/officeDocument"):
                found = self.package.find(resolve_target("", rel.get("Target", "")))
                if found:
                    return found
        raise DamagedPackage("it has no workbook part")

    def _related(self, kind: str) -> str | None:
        for rel in self._rels.iterchildren(RELATIONSHIP):
            if rel.get("Type", "").endswith(f"/{kind}"):
                return self.package.find(resolve_target(self._workbook_part, rel.get("Target", "")))
        return None

    @property
    def styles(self) -> Styles:
        if self._styles is None:
            part = self._related("styles")
            if part is None:
                part = posixpath.join(posixpath.dirname(self._workbook_part), "styles.xml")
                self.package.add(part, etree.fromstring(NEW_STYLES))
                self._register(part, STYLES_CONTENT_TYPE, "styles")
            self._styles = Styles(self.package.xml(part))
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

    def _sheet(self, tab: _Tab) -> Worksheet:
        assert tab.part is not None
        sheet = self._sheets.get(tab.part)
        if sheet is None:
            sheet = self._sheets[tab.part] = Worksheet(
                self.package.xml(tab.part), self._shared, self.package.splice_target
            )
        return sheet

    def _open_as_text(
        self,
        plan: WritePlan,
        by_tab: dict[str, dict[tuple[int, int], Any]],
        settled: Set[str],
    ) -> None:
        """Open each person's tab the plan writes to (but the `settled` ones) as text
        (`SheetText`) where it can be, reading the header cells of its output columns now and
        finding the cells to be written (`SheetText.scan`): a tab it cannot handle stays for
        the tree."""
        owned = {t.name.strip().casefold() for t in plan.owned_tabs}
        headers: dict[str, set[tuple[int, int]]] = {name: set() for name in by_tab}
        for column in plan.columns:
            where = headers.setdefault(self._tab(column.tab).name, set())
            where.add((column.header_row, column.col))
            if column.style_from is not None:
                where.add((column.header_row, column.style_from))
        for name, targets in headers.items():
            tab = self._tab(name)
            part = tab.part
            if (
                part is None
                or name in settled
                or name.strip().casefold() in owned
                or part in self._sheets
            ):
                continue
            try:
                sheet = SheetText(self.package.raw(part), part, self._shared, self.package.parser)
                sheet.prepare(targets)
                if name in by_tab:
                    sheet.scan(set(by_tab[name]))
            except NeedsTree:
                continue
            self._texts[part] = sheet

    def _person_sheet(self, tab: _Tab) -> Worksheet | SheetText:
        """A person's tab to write output cells to: as text if it could be opened so."""
        return self._texts.get(tab.part or "") or self._sheet(tab)

    # --- owned tabs ---

    def _write_owned(self, owned: OwnedTab, result: WriteResult) -> None:
        """Bring an owned tab's rows, then its charts, to `owned`'s content. Raises
        WorkbookLayoutError, writing nothing, when its rows would pass the worksheet's last."""
        check_fits(owned.name, owned.first_row + len(owned.rows) - 1, len(owned.rows))
        content = content_digest(owned, self._epoch)
        self._contents[owned.name.strip().casefold()] = content
        self._people.discard(owned.name.strip().casefold())
        tab = self._find_tab(owned.name)
        if tab is not None and tab.part is not None:
            self._owned_written.add(tab.part)
        if (
            tab is not None
            and tab.part is not None
            and tab.kind == "worksheet"
            and tab.part not in self._sheets
            and not self.package.changed(tab.part)
            and self._digests.holds(self._tabs.index(tab), tab.part, content)
        ):
            return  # as sheetsync wrote it for this same content (`digests.py`)
        if self._write_owned_as_text(owned, result):
            return
        self._write_owned_rows(owned, result)
        tab = self._tab(owned.name)
        assert tab.part is not None
        charts = SheetCharts(self.package, tab.part, self._sheet(tab).root)
        result.charts_changed += charts.apply(owned.charts, tab.name, owned.rows)

    def _write_owned_as_text(self, owned: OwnedTab, result: WriteResult) -> bool:
        """Bring an owned tab that exists to `owned`'s content as text (`SheetText`): only the
        rows that differ are written again (`row_changes`), every other byte of the part is
        kept, and no tree of its rows is built. False, with nothing done, when the tab is new,
        already a tree, or holds what is not patched as text (`NeedsTree`): the tree does it."""
        tab = self._find_tab(owned.name)
        if tab is None or tab.part is None or tab.kind != "worksheet" or tab.part in self._sheets:
            return False
        part = tab.part
        try:
            sheet = SheetText(self.package.bytes_of(part), part, self._shared, self.package.parser)
            wanted = OwnedRows(owned, self.styles, self._epoch, create=False, prefix=sheet.prefix)
            changes, changed, formulas = row_changes(sheet, wanted, self.styles)
        except NeedsTree:
            return False
        if changed:
            result.cells_changed += changed
            sheet.replace_rows(
                {n: wanted.xml(n).encode() if keep else None for n, keep in changes.items()}
            )
            sheet.set_dimension(wanted.bounds)
            if formulas:
                self._owned_formulas.setdefault(tab.sheet_id, set()).update(formulas)
        on_sheet = SheetCharts(self.package, part, sheet.root)
        charts = on_sheet.apply(owned.charts, tab.name, owned.rows)
        result.charts_changed += charts
        if changed or charts:
            self.package.set_bytes(part, sheet.to_bytes(skeleton_changed=bool(charts)))
        return True

    def _append(self, rows: OwnedTab, result: WriteResult) -> None:
        """Add rows below an owned tab's last row as text (`sheet_tail`): its rows already
        there are neither parsed nor rewritten. They go right below the last row the sheet has
        (where `rows.first_row` says when nobody added or deleted rows by hand). Raises
        WorkbookLayoutError, writing nothing, when they would pass the worksheet's last row."""
        tab = self._tab(rows.name)
        part = tab.part
        if part is None or tab.kind != "worksheet":
            raise WorkbookLayoutError(f"tab '{rows.name}' is not a worksheet")
        if part in self._sheets or part in self._owned_written:  # rows above may have moved
            raise ValueError(f"tab '{rows.name}' is both rewritten and appended to")
        data = self.package.bytes_of(part)
        below = last_row(data) + 1
        if below != rows.first_row and below >= OWNED_DATA_ROW:  # rows added or deleted by hand
            rows = shifted(rows, below)
        check_fits(tab.name, rows.first_row + len(rows.rows) - 1, len(rows.rows), new=True)
        wanted = OwnedRows(rows, self.styles, self._epoch, create=True, prefix=tag_prefix(data))
        if not wanted.rows:
            return
        xml = "".join(wanted.xml(number) for number in sorted(wanted.rows))
        assert wanted.bounds is not None
        _, _, r2, c2 = wanted.bounds
        self.package.set_bytes(part, append_rows(data, xml, (r2, c2)))
        result.cells_changed += wanted.cells

    def _write_owned_rows(self, owned: OwnedTab, result: WriteResult) -> None:
        """Bring an owned tab to `owned`'s content on its tree, rewriting only the rows that
        differ (`row_changes`): a new tab, or one `_write_owned_as_text` does not patch."""
        tab = self._find_tab(owned.name)
        if tab is None:
            sheet = self._new_tab(owned.name)
            sheet.set_widths(owned.widths)
            result.tabs_created.append(owned.name)
            wanted = OwnedRows(owned, self.styles, self._epoch, create=True, prefix=sheet.prefix)
            result.cells_changed += wanted.cells
            sheet.replace_rows({number: wanted.xml(number) for number in wanted.rows})
            sheet.set_dimension(wanted.bounds)
            return
        sheet = self._sheet(self._tab(tab.name))
        sheet.unsplice()  # the same tab twice in one plan
        wanted = OwnedRows(owned, self.styles, self._epoch, create=False, prefix=sheet.prefix)
        changes, changed, formulas = row_changes(sheet, wanted, self.styles)
        if not changed:
            return
        result.cells_changed += changed
        sheet.removed_formulas.update(formulas)
        sheet.replace_rows({n: wanted.xml(n) if keep else None for n, keep in changes.items()})
        sheet.set_dimension(wanted.bounds)

    def _new_tab(self, name: str) -> Worksheet:
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
        root = etree.fromstring(NEW_WORKSHEET)
        self.package.add(part, root)
        rel_id = self._register(part, WORKSHEET_CONTENT_TYPE, "worksheet")
        self._add_title(name)
        sheet_id = max((t.sheet_id for t in self._tabs), default=0) + 1
        sheets = self._workbook.find(f"{{{MAIN_NS}}}sheets")
        entry = etree.SubElement(sheets, f"{{{MAIN_NS}}}sheet", name=name, sheetId=str(sheet_id))
        entry.set(f"{{{DOC_REL_NS}}}id", rel_id)
        self.package.touch(self._workbook_part)
        tab = _Tab(name, sheet_id, part, "worksheet")
        self._tabs.append(tab)
        return self._sheet(tab)

    def _register(self, part: str, content_type: str, kind: str) -> str:
        """Relate a new part to the workbook and declare its content type; its relationship id."""
        used = {rel.get("Id") for rel in self._rels.iterchildren(RELATIONSHIP)}
        number = len(used) + 1
        while f"rId{number}" in used:
            number += 1
        target = posixpath.relpath(part, posixpath.dirname(self._workbook_part) or ".")
        etree.SubElement(
            self._rels, RELATIONSHIP, Id=f"rId{number}", Type=f"{DOC_REL_NS}/{kind}", Target=target
        )
        self.package.touch(self._rels_part)
        types = self.package.xml("[Content_Types].xml")
        etree.SubElement(
            types, f"{{{CONTENT_TYPES_NS}}}Override", PartName=f"/{part}", ContentType=content_type
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
        pairs = root.find(f"{{{APP_NS}}}HeadingPairs/{{{VT_NS}}}vector")
        titles = root.find(f"{{{APP_NS}}}TitlesOfParts/{{{VT_NS}}}vector")
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
                title = etree.Element(f"{{{VT_NS}}}lpstr")
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
            text = self._texts.pop(tab.part or "", None)  # its index and edits freed once done
            if text is not None and text.changed:
                self.package.set_bytes(tab.part or "", text.to_bytes())
                if text.removed_formulas:
                    removed[tab.sheet_id] = text.removed_formulas
        if self._styles is not None and self._styles.changed:
            self.package.touch(self._styles_part)
        for sheet_id, formulas in self._owned_formulas.items():
            removed.setdefault(sheet_id, set()).update(formulas)
        if removed:
            self._prune_calc_chain(removed)
        calc = self._workbook.find(f"{{{MAIN_NS}}}calcPr")
        if calc is None:
            calc = etree.Element(f"{{{MAIN_NS}}}calcPr")
            insert_ordered(self._workbook, calc, WORKBOOK_ORDER)
        if calc.get("fullCalcOnLoad") not in ("1", "true"):
            calc.set("fullCalcOnLoad", "1")
            self.package.touch(self._workbook_part)
        self._record_digests()

    def _record_digests(self) -> None:
        """Remember what each tab was brought to (`digests.py`): last, once every part but
        the workbook's is final. The digests of people's tabs alone never make the workbook
        part change: a write of output cells only leaves it as it was."""
        written: dict[int, tuple[str, str]] = {}
        optional: set[int] = set()
        for name, content in self._contents.items():
            tab = self._find_tab(name)
            if tab is not None and tab.part is not None and tab.kind == "worksheet":
                index = self._tabs.index(tab)
                written[index] = (tab.part, content)
                if name in self._people:
                    optional.add(index)
        parts = [t.part if t.kind == "worksheet" else None for t in self._tabs]
        force = self.package.changed(self._workbook_part)
        if self._digests.record(written, parts, self._related("styles"), optional, force=force):
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
        for entry in list(chain.iterchildren(f"{{{MAIN_NS}}}c")):
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
        for rel in list(self._rels.iterchildren(RELATIONSHIP)):
            if rel.get("Type", "").endswith("/calcChain"):
                self._rels.remove(rel)
        types = self.package.xml("[Content_Types].xml")
        for override in list(types.iterchildren(f"{{{CONTENT_TYPES_NS}}}Override")):
            if override.get("PartName", "").casefold() == f"/{part}".casefold():
                types.remove(override)
        self.package.touch(self._rels_part)
        self.package.touch("[Content_Types].xml")
