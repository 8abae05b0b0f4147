"""The changed cells of one tab as few and lean batchUpdate requests.

Each part of a cell is sent only where it changed (`CellOp.changes`), each with its own exact
`fields` mask, so a cell whose look is already right gets its value alone:

- values: `updateCells` with `fields: userEnteredValue`, one per rectangle of changed cells.
  The rectangles are taken along rows or along columns, whichever needs fewer bytes: a Score,
  Status and Note column written top to bottom is one request, not one per row;
- fills: one `repeatCell` (`userEnteredFormat.backgroundColor`) per rectangle of cells that
  take the same colour, instead of a colour in every cell;
- number formats: one `repeatCell` (`userEnteredFormat.numberFormat`) per rectangle of cells
  that take the same format (a whole date or score column is one request).

`repeatCell` writes the one cell it is given to every cell of its range, and a part the mask
names but the cell leaves out is cleared, which is how a fill is taken away.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Set
from operator import attrgetter
from typing import Any

from sheetsync.backends.google.cells import fill_colour, number_format_of
from sheetsync.backends.google.diff import FILL, NUMBER_FORMAT, VALUE, CellOp

Block = tuple[int, int, list[list[CellOp]]]
"""A rectangle of cells: (top row, left column, its rows of ops), 0-based."""

VALUE_FIELDS = "userEnteredValue"
FILL_FIELDS = "userEnteredFormat.backgroundColor"
VALUE_AND_FILL_FIELDS = f"{VALUE_FIELDS},{FILL_FIELDS}"
NUMBER_FORMAT_FIELDS = "userEnteredFormat.numberFormat"

REQUEST_BYTES = 110
"""About what one `updateCells` costs besides its cells (its name, start, mask)."""
ROW_BYTES = 14
"""About what one row of an `updateCells` costs besides its cells (`{"values":[]},`)."""
REPEAT_BYTES = 200
"""About what one `repeatCell` of a fill costs."""
INLINE_FILL_BYTES = 70
"""About what a fill costs inside a cell's data."""

_ROW, _COL = attrgetter("row"), attrgetter("col")


def _stacks(ops: Iterable[CellOp], by_column: bool) -> list[Block]:
    """`blocks` before turning column stacks into rows: (first line, first cell along it,
    the lines' runs), the lines being rows, or columns when `by_column`."""
    major, minor = (_COL, _ROW) if by_column else (_ROW, _COL)
    lines: dict[int, list[CellOp]] = defaultdict(list)
    for op in ops:
        lines[major(op)].append(op)
    found: list[Block] = []
    open_at: dict[tuple[int, int], int] = {}
    for at in sorted(lines):
        line = lines[at]
        if len(line) > 1:
            line.sort(key=minor)
        runs: list[list[CellOp]] = []
        last = -2
        for op in line:
            where = minor(op)
            if runs and where == last + 1:
                runs[-1].append(op)
            else:
                runs.append([op])
            last = where
        for run in runs:
            key = (minor(run[0]), len(run))
            index = open_at.get(key)
            if index is not None:
                start, _, stacked = found[index]
                if start + len(stacked) == at:
                    stacked.append(run)
                    continue
            open_at[key] = len(found)
            found.append((at, minor(run[0]), [run]))
    return found


def _as_rows(stacks: list[Block], by_column: bool) -> list[Block]:
    if not by_column:
        return stacks
    return [
        (top, left, [list(row) for row in zip(*cols, strict=True)]) for left, top, cols in stacks
    ]


def blocks(ops: Iterable[CellOp], *, by_column: bool = False) -> list[Block]:
    """Cells grouped into rectangles: runs of adjacent cells along each row (or, `by_column`,
    down each column), a run joined to the one beside it when both span the same cells."""
    return _as_rows(_stacks(ops, by_column), by_column)


def _cost(stacks: list[Block], by_column: bool) -> int:
    heights = (len(lines[0]) if by_column else len(lines) for _, _, lines in stacks)
    return len(stacks) * REQUEST_BYTES + sum(heights) * ROW_BYTES


def cheapest_blocks(ops: list[CellOp]) -> list[Block]:
    """The rectangles along rows or along columns, whichever costs fewer bytes to send."""
    by_row = _stacks(ops, False)
    if len(by_row) == 1:
        return by_row
    by_column = _stacks(ops, True)
    if _cost(by_column, True) < _cost(by_row, False):
        return _as_rows(by_column, True)
    return by_row


Shape = tuple[int, int, int, int]
"""A rectangle's top row, left column, height and width."""


def _shapes(stacks: list[Block], by_column: bool) -> list[Shape]:
    if by_column:
        return [(top, left, len(cols[0]), len(cols)) for left, top, cols in stacks]
    return [(top, left, len(rows), len(rows[0])) for top, left, rows in stacks]


def grid_range(sheet_id: int, top: int, left: int, height: int, width: int) -> dict[str, int]:
    """A GridRange. A start of 0 is left out: a missing start is unbounded on that side,
    which is the same (the ends are always given: a missing end runs to the grid's end)."""
    found = {"sheetId": sheet_id, "endRowIndex": top + height, "endColumnIndex": left + width}
    if top:
        found["startRowIndex"] = top
    if left:
        found["startColumnIndex"] = left
    return found


def _start(sheet_id: int, top: int, left: int) -> dict[str, int]:
    """A GridCoordinate, a row or column index of 0 left out (its default)."""
    found = {"sheetId": sheet_id}
    if top:
        found["rowIndex"] = top
    if left:
        found["columnIndex"] = left
    return found


def _value_cell(op: CellOp, with_fill: bool) -> dict[str, Any]:
    cell: dict[str, Any] = {} if op.value is None else {"userEnteredValue": op.value}
    if with_fill and op.fill is not None:
        cell["userEnteredFormat"] = {"backgroundColor": fill_colour(op.fill)}
    return cell


def value_requests(
    ops: list[CellOp], sheet_id: int, fill_inline: Set[tuple[int, int]] = frozenset()
) -> list[dict[str, Any]]:
    """`updateCells` with the values of `ops` (an empty cell data clears a value); a rectangle
    holding a cell of `fill_inline` also carries the fills (every cell's fill as wanted)."""
    requests: list[dict[str, Any]] = []
    for top, left, rows in cheapest_blocks(ops):
        with_fill = bool(fill_inline) and any(
            (op.row, op.col) in fill_inline for row in rows for op in row
        )
        requests.append(
            {
                "updateCells": {
                    "start": _start(sheet_id, top, left),
                    "rows": [
                        {"values": [_value_cell(op, with_fill) for op in row]} for row in rows
                    ],
                    "fields": VALUE_AND_FILL_FIELDS if with_fill else VALUE_FIELDS,
                }
            }
        )
    return requests


def same_shapes(ops: list[CellOp], part: Callable[[CellOp], Hashable]) -> list[tuple[Any, Shape]]:
    """Rectangles of `ops` sharing the same `part` (a fill, a number format), along rows or
    columns, whichever makes fewer."""
    same: dict[Hashable, list[CellOp]] = defaultdict(list)
    for op in ops:
        same[part(op)].append(op)
    found: list[tuple[Any, Shape]] = []
    for wanted, group in same.items():
        by_row = _stacks(group, False)
        by_column = _stacks(group, True)
        shapes = (
            _shapes(by_column, True) if len(by_column) < len(by_row) else _shapes(by_row, False)
        )
        found += [(wanted, shape) for shape in shapes]
    return found


def repeat_cell(sheet_id: int, shape: Shape, cell: dict[str, Any], fields: str) -> dict[str, Any]:
    return {"repeatCell": {"range": grid_range(sheet_id, *shape), "cell": cell, "fields": fields}}


def _fill_cell(fill: str | None) -> dict[str, Any]:
    return {} if fill is None else {"userEnteredFormat": {"backgroundColor": fill_colour(fill)}}


def tab_requests(ops: list[CellOp], sheet_id: int) -> list[dict[str, Any]]:
    """The requests writing `ops` (the changed cells of one tab): values, fills, formats.

    Fills go as one `repeatCell` per rectangle of one colour, unless the colours change so
    often (a status colour that differs from row to row) that those requests would cost more
    than the colours themselves: then each fill rides along with its cell's value.
    """
    requests: list[dict[str, Any]] = []
    fill_inline: set[tuple[int, int]] = set()
    fills = [op for op in ops if op.changes & FILL]
    runs = same_shapes(fills, _FILL)
    if len(runs) * REPEAT_BYTES <= len(fills) * INLINE_FILL_BYTES:
        requests += [repeat_cell(sheet_id, s, _fill_cell(fill), FILL_FIELDS) for fill, s in runs]
    else:
        fill_inline = {(op.row, op.col) for op in fills}
    formats = [op for op in ops if op.changes & NUMBER_FORMAT and op.number_format is not None]
    for pattern, shape in same_shapes(formats, _NUMBER_FORMAT):
        cell = {"userEnteredFormat": {"numberFormat": number_format_of(pattern)}}
        requests.append(repeat_cell(sheet_id, shape, cell, NUMBER_FORMAT_FIELDS))
    values = [op for op in ops if op.changes & VALUE or (op.row, op.col) in fill_inline]
    own = [op for op in values if not op.keep_format]
    headers = [op for op in values if op.keep_format]  # a person's look: never restated
    found = value_requests(own, sheet_id, fill_inline) if own else []
    return found + (value_requests(headers, sheet_id) if headers else []) + requests


_FILL, _NUMBER_FORMAT = attrgetter("fill"), attrgetter("number_format")
