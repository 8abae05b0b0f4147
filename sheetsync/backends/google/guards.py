"""Re-checking guarded rows before a write: the A1 ranges to re-read, and refusing with
RowsMovedError when a guarded cell no longer holds the value the plan expects or a tab it
touches was renamed, deleted or replaced."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

from sheetsync.backends.base import (
    CellValue,
    RowGuard,
)
from sheetsync.backends.google.cells import python_value, serial_number
from sheetsync.backends.google.errors import rows_moved
from sheetsync.backends.google.tabs import (
    META_FIELDS,
    GridSize,
    TabState,
    cells_of,
    find_tab,
    title_and_grid,
)


def quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def same_value(now: CellValue, expected: CellValue) -> bool:
    if now is None or now == "":
        return expected is None or expected == ""
    if isinstance(now, bool) or isinstance(expected, bool):
        return now == expected
    if isinstance(now, int | float) and isinstance(expected, int | float):
        return math.isclose(now, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, datetime | date) and isinstance(now, int | float):
        return math.isclose(now, serial_number(expected), abs_tol=1e-9)
    return now == expected


VERIFY_FIELDS = (
    "sheets(properties(sheetId,title,gridProperties(rowCount,columnCount)),"
    "data(startRow,startColumn,rowData(values(effectiveValue))))"
)
"""The `fields` mask of the check before a write: grid sizes and the guarded cells' values."""


def guard_ranges(
    tabs: Mapping[str, TabState], guards: Sequence[RowGuard], touched: set[str], label: str
) -> tuple[list[str], list[str]]:
    """The tabs to check and the A1 ranges to re-read: each guarded column's span of rows, and
    A1 of each touched tab without guards (to learn its grid size)."""
    columns: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
    for guard in guards:
        actual = find_tab(tabs, guard.tab)
        if actual is None:
            raise rows_moved(f"tab '{guard.tab}' was not there when the sync read the sheet", label)
        columns[actual][guard.col - 1].append(guard.row)
    names = sorted(set(columns) | touched)
    ranges = []
    for name in names:
        if name in columns:
            for col, rows in sorted(columns[name].items()):
                letter = column_letter(col)
                ranges.append(f"{quoted_title(name)}!{letter}{min(rows)}:{letter}{max(rows)}")
        else:
            ranges.append(f"{quoted_title(name)}!A1")
    return names, ranges


def verify_params(ranges: list[str]) -> dict[str, Any]:
    """The `spreadsheets.get` parameters that re-read `ranges` (or only the tabs' sizes)."""
    if ranges:
        return {"ranges": ranges, "fields": VERIFY_FIELDS}
    return {"fields": META_FIELDS}


def verified_grid(
    doc: Mapping[str, Any],
    tabs: Mapping[str, TabState],
    guards: Sequence[RowGuard],
    names: list[str],
    ranges: list[str],
    creating: list[str],
    label: str,
) -> dict[str, GridSize]:
    """Every tab's grid size now, once the re-read `doc` shows nothing moved.

    Raises RowsMovedError when a checked tab was renamed, deleted or replaced, a guarded cell
    changed, or a tab about to be created already exists.
    """
    found: dict[str, GridSize] = {}
    values: dict[tuple[str, int, int], CellValue] = {}
    for sheet in doc.get("sheets", []) or []:
        title, size = title_and_grid(sheet)
        found[title] = size
        for r, c, cell in cells_of(sheet):
            values[(title, r, c)] = python_value(cell.get("effectiveValue"))
    for name in names:
        if name not in found or found[name].sheet_id != tabs[name].sheet_id:
            raise rows_moved(f"tab '{name}' was renamed, deleted or replaced while syncing", label)
    for guard in guards:
        actual = find_tab(tabs, guard.tab)
        assert actual is not None
        now = values.get((actual, guard.row - 1, guard.col - 1))
        if not same_value(now, guard.expected):
            where = f"{column_letter(guard.col - 1)}{guard.row}"
            raise rows_moved(
                f"rows on tab '{actual}' changed while sheetsync was working "
                f"({where} was {guard.expected!r} and is now {now!r})",
                label,
            )
    if not ranges:
        folded = {t.casefold() for t in found}
        for name in creating:
            if name.casefold() in folded:
                raise rows_moved(f"a tab named '{name}' was added while syncing", label)
    grid = {name: GridSize(tab.sheet_id, tab.rows, tab.cols) for name, tab in tabs.items()}
    grid.update({name: size for name, size in found.items() if name in grid})
    return grid
