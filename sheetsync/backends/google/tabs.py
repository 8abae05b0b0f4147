"""What the backend remembers of each tab between `read` and `write` (sheet ID, grid size,
each cell's value key, fill and number format), read from a `spreadsheets.get` answer."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sheetsync.backends.google.cells import ValueKey


class CellState(NamedTuple):
    value: ValueKey
    fill: str | None
    number_format: str | None


EMPTY_CELL = CellState(None, None, None)


@dataclass
class TabState:
    sheet_id: int
    title: str
    rows: int
    cols: int
    cells: dict[tuple[int, int], CellState] = field(default_factory=dict)

    def cell(self, row: int, col: int) -> CellState:
        return self.cells.get((row, col), EMPTY_CELL)

    def row_widths(self) -> dict[int, int]:
        """Row -> columns up to its last cell holding anything (value or format)."""
        widths: dict[int, int] = {}
        for r, c in self.cells:
            widths[r] = max(widths.get(r, 0), c + 1)
        return widths


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
