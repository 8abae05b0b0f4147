"""The rows of a tab sheetsync owns, as the XML text it writes for them, and how many cells of
an existing row show something else."""

from __future__ import annotations

from datetime import datetime
from itertools import chain, repeat
from typing import Any, Protocol, TypeAlias

from sheetsync.backends.base import (
    CellValue,
    OwnedTab,
)
from sheetsync.backends.excel.cells import (
    CellContent,
    ShownCell,
    cell_xml,
    column_letters,
    desired_content,
)
from sheetsync.backends.excel.styles import Styles
from sheetsync.core.model import Colour
from sheetsync.core.plan import OWNED_DATA_ROW

_Wanted: TypeAlias = tuple[CellContent, Colour | None, str, str | None]
"""A cell of an owned tab: content, fill, number format, and its XML after `<c r="A1` (from
the reference's closing quote on; None while its cell format does not exist yet)."""


class OwnedRows:
    """The rows an owned tab should have, and the XML sheetsync writes for each.

    Each distinct (value, fill) is converted once: an append-mostly log repeats its dates,
    names and statuses on every row, so a cell costs a dictionary lookup and a few list items.
    With `create` false, no cell format is added to the workbook (a row needing one gets no
    XML yet): that is for comparing, before it is known whether anything is to be written.
    """

    def __init__(
        self, owned: OwnedTab, styles: Styles, epoch: datetime, *, create: bool, prefix: str = ""
    ):
        self._styles = styles
        self._prefix = prefix
        """The sheet's tag prefix ("x:" or ""; see `Worksheet.prefix`)."""
        self._epoch = epoch
        self._create = create
        self._memo: dict[Any, _Wanted] = {}
        self._plain: dict[type, dict[Any, _Wanted]] = {}
        """Value's class -> value -> cell, for cells without a fill: one lookup per class keeps
        1, 1.0 and True apart."""
        self._looks: dict[tuple[Colour | None, str | None], dict[type, dict[Any, _Wanted]]] = {}
        """The same for cells with a fill or a number format, by (fill, format)."""
        self._grid = owned.rows
        self._fills: dict[int, dict[int, Colour]] = {}
        for (r, c), colour in owned.fills.items():
            if r >= 1 and c >= 1:
                self._fills.setdefault(r, {})[c] = colour
        self._owned = owned
        formatted = bool(owned.formats or owned.column_formats)
        self.rows: dict[int, str | None] = {}
        """Row number -> the row's XML (None: needs a cell format not there yet); only rows
        with cells."""
        self.counts: dict[int, int] = {}
        """Row number -> how many cells it has."""
        self.cells = 0
        self.bounds: tuple[int, int, int, int] | None = None

        grid, fills, plain, cell_of = self._grid, self._fills, self._plain, self._cell
        looks = self._looks
        # `owned.number_format`, looked up by row then column (it is asked for every cell)
        row_codes: dict[int, dict[int, str]] = {}
        for (r, c), planned in owned.formats.items():
            row_codes.setdefault(r, {})[c] = planned
        column_codes = owned.column_formats
        no_codes: dict[int, str] = {}
        width = max([len(row) for row in grid] + [c for f in fills.values() for c in f] + [0])
        heads = [f'<{prefix}c r="{column_letters(col)}' for col in range(width + 1)]
        row_head, row_end = f'<{prefix}row r="', f"</{prefix}row>"
        no_fills: dict[int, Colour] = {}
        r1 = c1 = 1 << 30
        r2 = c2 = 0
        first_row = self._first = owned.first_row  # rows[0]'s sheet row (appended rows)
        end = max(first_row + len(grid) - 1, max(fills, default=0))
        for number in range(first_row, end + 1):
            row = str(number)
            parts = [row_head, row, '">']
            first = last = count = 0
            complete = True
            row_fills = fills.get(number, no_fills)
            codes = row_codes.get(number, no_codes) if formatted else no_codes
            by_column = column_codes if formatted and number >= OWNED_DATA_ROW else no_codes
            values = grid[number - first_row] if number - first_row < len(grid) else []
            # Cells with a value, then fill-only cells beyond the row's last value.
            beyond = sorted(c for c in row_fills if c > len(values)) if row_fills else ()
            for col, value in chain(enumerate(values, 1), zip(beyond, repeat(None))):
                fill = row_fills.get(col) if row_fills else None
                code = None
                if value is not None and (codes or by_column):
                    code = codes.get(col)
                    if code is None and by_column:
                        code = by_column.get(col)
                if fill is None and code is None:
                    if value is None:
                        continue
                    known = plain.get(value.__class__)
                else:
                    look = looks.get((fill, code))
                    known = look.get(value.__class__) if look is not None else None
                cell = known.get(value) if known is not None else None
                if cell is None:
                    cell = cell_of(value, fill, code)
                if cell[3] is None:
                    complete = False
                elif complete:
                    parts += (heads[col], row, cell[3])
                first = first or col
                last = col
                count += 1
            if not count:
                continue
            parts.append(row_end)
            self.rows[number] = "".join(parts) if complete else None
            self.counts[number] = count
            self.cells += count
            r1, r2 = min(r1, number), number
            c1, c2 = min(c1, first), max(c2, last)
        if self.rows:
            self.bounds = (r1, c1, r2, c2)

    def _columns(self, number: int) -> list[tuple[int, CellValue]]:
        """(column, value) of a row's cells with a value or a fill, in column order."""
        at = number - self._first
        values = self._grid[at] if 0 <= at < len(self._grid) else []
        fills = self._fills.get(number, {})
        found = [(c, v) for c, v in enumerate(values, 1) if v is not None or c in fills]
        return found + [(c, None) for c in sorted(fills) if c > len(values)]

    def _cell(self, value: CellValue, fill: Colour | None, code: str | None = None) -> _Wanted:
        try:
            key: Any = (value.__class__, value, fill, code)
            found = self._memo.get(key)
        except TypeError:  # unhashable: not a cell value, let desired_content say so
            key, found = None, None
        if found is None:
            content, fmt = desired_content(value, self._epoch)
            fmt = code or fmt or "General"
            if self._create:
                style: int | None = self._styles.derive(0, fill, fmt)
            else:
                style = self._styles.existing(0, fill, fmt)
            xml = None if style is None else '"' + cell_xml(content, style, self._prefix)
            found = (content, fill, fmt, xml)
            if key is not None:
                self._memo[key] = found
                if fill is None and code is None:
                    self._plain.setdefault(value.__class__, {})[value] = found
                else:
                    look = self._looks.setdefault((fill, code), {})
                    look.setdefault(value.__class__, {})[value] = found
        return found

    def cells_of(self, number: int) -> list[tuple[int, _Wanted]]:
        """(column, cell) of a row, in column order."""
        fills = self._fills.get(number, {})
        formats = self._owned.number_format
        return [
            (c, self._cell(v, fills.get(c), None if v is None else formats(number, c)))
            for c, v in self._columns(number)
        ]

    def xml(self, number: int) -> str:
        """The row's XML, adding the cell formats it needs."""
        xml = self.rows[number]
        if xml is None:
            p = self._prefix
            parts = [f'<{p}row r="{number}">']
            for col, (content, fill, fmt, _) in self.cells_of(number):
                tail = cell_xml(content, self._styles.derive(0, fill, fmt), p)
                parts.append(f'<{p}c r="{column_letters(col)}{number}"{tail}')
            parts.append(f"</{p}row>")
            xml = self.rows[number] = "".join(parts)
        return xml


def count_differences(wanted: list[tuple[int, _Wanted]], shown: dict[int, ShownCell]) -> int:
    """How many cells of a row show something other than wanted."""
    want = {
        col: (content, fill.value if fill else None, fmt) for col, (content, fill, fmt, _) in wanted
    }
    return sum(1 for col in want.keys() | shown.keys() if want.get(col) != shown.get(col))


class RowsThere(Protocol):
    """An owned tab's rows as they are in the file: a tree (`Worksheet`) or text (`SheetText`)."""

    def has_row(self, number: int) -> bool: ...

    def row_matches(self, number: int, xml: str) -> bool: ...

    def row_numbers(self) -> list[int]: ...

    def shown(self, number: int, styles: Styles) -> tuple[dict[int, ShownCell], list[str]]: ...


def row_changes(
    there: RowsThere, wanted: OwnedRows, styles: Styles
) -> tuple[dict[int, bool], int, list[str]]:
    """Which rows of an owned tab to rewrite (True) or remove (False) to bring it to `wanted`,
    how many cells that changes, and the formulas it overwrites.

    A row already as wanted is recognised by its XML: the row sheetsync would write equals the
    row there, one comparison. A row that does not match (it differs, or a person saved the
    file and Excel rewrote it its own way) is compared by what its cells show; only rows that
    show something else are rewritten. So an append-mostly tab costs its new rows plus one
    comparison per existing row, and nothing is written when nothing differs.
    """
    changes: dict[int, bool] = {}
    changed = 0
    formulas: list[str] = []
    for number, xml in wanted.rows.items():
        if not there.has_row(number):
            changed += wanted.counts[number]
            changes[number] = True
            continue
        if xml is not None and there.row_matches(number, xml):
            continue
        shown, found = there.shown(number, styles)
        differ = count_differences(wanted.cells_of(number), shown)
        if differ:
            changed += differ
            changes[number] = True
            formulas += found
    for number in there.row_numbers():
        if number not in wanted.rows:
            shown, found = there.shown(number, styles)
            if shown:
                changed += len(shown)
                changes[number] = False
                formulas += found
    return changes, changed, formulas
