"""The Summary tab: objectives with their scores and status counts, KPI health, problems."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date

from sheetsync.core.alignment import TREE_SCORE_COLUMNS, TreeNode, tree_rows
from sheetsync.core.model import Colour, KpiScore, ObjectiveScore, Problem, Status
from sheetsync.core.owned import OWNED_MARKER
from sheetsync.core.plan import CellValue, NumberFormats, OwnedTab
from sheetsync.core.units import DATE_FORMAT, SCORE_FORMAT

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


def summary_tab(
    name: str,
    workbook: str,
    as_of: date,
    objectives: Sequence[ObjectiveScore],
    kpis: Sequence[KpiScore],
    invalid_kpis: int,
    problems: Sequence[Problem],
    tree: Sequence[TreeNode] = (),
) -> OwnedTab:
    """The Summary tab; `tree` (when the workbook cascades) follows the objectives table."""
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
    kpi_counts = Counter(k.status for k in kpis)
    kpi_counts[Status.INVALID] += invalid_kpis
    rows += [[], ["KPI health", "KPIs"]]
    for status in KPI_STATUS_ORDER:
        rows.append([status.value, kpi_counts.get(status, 0)])
        fills[(len(rows), 1)] = status.colour
    rows += [[], ["Problems", len(problems)]]
    for problem in problems[:MAX_PROBLEMS_LISTED]:
        rows.append([problem.tab, problem.cell, problem.describe()])
    if len(problems) > MAX_PROBLEMS_LISTED:
        rows.append([f"... and {len(problems) - MAX_PROBLEMS_LISTED} more (see the Note columns)"])
    widths = {1: 40.0, 2: 12.0, 3: 16.0, 4: 12.0, len(KR_STATUS_ORDER) + 5: 50.0}
    return OwnedTab(name, rows, fills, widths, formats)
