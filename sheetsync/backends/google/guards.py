"""The check in the write's own response: which rows the `batchUpdate` sends back, and whether
the guarded cells hold, right after the write, what the plan expects.

The API applies a batchUpdate atomically and can answer with the spreadsheet as updated
(`includeSpreadsheetInResponse`, `responseRanges`, `responseIncludeGridData`). Asking there for
the rows of each guarded tab lets the check see exactly what the write hit: no edit can slip in
between the check and the write, because they are one request.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sheetsync.backends.base import CellValue, RowGuard
from sheetsync.backends.google.cells import is_formula, python_value, serial_number
from sheetsync.backends.google.diff import CellOp
from sheetsync.backends.google.errors import rows_moved
from sheetsync.backends.google.tabs import TabState, cells_of, find_tab, quoted_title


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


RESPONSE_FIELDS = (
    "replies.createDeveloperMetadata.developerMetadata(metadataId,location.dimensionRange),"
    "updatedSpreadsheet.sheets(properties(sheetId,title),"
    "data(startRow,startColumn,rowData(values(effectiveValue))))"
)
"""The `fields` mask of a checked batchUpdate's answer: the returned rows' values, and the ID
and place of each output column's mark it created (to remove one that landed on a moved
column)."""

Values = dict[tuple[int, int], CellValue]
"""0-based (row, column) -> a cell's effective value; empty cells are absent."""


@dataclass
class TabCheck:
    """One guarded tab: the rows its write answer returns and the cells that must hold."""

    title: str
    sheet_id: int
    rows: int
    """Rows first..rows come back in the answer (every guarded and every written row)."""
    guards: list[tuple[int, int, CellValue]] = field(default_factory=list)
    """0-based (row, column, expected value)."""
    first: int = 1
    """The first row of the answer: 1, but on a tab read only to its header (an Alerts log
    whose marks are written), its first guarded or written row."""

    @property
    def response_range(self) -> str:
        return f"{quoted_title(self.title)}!{self.first}:{self.rows}"


def tab_checks(
    tabs: Mapping[str, TabState], guards: Iterable[RowGuard], ops: Iterable[CellOp], label: str
) -> list[TabCheck]:
    """A check per guarded tab, returning every row from the top to the last guarded or
    written one (the rows above a header are returned too: they show a header that moved).

    A guarded cell that holds a formula is not compared (its result may follow the scores
    being written); the other cells of its row show whether the row moved.
    """
    checks: dict[str, TabCheck] = {}
    for guard in guards:
        actual = find_tab(tabs, guard.tab)
        if actual is None:
            raise rows_moved(f"tab '{guard.tab}' was not there when the sync read the sheet", label)
        check = checks.get(actual)
        if check is None:
            check = checks[actual] = TabCheck(actual, tabs[actual].sheet_id, 0)
        check.rows = max(check.rows, guard.row)
        if not is_formula(tabs[actual].cell(guard.row - 1, guard.col - 1).value):
            check.guards.append((guard.row - 1, guard.col - 1, guard.expected))
    for op in ops:
        check = checks.get(op.tab)
        if check is not None:
            check.rows = max(check.rows, op.row + 1)
    return [checks[name] for name in sorted(checks)]


def batch_options(checks: Sequence[TabCheck]) -> tuple[dict[str, Any], dict[str, str]]:
    """The batchUpdate body options and query parameters that make its answer carry the
    checked rows; nothing extra when there is nothing to check."""
    if not checks:
        return {"includeSpreadsheetInResponse": False}, {}
    body = {
        "includeSpreadsheetInResponse": True,
        "responseRanges": [check.response_range for check in checks],
        "responseIncludeGridData": True,
    }
    return body, {"fields": RESPONSE_FIELDS}


def answered_values(reply: Mapping[str, Any]) -> dict[int, Values]:
    """Sheet ID -> the effective values a checked batchUpdate answered with."""
    found: dict[int, Values] = defaultdict(dict)
    for sheet in (reply.get("updatedSpreadsheet") or {}).get("sheets", []) or []:
        sheet_id = int(sheet.get("properties", {}).get("sheetId", 0))
        values = found[sheet_id]
        for r, c, cell in cells_of(sheet):
            value = python_value(cell.get("effectiveValue"))
            if value is not None:
                values[(r, c)] = value
    return found


def created_marks(reply: Mapping[str, Any]) -> dict[int, list[int]]:
    """Sheet ID -> the IDs of the developer metadata the batch created there."""
    marks: dict[int, list[int]] = defaultdict(list)
    for answer in reply.get("replies", []) or []:
        meta = ((answer or {}).get("createDeveloperMetadata") or {}).get("developerMetadata")
        if meta and "metadataId" in meta:
            where = (meta.get("location") or {}).get("dimensionRange") or {}
            marks[int(where.get("sheetId", 0))].append(int(meta["metadataId"]))
    return marks


def written_values(ops: Iterable[CellOp]) -> dict[str, Values]:
    """Tab -> the value each written cell holds after the write (None for a cleared cell)."""
    written: dict[str, Values] = defaultdict(dict)
    for op in ops:
        written[op.tab][(op.row, op.col)] = python_value(op.value)
    return written


def first_mismatch(check: TabCheck, after: Values, written: Values) -> str | None:
    """Where the answer shows a guarded cell that does not hold what the plan expects (a cell
    the batch wrote must hold what it wrote), or None when every guard holds."""
    for row, col, expected in check.guards:
        want = written.get((row, col), expected)
        now = after.get((row, col))
        if not same_value(now, want):
            return f"{column_letter(col)}{row + 1} was {want!r} and is now {now!r}"
    return None
