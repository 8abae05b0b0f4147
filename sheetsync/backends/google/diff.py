"""Comparing a write plan with the tabs as read: the cells that still need writing (each
`CellOp` is one cell whose value, fill or number format differs), the owned tabs to create,
and the remembered tabs brought up to date once the write went through."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sheetsync.backends.base import CellWrite, OutputColumn, OwnedTab, WritePlan
from sheetsync.backends.google.cells import (
    MAX_CELL_TEXT,
    ValueKey,
    cell_format,
    desired_key,
    desired_value,
)
from sheetsync.backends.google.tabs import (
    CellState,
    GridSize,
    TabState,
    find_tab,
    plain_state,
)
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.plan import OWNED_DATA_ROW

VALUE, FILL, NUMBER_FORMAT = 1, 2, 4
"""What of a cell changes (`CellOp.changes`): only those parts are sent."""
EVERYTHING = VALUE | FILL | NUMBER_FORMAT


@dataclass(slots=True)
class CellOp:
    """One cell to write: its full value and fill, and its number format when it has one;
    `changes` says which of them differ from what was read (only those are sent)."""

    tab: str
    row: int
    col: int
    value: dict[str, Any] | None
    fill: str | None
    number_format: str | None
    key: ValueKey
    """`value_key(value)`, computed once by the diff."""
    keep_format: bool = False
    """Write the value only; the cell keeps its look (an output header)."""
    changes: int = EVERYTHING
    """`VALUE | FILL | NUMBER_FORMAT`: the parts that differ from the cell as read."""
    appended: bool = False
    """A row added below a log whose grid has rows its state does not count (a person's note
    below it, or a row inserted inside it): sent with `appendCells`, which adds it below the
    last row holding anything; `row` is then where it would go if nothing were there."""

    def cell_data(self) -> dict[str, Any]:
        if self.keep_format:
            return {"userEnteredValue": self.value} if self.value is not None else {}
        fmt = cell_format(self.fill, self.number_format)
        if self.value is not None:
            if fmt is None:
                return {"userEnteredValue": self.value}
            return {"userEnteredValue": self.value, "userEnteredFormat": fmt}
        if fmt is None:
            return {}
        return {"userEnteredFormat": fmt}


def diff_plan(
    plan: WritePlan, tabs: Mapping[str, TabState], label: str
) -> tuple[list[CellOp], list[OwnedTab]]:
    """The cells `plan` changes and the owned tabs it must create; the last write of a cell wins."""
    ops: list[CellOp] = []
    creates: list[OwnedTab] = []
    found: dict[str, str | None] = {}
    for w in plan.cells:
        if w.tab not in found:
            found[w.tab] = find_tab(tabs, w.tab)
    last = {(found[w.tab] or w.tab, w.row, w.col): w for w in plan.cells}
    for write in last.values():
        op = diff_cell(write, found[write.tab], tabs, label)
        if op is not None:
            ops.append(op)
    for owned in plan.owned_tabs:
        actual = find_tab(tabs, owned.name)
        if actual is None:
            creates.append(owned)
            ops.extend(owned_tab_ops(owned, owned.name, None))
        else:
            ops.extend(owned_tab_ops(owned, actual, tabs[actual]))
    for rows in plan.appends:  # below rows that were not read: every cell is new
        actual = find_tab(tabs, rows.name)
        if actual is None:
            raise WorkbookLayoutError(
                f"tab '{rows.name}' is not in the spreadsheet any more", workbook=label
            )
        ops.extend(appended_ops(rows, actual, tabs[actual]))
    return ops, creates


def appended_ops(rows: OwnedTab, title: str, tab: TabState) -> list[CellOp]:
    """The cells of rows to add below a log that was not read (History: its state says how
    many rows it has, `rows.first_row - 1`).

    sheetsync grows a tab's grid to exactly the rows it writes, so a grid of exactly that many
    rows has nothing below them and the rows are written at their place (a retried batch then
    rewrites the same cells). A grid of any other size means a person added rows (typed a
    note below the log, inserted a row inside it): the rows are then appended below the last
    row holding anything (`appendCells`), never over a person's cells. `appendCells` adds
    rows each time it is applied, so a retry after a lost answer first reads whether the lost
    attempt went through (`applied_witness`) and then leaves the rows out.
    """
    ops = owned_tab_ops(rows, title, None)
    if tab.rows != rows.first_row - 1:
        for op in ops:
            op.appended = True
    return ops


def applied_witness(ops: Sequence[CellOp], owned: Collection[str]) -> CellOp | None:
    """A cell whose value the batch of `ops` changes, read back after a lost answer to learn
    whether the batch was applied (Google applies one atomically: all of it or none): a cell
    of an owned tab when there is one (people do not edit those), else any, else None.
    History's appended rows always come with one, the state tab's count of History rows."""
    found = None
    for op in ops:
        if not op.appended and op.changes & VALUE:
            if op.tab in owned:
                return op
            found = found or op
    return found


def diff_cell(
    write: CellWrite, actual: str | None, tabs: Mapping[str, TabState], label: str
) -> CellOp | None:
    """The op `write` needs on tab `actual` (its real name), or None when it is there."""
    if actual is None:
        raise WorkbookLayoutError(
            f"tab '{write.tab}' is not in the spreadsheet any more", workbook=label
        )
    value = write.value
    kind = type(value)  # desired_key's common cases, inlined: this runs for every output cell
    if kind is str and len(value) <= MAX_CELL_TEXT:  # type: ignore[arg-type]
        key: ValueKey = ("s", value) if value else None
    elif kind is int or (kind is float and value - value == 0):  # type: ignore[operator]
        key = ("n", float(value))  # type: ignore[arg-type]
    else:
        key = desired_key(value)[0]  # the payload only for a cell that needs writing
    colour = write.fill
    fill = None if colour is None else colour._value_  # RRGGBB (Colour is a StrEnum)
    row, col = write.row - 1, write.col - 1
    have = tabs[actual].cell(row, col)
    if write.keep_format:
        if have.value == key:
            return None
        payload = desired_value(write.value)[0]
        return CellOp(actual, row, col, payload, have.fill, have.number_format, key, True, VALUE)
    number_format = write.number_format
    same_format = number_format is None or have.number_format == number_format
    if have.value == key and have.fill == fill and same_format:
        return None
    changes = _changes(have, key, fill, number_format)
    payload = desired_value(write.value)[0]
    return CellOp(actual, row, col, payload, fill, number_format, key, False, changes)


def _changes(have: CellState, key: ValueKey, fill: str | None, number_format: str | None) -> int:
    """The parts of a cell read as `have` that differ from the wanted ones (a number format
    of None asks for none in particular)."""
    changes = 0
    if have.value != key:
        changes = VALUE
    if have.fill != fill:
        changes |= FILL
    if number_format is not None and have.number_format != number_format:
        changes |= NUMBER_FORMAT
    return changes


PLAIN_TYPES = frozenset({str, int, float, type(None)})
"""Planned values compared with the values read as they are (`owned_tab_ops`): equal to a
plain cell's value, they have its value key."""


def owned_tab_ops(owned: OwnedTab, title: str, tab: TabState | None) -> list[CellOp]:
    """The cells of owned tab `title` that differ from `owned` (all of them when `tab` is new,
    or when `owned` holds rows to append: it then starts on sheet row `owned.first_row`).

    Runs for every row of every owned tab, and most rows are as they were: a row is first
    compared whole with the values read (one list comparison), and then only its cells that
    hold or want more than a plain value (a fill, a number format, a formula, a date ...) are
    compared one by one, by value key, fill and number format. A row whose values differ, or
    whose read cells reach past the planned ones, is compared cell by cell.
    """
    ops: list[CellOp] = []
    top = owned.first_row - 1
    append = ops.append
    widths = tab.row_widths() if tab else {}
    cells = tab.cells if tab is not None else {}
    values = tab.values if tab is not None else []
    by_row = tab.cells_by_row if tab is not None else {}
    fills: dict[tuple[int, int], str] = {
        (r - 1 - top, c - 1): colour.value for (r, c), colour in owned.fills.items()
    }
    fills_get = fills.get
    cells_get = cells.get
    formats, column_formats = owned.formats, owned.column_formats
    formatted = bool(formats or column_formats)
    special: dict[int, list[int]] = {}  # row -> columns with a planned fill or number format
    for r, c in fills:
        special.setdefault(r, []).append(c)
    for r, c in formats:
        special.setdefault(r - 1 - top, []).append(c - 1)
    dated = [c - 1 for c in column_formats]
    data_row = OWNED_DATA_ROW - 1 - top  # the first row `column_formats` apply to
    rows = owned.rows
    n_rows, n_read = len(rows), len(values)
    height = max(n_rows, max(widths, default=-1) + 1)
    empty: list[Any] = []
    dates: dict[date, tuple[ValueKey, str | None]] = {}

    def compare(r: int, c: int, value: Any, sheet_row: int) -> None:
        """Add the op cell (r, c) needs to hold `value` as planned, if it needs one."""
        kind = type(value)  # desired_key's common cases, inlined
        if value is None:
            key = fmt = None
        elif kind is str and len(value) <= MAX_CELL_TEXT:
            key, fmt = (("s", value) if value else None), None
        elif kind is int or (kind is float and value - value == 0):
            key, fmt = ("n", float(value)), None
        elif kind is date:  # a log's dates repeat from row to row
            found = dates.get(value)
            if found is None:
                found = dates[value] = desired_key(value)
            key, fmt = found
        else:
            key, fmt = desired_key(value)
        if formatted and key is not None:  # OwnedTab.number_format, inlined
            planned = formats.get((sheet_row, c + 1)) if formats else None
            if planned is None and sheet_row >= OWNED_DATA_ROW and column_formats:
                planned = column_formats.get(c + 1)
            fmt = planned or fmt
        fill = fills_get((r, c)) if fills else None
        have = cells_get((r, c))
        if have is None:
            line = values[r] if r < n_read else empty
            have = plain_state(line[c] if c < len(line) else None)
        if have.value == key and have.fill == fill:
            if fmt is None or have.number_format == fmt:
                return
            changes = NUMBER_FORMAT
        else:
            changes = _changes(have, key, fill, fmt)
        payload = desired_value(value)[0]
        append(CellOp(title, top + r, c, payload, fill, fmt, key, False, changes))

    for r in range(height):
        want = rows[r] if r < n_rows else empty
        n_want = len(want)
        sheet_row = top + r + 1
        read = values[r] if r < n_read else empty
        if widths.get(r, 0) <= n_want and len(read) >= n_want and n_want:
            check = set(by_row.get(r, ()))
            check.update(special.get(r, ()))
            if dated and r >= data_row:
                check.update(c for c in dated if c < n_want and want[c] is not None)
            if not PLAIN_TYPES.issuperset(map(type, want)):
                check.update(c for c, v in enumerate(want) if type(v) not in PLAIN_TYPES)
            masked = list(want)
            for c in check:
                if c < n_want:
                    masked[c] = read[c]
            if masked == read[:n_want]:  # every other cell is plain and holds its value
                for c in sorted(check):
                    if c < n_want:
                        compare(r, c, want[c], sheet_row)
                continue
        for c in range(max(n_want, widths.get(r, 0))):
            compare(r, c, want[c] if c < n_want else None, sheet_row)
    return ops


def columns_to_mark(
    columns: Sequence[OutputColumn], tabs: Mapping[str, TabState], label: str
) -> list[OutputColumn]:
    """The output columns that do not carry sheetsync's mark yet (with their tab's real name)."""
    todo: list[OutputColumn] = []
    for column in columns:
        actual = find_tab(tabs, column.tab)
        if actual is None:
            raise WorkbookLayoutError(
                f"tab '{column.tab}' is not in the spreadsheet any more", workbook=label
            )
        if tabs[actual].markers.get(column.output) != column.col:
            todo.append(replace(column, tab=actual))
    return todo


def record_written(
    tabs: dict[str, TabState],
    ops: list[CellOp],
    sizes: Mapping[str, GridSize],
    columns: Sequence[OutputColumn] = (),
) -> None:
    """Make the remembered tabs what they now are, so a second write diffs correctly."""
    for column in columns:
        tabs[column.tab].markers[column.output] = column.col
    for title, size in sizes.items():
        tab = tabs.get(title)
        if tab is None:
            tabs[title] = TabState(size.sheet_id, title, size.rows, size.cols)
        else:
            tab.sheet_id, tab.rows, tab.cols = size
    for op in ops:
        tab = tabs[op.tab]
        number_format = op.number_format
        if number_format is None:
            number_format = tab.cell(op.row, op.col).number_format
        tab.remember(op.row, op.col, CellState(op.key, op.fill, number_format))
