"""Trends: which way an item is going, as text that reads the same in every place it appears.

The Trend column holds an arrow judged by the item's direction (for a lower-is-better KPI a
falling value is `↑`, better) and a sparkline of its last values made of block characters
(`▁▂▄▅▇`), which Excel, Google Sheets, an email and a terminal all show without a chart. A
KPI's Note says how much it moved since the previous period, in the KPI's own units
(`+1.2 pp vs Oct`, `−$3,000 vs Oct`); a KPI without periods, since the last different value
History recorded (`+1.2 pp since 22 Nov`). Pure: standard library and `sheetsync.core` only.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from sheetsync.core.model import Kpi, SeriesPoint
from sheetsync.core.units import NumberStyle, format_number

BETTER, WORSE, FLAT = "↑", "↓", "→"
BARS = "▁▂▃▄▅▆▇█"
SPARK_POINTS = 8
"""A sparkline shows this many latest values."""
MINUS = "−"
"""U+2212: the minus sign typography uses, so `−3` is never read as a formula or a hyphen."""


def sparkline(values: Sequence[float]) -> str:
    """The last `SPARK_POINTS` values as block characters, lowest `▁` to highest `█`.

    A flat series is drawn at mid height, so it reads as flat rather than as zero.
    """
    shown = list(values)[-SPARK_POINTS:]
    if not shown:
        return ""
    low, high = min(shown), max(shown)
    if math.isclose(low, high, rel_tol=1e-12, abs_tol=1e-12):
        return BARS[3] * len(shown)
    top = len(BARS) - 1
    return "".join(BARS[round((v - low) / (high - low) * top)] for v in shown)


def direction(values: Sequence[float], higher_is_better: bool = True) -> str:
    """`↑` when the latest value is better than the one before, `↓` worse, `→` unchanged."""
    previous, latest = values[-2], values[-1]
    if math.isclose(previous, latest, rel_tol=1e-9, abs_tol=1e-12):
        return FLAT
    return BETTER if (latest > previous) == higher_is_better else WORSE


def trend_cell(values: Sequence[float], higher_is_better: bool = True) -> str | None:
    """The Trend cell: arrow and sparkline (`↑ ▁▂▄▅▇`); None with fewer than two values."""
    if len(values) < 2:
        return None
    return f"{direction(values, higher_is_better)} {sparkline(values)}"


def kpi_trend_values(kpi: Kpi, as_of: date) -> list[float]:
    """A scorecard KPI's values over time, up to the one it is judged on.

    The filled periods that have started by `as_of`; when the Actual comes from an Actual
    column instead, the periods that ended before `as_of`, then that Actual.
    """
    if kpi.period is not None or kpi.actual is None:
        return [p.value for p in kpi.series if p.value is not None and p.period.start <= as_of]
    ended = [p.value for p in kpi.series if p.value is not None and p.period.end < as_of]
    return [*ended, kpi.actual] if kpi.series else []


def previous_point(kpi: Kpi, as_of: date) -> SeriesPoint | None:
    """The filled period a scorecard KPI's Actual is compared with: the one before it."""
    if kpi.actual is None:
        return None
    if kpi.period is not None:
        index = next(i for i, p in enumerate(kpi.series) if p.label == kpi.period)
        earlier = kpi.series[:index]
    else:
        earlier = tuple(p for p in kpi.series if p.period.end < as_of)
    return next((p for p in reversed(earlier) if p.value is not None), None)


def format_change(delta: float, style: NumberStyle) -> str:
    """A change in the item's units with its sign: `+1.2 pp`, `−$3,000`, `+4 h`, `±0`.

    Percentages change by percentage points (`pp`), so `11.5%` after `10.3%` is `+1.2 pp`.
    """
    sign = "+" if delta > 0 else MINUS if delta < 0 else "±"
    if style.percent or style.suffix.strip() == "%":
        shown = format_number(abs(delta), replace(style, suffix="", code=None)).rstrip("%")
        return f"{sign}{shown} pp"
    return f"{sign}{format_number(abs(delta), style)}"


def change_note(kpi: Kpi, as_of: date, recorded: Sequence[tuple[date, float]] = ()) -> str:
    """How far the Actual moved: `+1.2 pp vs Oct` since the previous filled period; for a KPI
    without filled periods, `+1.2 pp since 22 Nov` since the latest of the values History
    `recorded` (date, value; oldest first) that differs from it. Empty when nothing moved.
    """
    if kpi.actual is None:
        return ""
    if any(p.value is not None for p in kpi.series):
        before = previous_point(kpi, as_of)
        if before is None or before.value is None:
            return ""
        return f"{format_change(kpi.actual - before.value, kpi.style)} vs {before.label}"
    actual = kpi.actual
    moved = [(day, v) for day, v in recorded if not math.isclose(v, actual, rel_tol=1e-9)]
    if not moved:
        return ""
    day, value = moved[-1]
    return f"{format_change(actual - value, kpi.style)} since {day.day} {day:%b}"
