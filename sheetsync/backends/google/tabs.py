"""What the backend remembers of each tab between `read` and `write` (sheet ID, grid size,
each cell's value key, fill and number format), read from a `spreadsheets.get` answer."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from babel import UnknownLocaleError
from babel.numbers import get_decimal_symbol

from sheetsync.backends.base import HEAD_ROWS, OUTPUT_MARKER, CellValue, Grid
from sheetsync.backends.google.cells import (
    MAX_CELL_TEXT,
    ValueKey,
    hex_colour,
    python_value,
    value_key,
)
from sheetsync.core.plan import NumberFormats


class CellState(NamedTuple):
    value: ValueKey
    fill: str | None
    number_format: str | None


EMPTY_CELL = CellState(None, None, None)


@dataclass
class TabState:
    """A tab as read: its grid, each row's values, and the cells that hold more than a value.

    Most cells of a tab are plain, a number or a text with no formula, fill or number format
    of its own: such a cell's state follows from its value in `values`, so only the others are
    kept in `cells` (a 10,000-row read holds about 300,000 cells, and building a state for
    each was a fifth of an unchanged sync's CPU). `cell()` answers for any cell.
    """

    sheet_id: int
    title: str
    rows: int
    cols: int
    cells: dict[tuple[int, int], CellState] = field(default_factory=dict)
    """(row, col), 0-based -> the state of a cell that is not plain (a formula, a fill, a
    number format, true/false, an error, a text too long to write back), and of every cell
    written since the read."""
    values: list[list[CellValue]] = field(default_factory=list)
    """Each row's values as read (0-based rows and columns, as the grid the core gets)."""
    value_widths: dict[int, int] = field(default_factory=dict)
    """Row -> columns up to its last value as read."""
    cells_by_row: dict[int, list[int]] = field(default_factory=dict)
    """Row -> the columns of its cells in `cells`."""
    markers: dict[str, int] = field(default_factory=dict)
    """output -> 1-based column carrying sheetsync's developer metadata (`OUTPUT_MARKER`)."""
    charts: dict[int, dict[str, Any]] = field(default_factory=dict)
    """chart ID -> the tab's `EmbeddedChart` as read (spec and position)."""

    def cell(self, row: int, col: int) -> CellState:
        found = self.cells.get((row, col))
        if found is not None:
            return found
        values = self.values
        line = values[row] if 0 <= row < len(values) else ()
        return plain_state(line[col] if 0 <= col < len(line) else None)

    def remember(self, row: int, col: int, state: CellState) -> None:
        """The cell now holds `state` (written since the read)."""
        where = (row, col)
        if where not in self.cells:
            self.cells_by_row.setdefault(row, []).append(col)
        self.cells[where] = state

    def row_widths(self) -> dict[int, int]:
        """Row -> columns up to its last cell holding anything (value or format)."""
        widths = dict(self.value_widths)
        for r, columns in self.cells_by_row.items():
            width = max(columns) + 1
            if width > widths.get(r, 0):
                widths[r] = width
        return widths


def plain_state(value: CellValue) -> CellState:
    """The state of a plain cell holding `value` (a number, a text or nothing) as read."""
    if value is None:
        return EMPTY_CELL
    if type(value) is str:
        return CellState(("s", value), None, None) if value else EMPTY_CELL
    return CellState(("n", float(value)), None, None)  # type: ignore[arg-type]


class GridSize(NamedTuple):
    sheet_id: int
    rows: int
    cols: int


def title_and_grid(sheet: Mapping[str, Any]) -> tuple[str, GridSize]:
    props = sheet.get("properties", {})
    grid = props.get("gridProperties", {})
    return props.get("title", ""), GridSize(
        int(props.get("sheetId", 0)), int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    )


def cells_of(sheet: Mapping[str, Any]) -> Iterable[tuple[int, int, Mapping[str, Any]]]:
    for block in sheet.get("data", []) or []:
        top, left = int(block.get("startRow", 0)), int(block.get("startColumn", 0))
        for i, row in enumerate(block.get("rowData", []) or []):
            for j, cell in enumerate(row.get("values", []) or []):
                if cell:
                    yield top + i, left + j, cell


_GRID = "gridProperties(rowCount,columnCount)"
READ_FIELDS = (
    "spreadsheetId,properties(title,locale),spreadsheetUrl,"
    f"sheets(properties(sheetId,title,{_GRID}),"
    "data(startRow,startColumn,rowData(values(userEnteredValue.formulaValue,effectiveValue,"
    "userEnteredFormat(backgroundColor,numberFormat))),"
    "columnMetadata(developerMetadata(metadataKey,metadataValue))),"
    "charts(chartId,spec,position))"
)
"""The `fields` mask of the one read: the tabs' effective values, fills and formats, the
formula of each formula cell (a cell without one holds exactly its effective value, so the
whole userEnteredValue would say everything twice), the developer metadata on its columns
(sheetsync's marks on its own columns), its charts, and the spreadsheet's locale (File >
Settings), which says how its text numbers are written."""


def read_params(tabs: Iterable[str] | None, heads: Collection[str] = ()) -> dict[str, Any]:
    """The `spreadsheets.get` parameters of the read: only `tabs` (whole tabs, by `ranges`;
    those in `heads` only to their first `HEAD_ROWS` rows) when given, every tab otherwise."""
    params: dict[str, Any] = {"fields": READ_FIELDS}
    if tabs is not None:
        params["ranges"] = [
            quoted_title(t) + (f"!1:{HEAD_ROWS}" if t in heads else "") for t in tabs
        ]
    return params


def quoted_title(title: str) -> str:
    """A tab name as A1 notation wants it: `'Q3 OKRs'`, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def is_unknown_range(message: str) -> bool:
    """Whether a 400 says a range named a tab the spreadsheet does not have."""
    return "Unable to parse range" in message


CELL_FIELDS = (
    "sheets(properties(sheetId,title),"
    "data(startRow,startColumn,rowData(values(userEnteredValue.formulaValue,effectiveValue))))"
)
"""The `fields` mask of a read of a few cells' values (a cell read back after a lost answer)."""

META_FIELDS = f"sheets.properties(sheetId,title,{_GRID})"
"""The `fields` mask that asks for each tab's title, sheet ID and grid size only."""


_DEFAULT_PATTERNS = {"NUMBER": "#,##0.00", "PERCENT": "0.00%", "CURRENCY": '"$"#,##0.00'}
"""What Google shows for a numberFormat type given without a pattern (en_US)."""


def shown_pattern(number_format: Mapping[str, Any] | None) -> str | None:
    """The pattern a numeric cell is shown with, None for automatic, dates and text."""
    if not number_format:
        return None
    kind = number_format.get("type", "")
    if kind not in ("NUMBER", "PERCENT", "CURRENCY"):
        return None
    return number_format.get("pattern") or _DEFAULT_PATTERNS[kind]


def comma_locale(locale: str | None) -> str | None:
    """',' when the spreadsheet's locale (`de_DE`, `fr_FR` ...) writes decimals with a comma.

    None otherwise: a dot locale is most often just the default (en_US) that nobody chose, so
    it proves nothing about text such as `€80.000`, which stays ambiguous.
    """
    if not locale:
        return None
    try:
        symbol = str(get_decimal_symbol(locale))
    except (UnknownLocaleError, ValueError, TypeError):
        return None
    return "," if symbol == "," else None


def load_tabs(
    doc: Mapping[str, Any], formats: dict[str, NumberFormats] | None = None
) -> tuple[dict[str, TabState], dict[str, Grid]]:
    """Every tab's cells as remembered for diffing, and each tab's values with rows padded.

    `formats`, when given, receives each tab's number formats of numeric cells (1-based).
    A tab's cells are read row by row with plain loops: this runs for every cell read. A plain
    cell (a number or a text, nothing else) is kept as its value only (`TabState`).
    """
    tabs: dict[str, TabState] = {}
    grids: dict[str, Grid] = {}
    colours = RememberedColours()
    seen_colours, unseen = colours.seen, _UNSEEN
    state = tuple.__new__  # CellState(...) without the Python frame of a NamedTuple's __new__
    for sheet in doc.get("sheets", []) or []:
        title, size = title_and_grid(sheet)
        tab = TabState(size.sheet_id, title, size.rows, size.cols)
        rows: dict[int, dict[int, CellValue]] = {}
        shown: NumberFormats = {}
        cells = tab.cells
        by_row = tab.cells_by_row
        for block in sheet.get("data", []) or []:
            top, left = int(block.get("startRow", 0)), int(block.get("startColumn", 0))
            for r, row_data in enumerate(block.get("rowData", []) or [], start=top):
                line: dict[int, CellValue] = {}
                kept: list[int] = []
                for j, cell in enumerate(row_data.get("values", []) or [], start=left):
                    if not cell:
                        continue
                    effective = cell.get("effectiveValue")
                    entered = cell.get("userEnteredValue")
                    fmt = cell.get("userEnteredFormat")
                    if not entered and not fmt and effective:  # a plain cell: its value says all
                        if "numberValue" in effective:
                            line[j] = effective["numberValue"]
                            continue
                        text = effective.get("stringValue")
                        if text is not None and len(text) <= MAX_CELL_TEXT:
                            line[j] = text
                            continue
                    if not entered and effective and "numberValue" in effective:
                        value = effective["numberValue"]
                        key: ValueKey = ("n", float(value))
                    elif not entered and effective and "stringValue" in effective:
                        value = effective["stringValue"]
                        key = ("s", value) if value != "" else None
                    else:
                        key, value = read_cell(entered, effective)
                    kept.append(j)
                    if fmt:
                        number_format = fmt.get("numberFormat")
                        background = fmt.get("backgroundColor")
                        fill = None
                        if background is not None:  # RememberedColours.hex, inlined
                            colour_key = tuple(background.items())
                            fill = seen_colours.get(colour_key, unseen)
                            if fill is unseen:
                                fill = seen_colours[colour_key] = hex_colour(background)
                        if number_format:
                            pattern = number_format.get("pattern")
                            cells[(r, j)] = state(CellState, (key, fill, pattern))
                            kind = number_format.get("type")  # shown_pattern, inlined
                            if kind in _DEFAULT_PATTERNS and isinstance(value, (int, float)):
                                shown[(r + 1, j + 1)] = pattern or _DEFAULT_PATTERNS[kind]
                        else:
                            cells[(r, j)] = state(CellState, (key, fill, None))
                    else:
                        cells[(r, j)] = state(CellState, (key, None, None))
                    if value is not None:
                        line[j] = value
                if kept:
                    by_row.setdefault(r, []).extend(kept)
                if line:
                    rows.setdefault(r, {}).update(line)
        if formats is not None:
            formats[title] = shown
        tab.markers = column_markers(sheet)
        tab.charts = {
            int(chart["chartId"]): dict(chart)
            for chart in sheet.get("charts", []) or []
            if "chartId" in chart
        }
        tabs[title] = tab
        grid = grids[title] = _padded_grid(rows)
        tab.values = [list(line) for line in grid]  # the core gets `grid`: a copy of its own
        tab.value_widths = {r: max(line) + 1 for r, line in rows.items()}
    return tabs, grids


def read_cell(
    entered: Mapping[str, Any] | None, effective: Mapping[str, Any] | None
) -> tuple[ValueKey, CellValue]:
    """A cell's value key (its formula when it has one) and its value for the core:
    `value_key(entered or effective)` and `python_value(effective)`, numbers and text first."""
    if not entered and effective:
        if "numberValue" in effective:
            number = effective["numberValue"]
            return ("n", float(number)), number
        if "stringValue" in effective:
            text = effective["stringValue"]
            return ("s", text) if text != "" else None, text
    return value_key(entered if entered else effective), python_value(effective)


def _padded_grid(rows: Mapping[int, Mapping[int, CellValue]]) -> Grid:
    """Rows of values (0-based row -> column -> value) as a grid, every row as wide as the
    widest, up to the last row holding a value."""
    height = max(rows, default=-1) + 1
    width = max((max(line) for line in rows.values()), default=-1) + 1
    grid: Grid = [[None] * width for _ in range(height)]
    for r, line in rows.items():
        padded = grid[r]
        for c, value in line.items():
            padded[c] = value
    return grid


class RememberedColours:
    """`hex_colour` of each fill read, worked out once per colour (a tab has a handful)."""

    def __init__(self) -> None:
        self.seen: dict[tuple[Any, ...], str | None] = {}

    def hex(self, colour: Mapping[str, Any] | None) -> str | None:
        if colour is None:
            return None
        key = tuple(colour.items())
        found = self.seen.get(key, _UNSEEN)
        if found is _UNSEEN:
            found = self.seen[key] = hex_colour(colour)
        return found  # type: ignore[return-value]


_UNSEEN = object()


def column_markers(sheet: Mapping[str, Any]) -> dict[str, int]:
    """output -> 1-based column of the columns sheetsync marked with developer metadata.

    Developer metadata on a column moves with it when a person inserts, deletes or moves
    columns, and is deleted with it, so the marks always name sheetsync's columns.
    """
    found: dict[str, int] = {}
    for block in sheet.get("data", []) or []:
        left = int(block.get("startColumn", 0))
        for index, column in enumerate(block.get("columnMetadata", []) or []):
            for meta in (column or {}).get("developerMetadata", []) or []:
                if meta.get("metadataKey") == OUTPUT_MARKER and meta.get("metadataValue"):
                    found.setdefault(meta["metadataValue"], left + index + 1)
    return found


def grid_sizes(doc: Mapping[str, Any]) -> dict[str, GridSize]:
    """Each tab's sheet ID and grid size in a `spreadsheets.get` answer."""
    return dict(title_and_grid(sheet) for sheet in doc.get("sheets", []) or [])


def find_tab(tabs: Collection[str], name: str) -> str | None:
    """The real title of tab `name`: exact, else ignoring case and surrounding spaces."""
    if name in tabs:
        return name
    wanted = name.strip().casefold()
    return next((t for t in tabs if t.strip().casefold() == wanted), None)
