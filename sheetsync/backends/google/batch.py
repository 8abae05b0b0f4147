"""Building the one `spreadsheets.batchUpdate` body: `addSheet` for new owned tabs (with sheet
IDs chosen here), their column widths, `appendDimension` where a grid must grow, the changed
parts of the changed cells (`payload`: values in as few `updateCells` rectangles as their runs
allow, fills and number formats as one `repeatCell` per rectangle of equal ones), and the
chart requests of the owned tabs."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from sheetsync.backends.base import OUTPUT_MARKER, OutputColumn, OwnedTab
from sheetsync.backends.google.charts import TabCharts, chart_requests
from sheetsync.backends.google.diff import CellOp
from sheetsync.backends.google.errors import rows_moved
from sheetsync.backends.google.payload import blocks, tab_requests
from sheetsync.backends.google.tabs import GridSize

FORMAT_MASK = "userEnteredValue,userEnteredFormat.backgroundColor,userEnteredFormat.numberFormat"
"""The mask that puts a cell back whole: value, fill and number format."""


def pixels(width: float) -> int:
    """A width in characters (Excel's unit) as Google's column width in pixels."""
    return round(width * 7 + 5)


def new_sheet_ids(creates: list[OwnedTab], grid: Mapping[str, GridSize]) -> dict[str, int]:
    """A random unused sheet ID for each tab to create, so later requests in the batch can
    name it."""
    taken = {size.sheet_id for size in grid.values()}
    new_ids: dict[str, int] = {}
    for owned in creates:
        sheet_id = random.randint(1, 2**31 - 1)
        while sheet_id in taken:
            sheet_id = random.randint(1, 2**31 - 1)
        taken.add(sheet_id)
        new_ids[owned.name] = sheet_id
    return new_ids


APPEND_FIELDS = "userEnteredValue,userEnteredFormat.backgroundColor,userEnteredFormat.numberFormat"


def append_cells(ops: Sequence[CellOp], sheet_id: int) -> dict[str, Any]:
    """One `appendCells` adding the rows of `ops` (values, fills and number formats together)
    below the last row of the tab that holds anything, in the order of their rows."""
    by_row: dict[int, dict[int, CellOp]] = defaultdict(dict)
    for op in ops:
        by_row[op.row][op.col] = op
    rows = []
    for row in sorted(by_row):
        cells = by_row[row]
        rows.append({"values": [cells[c].cell_data() if c in cells else {}
                                for c in range(max(cells) + 1)]})  # fmt: skip
    return {"appendCells": {"sheetId": sheet_id, "rows": rows, "fields": APPEND_FIELDS}}


def build_batch(
    ops: list[CellOp],
    creates: list[OwnedTab],
    new_ids: dict[str, int],
    grid: dict[str, GridSize],
    label: str,
    columns: Sequence[OutputColumn] = (),
    options: Mapping[str, Any] | None = None,
    charts: Sequence[TabCharts] = (),
) -> tuple[dict[str, Any], dict[str, GridSize]]:
    """The batchUpdate body for `ops` and `creates` on tabs of sizes `grid`, and every tab's
    grid size once it is applied. `columns` are output columns to mark (and, when new, to
    give the look of the person's header and a width), after the cells are written; `options`
    are the body options that ask for the answer to check; `charts` the owned tabs' charts
    (added, updated or deleted last, once their tab and cells exist).

    Raises RowsMovedError when a tab to write was deleted, or a tab to create exists with
    another sheet ID (a tab the sync did not add).
    """
    sizes = dict(grid)
    requests_: list[dict[str, Any]] = []
    groups: dict[str, list[CellOp]] = defaultdict(list)
    appended: dict[str, list[CellOp]] = defaultdict(list)
    for op in ops:
        (appended if op.appended else groups)[op.tab].append(op)
    need: dict[str, tuple[int, int]] = {}
    for title, group in groups.items():
        rows, cols = need.get(title, (0, 0))
        need[title] = (
            max(rows, max(op.row for op in group) + 1),
            max(cols, max(op.col for op in group) + 1),
        )
    for title, group in appended.items():  # appendCells adds the rows it needs itself
        rows, cols = need.get(title, (0, 0))
        need[title] = (rows, max(cols, max(op.col for op in group) + 1))
    for owned in creates:
        if owned.name in sizes:
            if sizes[owned.name].sheet_id != new_ids[owned.name]:
                raise rows_moved(f"a tab named '{owned.name}' was added while syncing", label)
            continue  # an earlier attempt whose answer was lost created it
        rows, cols = need.get(owned.name, (1, 1))
        sheet_id = new_ids[owned.name]
        requests_.append(
            {
                "addSheet": {
                    "properties": {
                        "sheetId": sheet_id,
                        "title": owned.name,
                        "gridProperties": {
                            "rowCount": max(rows, 1),
                            "columnCount": max(cols, 1),
                        },
                    }
                }
            }
        )
        sizes[owned.name] = GridSize(sheet_id, max(rows, 1), max(cols, 1))
        for col, width in sorted(owned.widths.items()):
            requests_.append(
                {
                    "updateDimensionProperties": {
                        "range": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": col - 1,
                            "endIndex": col,
                        },
                        "properties": {"pixelSize": pixels(width)},
                        "fields": "pixelSize",
                    }
                }
            )
    for title, (rows, cols) in sorted(need.items()):
        if title not in sizes:
            raise rows_moved(f"tab '{title}' was deleted while syncing", label)
        size = sizes[title]
        for dimension, have, want in (("ROWS", size.rows, rows), ("COLUMNS", size.cols, cols)):
            if want > have:
                requests_.append(
                    {
                        "appendDimension": {
                            "sheetId": size.sheet_id,
                            "dimension": dimension,
                            "length": want - have,
                        }
                    }
                )
        sizes[title] = GridSize(size.sheet_id, max(size.rows, rows), max(size.cols, cols))
    for title, group in sorted(groups.items()):
        requests_ += tab_requests(group, sizes[title].sheet_id)
    for title, group in sorted(appended.items()):
        if title not in sizes:
            raise rows_moved(f"tab '{title}' was deleted while syncing", label)
        requests_.append(append_cells(group, sizes[title].sheet_id))
    for column in columns:
        if column.tab not in sizes:
            raise rows_moved(f"tab '{column.tab}' was deleted while syncing", label)
        requests_ += column_requests(column, sizes[column.tab].sheet_id)
    for title, wanted, existing in charts:
        if title not in sizes:
            raise rows_moved(f"tab '{title}' was deleted while syncing", label)
        requests_ += chart_requests(title, sizes[title].sheet_id, wanted, existing)[0]
    return {"requests": requests_, **(options or {"includeSpreadsheetInResponse": False})}, sizes


def update_cells(ops: list[CellOp], sheet_id: int, mask: str) -> list[dict[str, Any]]:
    """`updateCells` requests writing `ops` (cells of one tab) with the `fields` mask `mask`."""
    return [
        {
            "updateCells": {
                "start": {"sheetId": sheet_id, "rowIndex": top, "columnIndex": left},
                "rows": [{"values": [op.cell_data() for op in run]} for run in body],
                "fields": mask,
            }
        }
        for top, left, body in blocks(ops)
    ]


def undo_batch(
    ops: list[CellOp], sheet_id: int, marks: Sequence[int], options: Mapping[str, Any]
) -> dict[str, Any]:
    """The batchUpdate that puts back cells' values, fills and number formats as they were
    (a cell with no fill or format gets none) and removes the output column marks `marks`."""
    unmark = [
        {"deleteDeveloperMetadata": {"dataFilter": {"developerMetadataLookup": {"metadataId": i}}}}
        for i in marks
    ]
    return {"requests": update_cells(ops, sheet_id, FORMAT_MASK) + unmark, **options}


def column_requests(column: OutputColumn, sheet_id: int) -> list[dict[str, Any]]:
    """Mark an output column with developer metadata (which moves with the column); a new one
    also gets the format of the person's header cell (`copyPaste` of the format only, so
    font, fill, borders and alignment come along) and a width."""
    index = column.col - 1
    requests_: list[dict[str, Any]] = [
        {
            "createDeveloperMetadata": {
                "developerMetadata": {
                    "metadataKey": OUTPUT_MARKER,
                    "metadataValue": column.output,
                    "location": {
                        "dimensionRange": {
                            "sheetId": sheet_id,
                            "dimension": "COLUMNS",
                            "startIndex": index,
                            "endIndex": index + 1,
                        }
                    },
                    "visibility": "DOCUMENT",
                }
            }
        }
    ]
    if column.style_from is not None:
        row = column.header_row - 1

        def cell(col: int) -> dict[str, int]:
            return {
                "sheetId": sheet_id,
                "startRowIndex": row,
                "endRowIndex": row + 1,
                "startColumnIndex": col,
                "endColumnIndex": col + 1,
            }

        requests_.append(
            {
                "copyPaste": {
                    "source": cell(column.style_from - 1),
                    "destination": cell(index),
                    "pasteType": "PASTE_FORMAT",
                }
            }
        )
    if column.width is not None:
        requests_.append(
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                    "properties": {"pixelSize": pixels(column.width)},
                    "fields": "pixelSize",
                }
            }
        )
    return requests_
