"""Editing one worksheet part's XML: output cells written in place, rows and cells added in
order, shared and array formulas, spans, `<dimension>`, column widths, and rows spliced as text."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Callable
from typing import Any

from lxml import etree

from sheetsync.backends.excel.cells import (
    BLANK,
    COLUMN_NUMBERS,
    DIGITS,
    CellContent,
    ShownCell,
    cell_ref,
    cell_xml,
    current_content,
    range_ref,
    set_style,
    set_value,
    split_range,
    split_ref,
)
from sheetsync.backends.excel.ooxml import (
    CELL,
    COL,
    EXT_LST,
    FORMULA,
    MAIN_NS,
    ROW,
    WORKSHEET_ORDER,
    DamagedPackage,
    insert_ordered,
)
from sheetsync.backends.excel.read import new_parser
from sheetsync.backends.excel.styles import Styles
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import Colour


class Worksheet:
    """One worksheet part, indexed by row number once; cells of a row indexed on first use."""

    def __init__(self, root: Any, shared: Callable[[int], str], splice_target: str) -> None:
        self.root = root
        self.changed = False
        self.removed_formulas: set[str] = set()
        self.splices: dict[str, str] = {}
        """Placeholder key -> the rows' XML to put in its place (see `replace_rows`)."""
        self._splice_target = splice_target
        self._shared = shared
        data = root.find(f"{{{MAIN_NS}}}sheetData")
        if data is None:
            data = etree.Element(f"{{{MAIN_NS}}}sheetData")
            insert_ordered(root, data, WORKSHEET_ORDER)
        self.data = data
        self.prefix = f"{data.prefix}:" if data.prefix else ""
        """What the sheet puts before its SpreadsheetML tags: "x:" in files from ClosedXML, the
        Open XML SDK or Tencent Docs, "" where the namespace is the default. XML text spliced
        into the sheet uses it, so its elements are in the sheet's namespace."""
        self._rows: dict[int, Any] = {}
        previous = 0
        for row in data.iterchildren(ROW):
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
        self._row_start: tuple[str, int] | None = None
        """`row_prefix()` and how long `<row` is in this sheet's prefix (`row_matches`)."""
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
                for cell in row.iterchildren(CELL):
                    ref = cell.get("r")
                    if ref:
                        col = COLUMN_NUMBERS.get(ref.rstrip(DIGITS)) or split_ref(ref)[1]
                    else:
                        col = previous + 1
                        cell.set("r", cell_ref(number, col))
                    ordered = ordered and col > previous
                    cells[col], previous = cell, col
                if not ordered:
                    _sort_by_column(cells)
        return cells

    def content(self, number: int, col: int) -> CellContent:
        """What a cell holds now (`BLANK` when there is none)."""
        cell = self.cells(number).get(col)
        return BLANK if cell is None else current_content(cell, self._shared)

    def _default_style(self, number: int, col: int) -> int:
        """The format a cell there would show with no `<c>`: its row's or its column's."""
        row = self._rows.get(number)
        if row is not None and row.get("customFormat") in ("1", "true"):
            return int(row.get("s", "0"))
        if self._col_styles is None:
            cols = self.root.find(f"{{{MAIN_NS}}}cols")
            self._col_styles = [
                (int(c.get("min", "0")), int(c.get("max", "0")), int(c.get("style", "0")))
                for c in ([] if cols is None else cols.iterchildren(COL))
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
        for formula in self.data.iter(FORMULA):
            kind = formula.get("t")
            if kind not in ("shared", "array", "dataTable"):
                continue
            cell = formula.getparent()
            row_number = int(cell.getparent().get("r"))
            if cell.get("r") is None:
                self.cells(row_number)
            row, col = split_ref(cell.get("r"))
            if kind == "shared":
                group = formula.get("si", "")
                if formula.text:
                    masters[group] = (formula, row, col)
                else:
                    sharing.setdefault(group, []).append((formula, row, col))
            elif formula.get("ref"):
                r1, c1, r2, c2 = split_range(formula.get("ref"))
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
            # Imported here: openpyxl costs start-up time, and few sheets need this.
            from openpyxl.formula.translate import Translator

            origin, text = cell_ref(row, col), "=" + master.text
            for formula, r, c in sharing.get(group, []):
                if (r, c) not in targets:
                    formula.text = Translator(text, origin=origin).translate_formula(
                        cell_ref(r, c)
                    )[1:]
                    for attribute in ("t", "si", "ref"):
                        formula.attrib.pop(attribute, None)

    def write_cell(
        self,
        number: int,
        col: int,
        value: CellContent,
        fill: Colour | None,
        number_format: str | None,
        styles: Styles,
        keep_format: bool = False,
    ) -> bool:
        """Give one cell a value, fill and number format; False if it already had them.

        With `keep_format` only the value is written and the cell keeps its look.
        """
        cells = self.cells(number)
        cell = cells.get(col)
        if cell is None:
            base = self._default_style(number, col)
            style = base if keep_format else styles.derive(base, fill, number_format)
            if value == BLANK and style == base:
                return False
            if not cells or next(reversed(cells)) < col:  # after the row's last cell
                self._append_cell(number, col, cell_xml(value, style, self.prefix))
                self.changed = True
                return True
            cell = self._new_cell(number, col, cells)
        else:
            base = int(cell.get("s") or 0)
            style = base if keep_format else styles.derive(base, fill, number_format)
            if style == base and current_content(cell, self._shared) == value:
                return False
            if cell.find(FORMULA) is not None:
                self.removed_formulas.add(cell.get("r"))
        set_style(cell, style)
        set_value(cell, value)
        if value == BLANK and not len(cell) and style == self._default_style(number, col):
            cell.getparent().remove(cell)
            del cells[col]
        self.changed = True
        return True

    def style_of(self, number: int, col: int) -> int:
        """The cell format index a cell shows (its own, else its row's or column's)."""
        cell = self.cells(number).get(col)
        return self._default_style(number, col) if cell is None else int(cell.get("s") or 0)

    def set_style(self, number: int, col: int, style: int) -> bool:
        """Give a cell the cell format `style` (its value stays); False if it had it."""
        cells = self.cells(number)
        cell = cells.get(col)
        if cell is None:
            if style == self._default_style(number, col):
                return False
            cell = self._new_cell(number, col, cells)
        elif int(cell.get("s") or 0) == style:
            return False
        set_style(cell, style)
        self.changed = True
        return True

    def set_column_width(self, col: int, width: float) -> bool:
        """Give one column a width, splitting a `<col>` range that covers others too."""
        cols = self.root.find(f"{{{MAIN_NS}}}cols")
        if cols is None:
            cols = etree.Element(f"{{{MAIN_NS}}}cols")
            insert_ordered(self.root, cols, WORKSHEET_ORDER)
        text = f"{width:g}"
        for entry in cols.iterchildren(COL):
            low, high = int(entry.get("min", "0")), int(entry.get("max", "0"))
            if not low <= col <= high:
                continue
            if low == high:
                if entry.get("width") == text and entry.get("customWidth") in ("1", "true"):
                    return False
                entry.set("width", text)
                entry.set("customWidth", "1")
                self._col_styles = None
                self.changed = True
                return True
            pieces = [(low, col - 1), (col, col), (col + 1, high)]
            for start, end in pieces:
                if start > end:
                    continue
                piece = etree.Element(COL, dict(entry.attrib))
                piece.set("min", str(start))
                piece.set("max", str(end))
                if start == col:
                    piece.set("width", text)
                    piece.set("customWidth", "1")
                entry.addprevious(piece)
            cols.remove(entry)
            self._col_styles = None
            self.changed = True
            return True
        new = etree.Element(COL, min=str(col), max=str(col), width=text, customWidth="1")
        after = next((e for e in cols.iterchildren(COL) if int(e.get("min", "0")) > col), None)
        if after is None:
            cols.append(new)
        else:
            after.addprevious(new)
        self._col_styles = None
        self.changed = True
        return True

    def _new_cell(self, number: int, col: int, cells: dict[int, Any]) -> Any:
        row = self._rows.get(number)
        if row is None:
            row = self._new_row(number)
        ref = cell_ref(number, col)
        if not cells or next(reversed(cells)) < col:  # `cells` is in column order
            ext = row.find(EXT_LST)
            if ext is None:
                cell = etree.SubElement(row, CELL, r=ref)
            else:
                cell = etree.Element(CELL, r=ref)
                ext.addprevious(cell)
            cells[col] = cell
        else:
            cell = etree.Element(CELL, r=ref)
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
        (`XlsxPackage.to_bytes`), which costs a fraction of building, then serialising, the
        elements.
        `cells(number)` does not list them, which is right for later writes in the same
        pass: those go to columns further right, after them.
        """
        row = self._rows.get(number)
        if row is None:
            row = self._new_row(number)
        cell = f'<{self.prefix}c r="{cell_ref(number, col)}"{xml}'
        self._pending.setdefault(number, []).append(cell)
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
        row = etree.Element(ROW, r=str(number))
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
            if last is not None and last.tag == EXT_LST:
                last.addprevious(placeholder)
            else:
                row.append(placeholder)
        self._pending.clear()
        dimension = self.root.find(f"{{{MAIN_NS}}}dimension")
        if self._new_bounds is None or dimension is None:
            return
        try:
            old = split_range(dimension.get("ref", ""))
        except DamagedPackage:
            return
        new = self._new_bounds
        grown = (min(old[0], new[0]), min(old[1], new[1]), max(old[2], new[2]), max(old[3], new[3]))
        if grown != old:
            dimension.set("ref", range_ref(*grown))

    def row_prefix(self) -> str:
        """How a `<row>` of this sheet starts when serialised on its own, up to its attributes.

        lxml repeats the namespace declarations in scope on an element serialised alone, so
        the XML sheetsync would write for a row compares equal to an existing row's only
        with this in front.
        """
        probe = etree.SubElement(self.data, ROW)
        try:
            return etree.tostring(probe, encoding=str)[:-2]  # without the closing "/>"
        finally:
            self.data.remove(probe)

    def has_row(self, number: int) -> bool:
        return number in self._rows

    def row_matches(self, number: int, xml: str) -> bool:
        """Whether the row serialises to `xml` (the whole `<row>` sheetsync writes, without
        the namespace declarations lxml repeats on an element serialised alone)."""
        if self._row_start is None:
            self._row_start = self.row_prefix(), len(f"<{self.prefix}row")
        prefix, head = self._row_start
        there = etree.tostring(self._rows[number], encoding=str, with_tail=False)
        return there == prefix + xml[head:]

    def row_numbers(self) -> list[int]:
        return list(self._rows)

    def shown(self, number: int, styles: Styles) -> tuple[dict[int, ShownCell], list[str]]:
        """What each non-blank cell of a row shows (value, fill, number format; fonts aside),
        and the references of its formulas."""
        shown: dict[int, ShownCell] = {}
        formulas: list[str] = []
        for col, cell in self.cells(number).items():
            value = current_content(cell, self._shared)
            if value[0] == "f":
                formulas.append(cell.get("r"))
            style = int(cell.get("s") or 0)
            fill, fmt = styles.fill_of(style), styles.format_of(style)
            if value != BLANK or fill is not None or fmt != "General":
                shown[col] = (value, fill, fmt)
        return shown, formulas

    def replace_rows(self, rows: dict[int, str | None]) -> None:
        """Replace or add whole rows (row number -> the `<row>`'s XML) or remove them (None).

        The new rows are not built as elements: each run of consecutive new rows becomes one
        placeholder in the tree, and their XML is spliced in where it stands when the part is
        serialised (`XlsxPackage.to_bytes`). Building, parsing and serialising the elements of
        10,000 rows would cost many times what joining their text does.
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
            p = self.prefix
            declare = f"xmlns:{p[:-1]}" if p else "xmlns"
            wrapped = f'<{p}sheetData {declare}="{MAIN_NS}">{xml}</{p}sheetData>'.encode()
            for element in list(etree.fromstring(wrapped, new_parser())):
                placeholder.addprevious(element)
                if parent is self.data:
                    self._rows[int(element.get("r"))] = element
            if parent is not self.data:
                self._cells.pop(int(parent.get("r")), None)
            parent.remove(placeholder)
        self._row_numbers = None

    def set_dimension(self, bounds: tuple[int, int, int, int] | None) -> None:
        dimension = self.root.find(f"{{{MAIN_NS}}}dimension")
        if dimension is not None:
            dimension.set("ref", range_ref(*bounds) if bounds else "A1")

    def set_widths(self, widths: dict[int, float]) -> None:
        if not widths:
            return
        cols = etree.Element(f"{{{MAIN_NS}}}cols")
        for col in sorted(widths):
            etree.SubElement(
                cols, COL, min=str(col), max=str(col), width=str(widths[col]), customWidth="1"
            )
        insert_ordered(self.root, cols, WORKSHEET_ORDER)


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
