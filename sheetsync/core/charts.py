"""The native charts on the Summary tab, described as plain data for the backends to draw.

Two kinds, both drawing from cells of the Summary tab itself (so the numbers behind a chart
are always there to read):

* a horizontal bar chart of the objectives' scores, each bar in its status colour;
* one line chart per scorecard KPI, its values against its target per period. One chart per
  KPI rather than one chart of every KPI: KPIs have different units and scales (a churn rate
  of 2% beside revenue of $50,000 would be a flat line), and a ramped target reads best next
  to its own KPI. They are laid out as small multiples, two per row, beside the tables.

Pure: standard library and `sheetsync.core` only.
"""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.core.model import Colour, Status
from sheetsync.core.plan import CellRange, Chart, ChartSeries

CHART_COLOURS = {
    Colour.GREEN: "63BE7B",
    Colour.AMBER: "FFC000",
    Colour.RED: "F8696B",
    Colour.GREY: "A6A6A6",
}
"""Bar colours per status colour: the fills' hues, strong enough to read as bars."""
ACTUAL_COLOUR = "4472C4"
TARGET_COLOUR = "7F7F7F"
MAX_KPI_CHARTS = 12
"""KPI charts drawn, in tab order (every KPI's numbers are still listed on the tab)."""
CHART_WIDTH = 8
"""Columns a chart spans."""
KPI_CHART_HEIGHT = 15
"""Rows a KPI chart spans."""


def objectives_chart(first_row: int, statuses: Sequence[Status], col: int) -> Chart:
    """Bars of the objectives' scores: names in column A, scores in column B from `first_row`."""
    last_row = first_row + len(statuses) - 1
    return Chart(
        key="objectives",
        kind="bar",
        title="Objective scores",
        categories=CellRange(first_row, 1, last_row, 1),
        series=(
            ChartSeries(
                "Score",
                CellRange(first_row, 2, last_row, 2),
                CHART_COLOURS[Colour.GREEN],
                tuple(CHART_COLOURS[s.colour] for s in statuses),
            ),
        ),
        row=first_row - 1,
        col=col,
        width=CHART_WIDTH * 2,
        height=max(12, min(40, len(statuses) + 6)),
    )


def kpi_chart(
    name: str,
    header_row: int,
    actual_row: int,
    first_col: int,
    last_col: int,
    *,
    number: int,
    top: int,
    col: int,
) -> Chart:
    """The KPI's Actual row against its Target row (the row below), periods as categories.

    `number` is the KPI chart's position (0-based): charts go two per row from `top`.
    """
    return Chart(
        key=f"kpi:{name}",
        kind="line",
        title=name,
        categories=CellRange(header_row, first_col, header_row, last_col),
        series=(
            ChartSeries("Actual", CellRange(actual_row, first_col, actual_row, last_col),
                        ACTUAL_COLOUR),
            ChartSeries("Target", CellRange(actual_row + 1, first_col, actual_row + 1, last_col),
                        TARGET_COLOUR, dashed=True),
        ),
        row=top + (number // 2) * (KPI_CHART_HEIGHT + 1),
        col=col + (number % 2) * CHART_WIDTH,
        width=CHART_WIDTH,
        height=KPI_CHART_HEIGHT,
    )  # fmt: skip
