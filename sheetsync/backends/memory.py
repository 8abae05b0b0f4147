"""An in-memory workbook: the pipeline's test double, with the same diff-then-write contract."""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence

from sheetsync.backends.base import (
    HEAD_ROWS,
    Grid,
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)
from sheetsync.core.errors import RowsMovedError
from sheetsync.core.model import Colour
from sheetsync.core.plan import Chart


class MemoryWorkbook(WorkbookBackend):
    def __init__(self, tabs: dict[str, Grid], label: str = "memory") -> None:
        self.tabs = copy.deepcopy(tabs)
        self.fills: dict[tuple[str, int, int], Colour] = {}
        self.charts: dict[str, list[Chart]] = {}
        self.label = label
        self.location = label
        self.writes = 0
        self.markers: dict[str, dict[str, int]] = {}
        """tab -> output -> column sheetsync marked as its own."""

    def read(self, tabs: Sequence[str], heads: Mapping[str, str] | None = None) -> Snapshot:
        snap = Snapshot({k: copy.deepcopy(v) for k, v in self.tabs.items()})
        wanted = {name for name in (snap.find_tab(t) for t in tabs) if name}
        short = {
            name
            for tab, other in (heads or {}).items()
            if (name := snap.find_tab(tab)) and snap.find_tab(other)
        }
        return Snapshot(
            {k: v[:HEAD_ROWS] if k in short else v for k, v in snap.tabs.items() if k in wanted},
            output_columns={k: dict(v) for k, v in self.markers.items() if k in wanted},
        )

    def cell(self, tab: str, row: int, col: int) -> object:
        grid = self.tabs[tab]
        if row > len(grid) or col > len(grid[row - 1]):
            return None
        return grid[row - 1][col - 1]

    def _set(self, tab: str, row: int, col: int, value: object, fill: Colour | None) -> bool:
        grid = self.tabs.setdefault(tab, [])
        while len(grid) < row:
            grid.append([])
        line = grid[row - 1]
        while len(line) < col:
            line.append(None)
        changed = line[col - 1] != value or self.fills.get((tab, row, col)) != fill
        line[col - 1] = value  # type: ignore[call-overload]
        if fill is None:
            self.fills.pop((tab, row, col), None)
        else:
            self.fills[(tab, row, col)] = fill
        return changed

    def write(self, plan: WritePlan) -> WriteResult:
        for guard in plan.all_guards():
            if self.cell(guard.tab, guard.row, guard.col) != guard.expected:
                raise RowsMovedError(
                    f"rows on tab '{guard.tab}' moved while syncing", workbook=self.label
                )
        result = WriteResult()
        marked = 0
        for column in plan.columns:
            marks = self.markers.setdefault(column.tab, {})
            marked += marks.get(column.output) != column.col
            marks[column.output] = column.col
        for c in plan.cells:
            result.cells_changed += self._set(c.tab, c.row, c.col, c.value, c.fill)
        for tab in plan.owned_tabs:
            if tab.name not in self.tabs:
                result.tabs_created.append(tab.name)
            old = self.tabs.get(tab.name, [])
            self.tabs[tab.name] = copy.deepcopy(tab.rows)
            for key in [k for k in self.fills if k[0] == tab.name]:
                del self.fills[key]
            for (row, col), colour in tab.fills.items():
                self.fills[(tab.name, row, col)] = colour
            if self.charts.get(tab.name, []) != tab.charts:
                result.charts_changed += max(len(tab.charts), len(self.charts.get(tab.name, [])))
                self.charts[tab.name] = list(tab.charts)
            result.cells_changed += sum(
                1
                for r, row in enumerate(tab.rows)
                for c, v in enumerate(row)
                if r >= len(old) or c >= len(old[r]) or old[r][c] != v
            )
        for added in plan.appends:
            for number, line in enumerate(added.rows, start=added.first_row):
                for col, value in enumerate(line, start=1):
                    fill = added.fills.get((number, col))
                    result.cells_changed += self._set(added.name, number, col, value, fill)
        result.wrote = bool(
            result.cells_changed or result.tabs_created or marked or result.charts_changed
        )
        self.writes += result.wrote
        return result
