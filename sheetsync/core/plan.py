"""The plain data that flows between the core and a backend: cell values read, cells to write.

A backend reads a tab into a `Grid` of plain values; the core turns that into a `WritePlan`,
the *desired* content of the cells and tabs sheetsync owns, and hands it back to the backend.
These types live in the core so that parsing, scoring and planning never import a backend.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import TypeAlias

from sheetsync.core.model import Colour

CellValue: TypeAlias = str | int | float | bool | date | datetime | None
"""A computed cell value as a backend reads it (formulas arrive as their last result)."""

Grid: TypeAlias = list[list[CellValue]]
"""A tab's values: grid[0] is sheet row 1, grid[r][c] is row r+1, column c+1. Rows may be ragged."""

NumberFormats: TypeAlias = dict[tuple[int, int], str]
"""(row, col), 1-based -> the number format code of a numeric cell (Excel numFmt code, Google
`numberFormat.pattern`). Cells in General format are left out."""


@dataclass
class Snapshot:
    """What a backend read: the values of each requested tab that exists."""

    tabs: dict[str, Grid]
    number_formats: dict[str, NumberFormats] = field(default_factory=dict)
    """tab -> the number formats of its numeric cells, so outputs show numbers as they do."""
    decimal: str | None = None
    """The workbook's own decimal separator when it declares a locale (Google: ',' for
    de_DE); None when the file does not say (Excel)."""
    output_columns: dict[str, dict[str, int]] = field(default_factory=dict)
    """tab -> output ('Score', 'Status' ...) -> 1-based column carrying sheetsync's marker
    (Excel: a hidden defined name; Google: developer metadata on the column), wherever a
    person moved that column since."""

    def find_tab(self, name: str) -> str | None:
        """The actual tab name matching `name` case-insensitively, if the workbook has it."""
        if name in self.tabs:
            return name
        wanted = name.strip().casefold()
        return next((t for t in self.tabs if t.strip().casefold() == wanted), None)


@dataclass(slots=True)
class CellWrite:
    """One cell sheetsync owns on a person's tab (an output column), with its fill.

    Not frozen, unlike the other records: a plan holds four per item row, and a frozen
    dataclass sets each field through `object.__setattr__` (ten times the cost of making
    one). Nothing changes a write once planned.
    """

    tab: str
    row: int
    col: int
    value: str | float | None
    fill: Colour | None = None
    number_format: str | None = None
    keep_format: bool = False
    """Write the value only and leave the cell's look alone (an output header, styled like
    the person's headers)."""


OUTPUT_MARKER = "sheetsync.output"
"""The key of the marker on each output column (Google developer metadata key; Excel defined
names are `_sheetsync_<output>`)."""


@dataclass(frozen=True)
class OutputColumn:
    """An output column to mark as sheetsync's, so it is recognised wherever it moves.

    Sent for a column sheetsync adds, or one an earlier version made (recognised once by its
    header). A new column also gets the look of the person's last header cell and a width.
    """

    tab: str
    output: str
    """'Score', 'Status', 'Note' or 'Trend'."""
    col: int
    header_row: int
    style_from: int | None = None
    """Column of the header cell whose look (font, fill, borders, alignment) the new header
    copies; None leaves the header's look alone."""
    width: float | None = None
    """Width in characters for a new column; None leaves the width alone."""


@dataclass(frozen=True, slots=True)
class RowGuard:
    """A cell whose read value must still be there when we write: the row has not moved."""

    tab: str
    row: int
    col: int
    expected: CellValue


@dataclass(frozen=True, eq=False)
class GuardedRows:
    """Every cell the outputs of a person's tab were computed from, kept as the grid read:
    the header row up to the last output column (but a column sheetsync adds), and every
    other column of every row below it.

    Iterating gives one `RowGuard` per cell. Only a backend that checks guards cell by cell
    does, and only when it writes (Google checks them in the batch's own answer; Excel
    compares the whole file's bytes instead), so an unchanged sync builds none.
    """

    tab: str
    grid: Grid
    header_row: int
    outputs: frozenset[int]
    """Output columns: written by sheetsync, so never guarded below the header."""
    new_outputs: frozenset[int]
    """Output columns sheetsync adds in this write: their header cell is not guarded either."""

    def __iter__(self) -> Iterator[RowGuard]:
        tab, grid, header = self.tab, self.grid, self.header_row
        for col in range(1, max(self.outputs) + 1):
            if col not in self.new_outputs:
                line = grid[header - 1] if header <= len(grid) else []
                yield RowGuard(tab, header, col, line[col - 1] if col <= len(line) else None)
        outputs = self.outputs
        for row in range(header + 1, len(grid) + 1):
            for col, value in enumerate(grid[row - 1], start=1):
                if col not in outputs:
                    yield RowGuard(tab, row, col, value)


OWNED_DATA_ROW = 3
"""The first data row of an owned tab, below its marker (row 1) and header (row 2)."""


@dataclass(frozen=True)
class CellRange:
    """A rectangle of cells on one tab, 1-based and inclusive: what a chart draws from."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int


@dataclass(frozen=True)
class ChartSeries:
    """One line or set of bars, its values in `values` (one row or one column)."""

    name: str
    values: CellRange
    colour: str
    """RRGGBB of the line or bars."""
    point_colours: tuple[str, ...] = ()
    """Bars only: RRGGBB of each bar in category order (a bar per status colour)."""
    dashed: bool = False


@dataclass(frozen=True)
class Chart:
    """A native chart on an owned tab, drawing from that tab's own cells.

    `key` names it across runs, so a re-run updates the chart in place rather than adding a
    copy. The anchor is the top-left cell; the size is in columns and rows.
    """

    key: str
    kind: str
    """"bar" (horizontal bars, one per category) or "line"."""
    title: str
    categories: CellRange
    series: tuple[ChartSeries, ...]
    row: int
    col: int
    width: int
    height: int


@dataclass
class OwnedTab:
    """The full desired content of a tab sheetsync owns (Summary, History, Alerts).

    `rows[0]` is sheet row 1. Backends rewrite only the rows that differ, so an append-only
    log costs only its new rows.
    """

    name: str
    rows: Grid
    fills: dict[tuple[int, int], Colour] = field(default_factory=dict)
    """(row, col), 1-based, -> fill colour."""
    widths: dict[int, float] = field(default_factory=dict)
    """1-based column -> width in characters, applied when the tab is created."""
    formats: NumberFormats = field(default_factory=dict)
    """(row, col), 1-based -> number format code of that cell (scores `0.00`, dates ...)."""
    charts: list[Chart] = field(default_factory=list)
    """Native charts drawn on the tab from its cells; sheetsync owns every chart on the tab."""
    column_formats: dict[int, str] = field(default_factory=dict)
    """1-based column -> number format code of its cells below the marker and header rows
    (row 3 on) that `formats` does not name: one entry for a long log's date column."""
    first_row: int = 1
    """The sheet row of `rows[0]` (`fills` and `formats` name sheet rows): more than 1 only
    for rows appended below a log (`WritePlan.appends`)."""

    def number_format(self, row: int, col: int) -> str | None:
        """The number format planned for a cell, None for the backend's default."""
        found = self.formats.get((row, col)) if self.formats else None
        if found is None and row >= OWNED_DATA_ROW and self.column_formats:
            found = self.column_formats.get(col)
        return found


def shifted(rows: OwnedTab, first_row: int) -> OwnedTab:
    """`rows` moved to start on sheet row `first_row`, fills and formats with them."""
    by = first_row - rows.first_row
    return replace(
        rows,
        first_row=first_row,
        fills={(r + by, c): colour for (r, c), colour in rows.fills.items()},
        formats={(r + by, c): code for (r, c), code in rows.formats.items()},
    )


@dataclass
class WritePlan:
    cells: list[CellWrite] = field(default_factory=list)
    owned_tabs: list[OwnedTab] = field(default_factory=list)
    guards: list[RowGuard] = field(default_factory=list)
    columns: list[OutputColumn] = field(default_factory=list)
    """Output columns to mark (and, when new, to style and size)."""
    guarded: list[GuardedRows] = field(default_factory=list)
    """Person's tabs whose rows are guarded whole (a guard per cell, made when checked)."""
    appends: list[OwnedTab] = field(default_factory=list)
    """Rows to add to an existing owned tab from its `first_row` on, without reading or
    rewriting the rows above (History's new rows: the tab is never read whole)."""

    def all_guards(self) -> Iterator[RowGuard]:
        """Every cell that must still hold what was read: `guards`, then the `guarded` tabs'."""
        yield from self.guards
        for rows in self.guarded:
            yield from rows

    @property
    def is_empty(self) -> bool:
        return not self.cells and not self.owned_tabs and not self.columns and not self.appends


@dataclass
class WriteResult:
    cells_changed: int = 0
    tabs_created: list[str] = field(default_factory=list)
    charts_changed: int = 0
    """Charts added, updated or removed on owned tabs."""
    wrote: bool = False
    """False when everything was already as planned and nothing was written."""
