"""Building the one `spreadsheets.batchUpdate`: cells grouped into as few `updateCells`
rectangles as their runs allow."""

from __future__ import annotations

from collections import defaultdict
from operator import attrgetter

from sheetsync.backends.google.diff import CellOp


def cell_rectangles(ops: list[CellOp]) -> list[tuple[int, int, list[list[CellOp]]]]:
    """Group cells into as few rectangles as runs allow: (top row, left col, rows of ops)."""
    by_row: dict[int, list[CellOp]] = defaultdict(list)
    for op in ops:
        by_row[op.row].append(op)
    rects: list[tuple[int, int, list[list[CellOp]]]] = []
    open_rects: dict[tuple[int, int], int] = {}
    by_col = attrgetter("col")
    for row in sorted(by_row):
        line = by_row[row]
        if len(line) > 1:
            line.sort(key=by_col)
        runs: list[list[CellOp]] = []
        run: list[CellOp] = []
        last_col = -2
        for op in line:
            col = op.col
            if run and last_col == col - 1:
                run.append(op)
            else:
                run = [op]
                runs.append(run)
            last_col = col
        for run in runs:
            key = (run[0].col, len(run))
            index = open_rects.get(key)
            if index is not None:
                top, _, body = rects[index]
                if top + len(body) == row:
                    body.append(run)
                    continue
            open_rects[key] = len(rects)
            rects.append((row, run[0].col, [run]))
    return rects
