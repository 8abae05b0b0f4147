"""The write plan of one workbook: Score/Status/Note/Trend on each item row, the output
columns to mark, the guards that catch moved rows, and the owned tabs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from sheetsync import config as cfg
from sheetsync.backends.base import (
    CellValue,
    CellWrite,
    Grid,
    GuardedRows,
    OutputColumn,
    Snapshot,
    WritePlan,
)
from sheetsync.core.layout import (
    OUTPUT_COLUMNS,
    OUTPUT_WIDTHS,
    TabLayout,
)
from sheetsync.core.model import (
    KeyResultScore,
    Kpi,
    Status,
)
from sheetsync.core.override import is_overridden
from sheetsync.core.owned import check_owned
from sheetsync.core.scoring import (
    kpi_attainment,
)
from sheetsync.core.summary import summary_tab
from sheetsync.core.teams import by_owner, by_team, items_of
from sheetsync.core.trend import kpi_trend_values, trend_cell
from sheetsync.core.units import ATTAINMENT_FORMAT, ATTAINMENT_WIDTH, SCORE_FORMAT

if TYPE_CHECKING:
    from sheetsync.sync import Scored  # sync imports this module

Outputs = tuple[float | None, Status, str, str | None]
"""What sheetsync writes on one item row: score, status, note and trend."""


def _row_guards(layout: TabLayout, grid: Grid) -> GuardedRows:
    """Every cell the outputs were computed from, as read: the header row up to the last
    output column, and every other column of every row below it.

    A backend refuses (or undoes) a write when one of them moved, so no score is left beside
    another row than the one it was computed from, and no output lands on a person's column.
    """
    return GuardedRows(
        layout.tab,
        grid,
        layout.header_row,
        frozenset(layout.outputs.values()),
        frozenset(layout.outputs[h] for h in layout.new_outputs),
    )


def _output_cells(
    layout: TabLayout,
    grid: Grid,
    rows: dict[int, Outputs],
    score_format: str = SCORE_FORMAT,
) -> tuple[list[CellWrite], GuardedRows]:
    """Score/Status/Note/Trend cells for every item row; stale outputs on other rows are cleared."""
    tab = layout.tab
    cells = [
        CellWrite(
            tab, layout.header_row, layout.outputs[h], layout.output_headers[h], keep_format=True
        )
        for h in layout.new_outputs
    ]
    guards = _row_guards(layout, grid)
    out_cols = [layout.outputs[h] for h in OUTPUT_COLUMNS]
    score_col, status_col, note_col, trend_col = out_cols
    for row, (score, status, note, trend) in rows.items():
        colour, shown = _LOOKS[status]
        cells.append(CellWrite(tab, row, score_col, score, colour, score_format))
        cells.append(CellWrite(tab, row, status_col, shown, colour))
        cells.append(CellWrite(tab, row, note_col, note or None))
        cells.append(CellWrite(tab, row, trend_col, trend))
    for row in range(layout.header_row + 1, len(grid) + 1):
        if row in rows:
            continue
        for col in out_cols:
            if _value(grid, row, col) not in (None, ""):
                cells.append(CellWrite(tab, row, col, None))
    return cells, guards


_LOOKS = {status: (status.colour, status.value) for status in Status}
"""Each status's fill and text (enum properties are Python calls: this is one per item row)."""


def _columns_to_mark(layout: TabLayout, *, attainment: bool = False) -> list[OutputColumn]:
    """Mark the output columns that carry no marker yet; a new one also gets the look of the
    person's last header cell and a width that fits what it holds and its header (a KPI's
    Score shows `94% of target`)."""
    holds = OUTPUT_WIDTHS | ({"Score": ATTAINMENT_WIDTH} if attainment else {})
    return [
        OutputColumn(
            layout.tab,
            out,
            layout.outputs[out],
            layout.header_row,
            layout.style_from if out in layout.new_outputs else None,
            max(holds[out], len(layout.output_headers[out]) + 2.0)
            if out in layout.new_outputs
            else None,
        )
        for out in layout.unmarked
    ]


def _value(grid: Grid, row: int, col: int) -> CellValue:
    if row > len(grid) or col > len(grid[row - 1]):
        return None
    return grid[row - 1][col - 1]


class Trends:
    """The Trend cell of each item: from a scorecard's periods, else from past runs (the last
    numbers History's state keeps, see `alerts.state`)."""

    def __init__(self, scored: Scored, as_of: date) -> None:
        self.as_of = as_of
        self.views = scored.past

    def recent(self, kind: str, key: str) -> tuple[float, ...]:
        """The item's last numbers before this run (`alerts.state`), oldest first."""
        view = self.views.get((kind, key))
        return view.earlier.recent if view is not None else ()

    def key_result(self, scored: KeyResultScore) -> str | None:
        """A key result's score over the last runs and this one."""
        if scored.score is None:
            return None
        past = self.recent("kr", scored.key_result.key)
        return trend_cell([*past, scored.score]) if past else None  # one value: no trend

    def kpi(self, kpi: Kpi) -> str | None:
        """A scorecard KPI's periods; another KPI's Actual over the last runs and this one."""
        if any(p.value is not None for p in kpi.series):
            return trend_cell(kpi_trend_values(kpi, self.as_of), kpi.higher_is_better)
        if kpi.actual is None:
            return None
        past = self.recent("kpi", kpi.key)
        return trend_cell([*past, kpi.actual], kpi.higher_is_better)


def plan_writes(
    snapshot: Snapshot,
    scored: Scored,
    tabs: cfg.Tabs,
    workbook: str,
    as_of: date,
) -> WritePlan:
    """The desired content of every cell and tab sheetsync owns in this workbook."""
    plan = WritePlan()
    trends = Trends(scored, as_of)
    rows: dict[int, Outputs]
    if scored.okrs:
        layout = scored.okrs.layout
        rows = {
            s.key_result.row: (s.score, s.status, s.note, trends.key_result(s))
            for s in scored.key_results
        }
        rows |= {b.row: (None, Status.INVALID, b.note, None) for b in scored.okrs.invalid}
        cells, guards = _output_cells(layout, snapshot.tabs[layout.tab], rows)
        plan.cells += cells
        plan.guarded.append(guards)
        plan.columns += _columns_to_mark(layout)
    if scored.kpis:
        layout = scored.kpis.layout
        rows = {
            k.kpi.row: (kpi_attainment(k.kpi), k.status, k.note, trends.kpi(k.kpi))
            for k in scored.kpi_scores
        }
        rows |= {b.row: (None, Status.INVALID, b.note, None) for b in scored.kpis.invalid}
        cells, guards = _output_cells(layout, snapshot.tabs[layout.tab], rows, ATTAINMENT_FORMAT)
        plan.cells += cells
        plan.guarded.append(guards)
        plan.columns += _columns_to_mark(layout, attainment=True)
    if tabs.summary:
        existing = snapshot.find_tab(tabs.summary)
        check_owned(snapshot.tabs.get(existing) if existing else None, tabs.summary, workbook)
        invalid_kpis = len(scored.kpis.invalid) if scored.kpis else 0
        items = items_of(scored.key_results, scored.okrs.invalid if scored.okrs else ())
        plan.owned_tabs.append(
            summary_tab(
                existing or tabs.summary,
                workbook,
                as_of,
                scored.objectives,
                scored.kpi_scores,
                invalid_kpis,
                scored.problems,
                tree=scored.alignment.nodes if scored.alignment.used else (),
                overridden=sum(
                    is_overridden(s, as_of)
                    for s in scored.key_results
                    if s.key_result.override is not None  # none other is
                ),
                teams=by_team(items),
                owners=by_owner(items),
            )
        )
    return plan
