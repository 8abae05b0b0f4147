"""The Summary tab: objectives with their scores and status counts, KPI health, problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sheetsync.core.alignment import TREE_SCORE_COLUMNS, TreeNode, tree_rows
from sheetsync.core.charts import MAX_KPI_CHARTS, kpi_chart, objectives_chart
from sheetsync.core.model import Colour, KpiScore, ObjectiveScore, Problem, Status
from sheetsync.core.owned import OWNED_MARKER
from sheetsync.core.plan import CellValue, Chart, NumberFormats, OwnedTab
from sheetsync.core.teams import Group, group_rows
from sheetsync.core.units import DATE_FORMAT, SCORE_FORMAT, number_format_code

KR_STATUS_ORDER = (
    Status.DONE,
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.ACHIEVED,
    Status.PARTIAL,
    Status.MISSED,
    Status.NO_DATA,
    Status.INVALID,
)
KPI_STATUS_ORDER = (
    Status.ON_TRACK,
    Status.AT_RISK,
    Status.OFF_TRACK,
    Status.NO_DATA,
    Status.INVALID,
)
MAX_PROBLEMS_LISTED = 500
OBJECTIVES_HEADER_ROW = 4


def summary_tab(
    name: str,
    workbook: str,
    as_of: date,
    objectives: Sequence[ObjectiveScore],
    kpis: Sequence[KpiScore],
    invalid_kpis: int,
    problems: Sequence[Problem],
    tree: Sequence[TreeNode] = (),
    overridden: int = 0,
    teams: Sequence[Group] = (),
    owners: Sequence[Group] = (),
) -> OwnedTab:
    """The Summary tab; `tree` (when the workbook cascades) follows the objectives table.

    `overridden`: key results whose owner's `Status override` replaces the computed status;
    counted at the end when there are any. `teams` and `owners` (see `core.teams`) each get a
    section after the objectives when there are any.
    """
    rows: list[list[CellValue]] = [
        [f"{OWNED_MARKER}: summary of this workbook. Edits here are overwritten on the next run."],
        ["As of", as_of, "Workbook", workbook],
        [],
        [
            "Objective",
            "Score",
            "Status",
            "Key results",
            *[s.value for s in KR_STATUS_ORDER],
            "Note",
        ],
    ]
    fills: dict[tuple[int, int], Colour] = {}
    formats: NumberFormats = {(2, 2): DATE_FORMAT}
    charts: list[Chart] = []
    chart_col = len(rows[-1]) + 2
    if any(obj.score is not None for obj in objectives):
        statuses = [obj.status for obj in objectives]
        charts.append(objectives_chart(OBJECTIVES_HEADER_ROW + 1, statuses, chart_col))
    for obj in objectives:
        counts = [obj.counts.get(s, 0) for s in KR_STATUS_ORDER]
        rows.append([obj.name, obj.score, obj.status.value, sum(counts), *counts, obj.note])
        fills[(len(rows), 2)] = fills[(len(rows), 3)] = obj.status.colour
        formats[(len(rows), 2)] = SCORE_FORMAT
    if tree:
        section, section_fills = tree_rows(tree)
        rows.append([])
        offset = len(rows)
        rows += section
        fills |= {(offset + r, c): colour for (r, c), colour in section_fills.items()}
        for r in range(offset + 3, len(rows) + 1):  # below the section's heading and header
            formats |= {(r, c): SCORE_FORMAT for c in TREE_SCORE_COLUMNS}
    for title, heading, groups in (("By team", "Team", teams), ("By owner", "Owner", owners)):
        if groups:
            section, section_fills = group_rows(title, heading, groups, KR_STATUS_ORDER)
            rows.append([])
            offset = len(rows)
            rows += section
            fills |= {(offset + r, c): colour for (r, c), colour in section_fills.items()}
    kpi_counts = Counter(k.status for k in kpis)
    kpi_counts[Status.INVALID] += invalid_kpis
    rows += [[], ["KPI health", "KPIs"]]
    for status in KPI_STATUS_ORDER:
        rows.append([status.value, kpi_counts.get(status, 0)])
        fills[(len(rows), 1)] = status.colour
    scorecards = [k.kpi for k in kpis if any(p.value is not None for p in k.kpi.series)]
    if scorecards:
        labels = [p.label for p in scorecards[0].series]
        rows += [[], ["KPI trends", "Row", *labels]]
        header_row = len(rows)
        top = max([c.row + c.height + 1 for c in charts], default=OBJECTIVES_HEADER_ROW)
        for kpi in scorecards:
            rows.append([kpi.name, "Actual", *[p.value for p in kpi.series]])
            rows.append([None, "Target", *[p.target for p in kpi.series]])
            code = number_format_code(kpi.style)
            if code != "General":
                for r in (len(rows) - 1, len(rows)):
                    formats |= {(r, 3 + i): code for i in range(len(labels))}
            number = sum(c.kind == "line" for c in charts)
            if number < MAX_KPI_CHARTS:
                charts.append(
                    kpi_chart(
                        kpi.name,
                        header_row,
                        len(rows) - 1,
                        3,
                        2 + len(labels),
                        number=number,
                        top=top,
                        col=chart_col,
                    )
                )
    rows += [[], ["Problems", len(problems)]]
    for problem in problems[:MAX_PROBLEMS_LISTED]:
        rows.append([problem.tab, problem.cell, problem.describe()])
    if len(problems) > MAX_PROBLEMS_LISTED:
        rows.append([f"... and {len(problems) - MAX_PROBLEMS_LISTED} more (see the Note columns)"])
    if overridden:
        rows += [[], ["Statuses overridden by owners", overridden, "(see the Note column)"]]
    widths = {1: 40.0, 2: 12.0, 3: 16.0, 4: 12.0, len(KR_STATUS_ORDER) + 5: 50.0}
    return OwnedTab(name, rows, fills, widths, formats, charts=charts)
