"""Trends: arrows judged by the KPI's direction, sparklines, and the change since last period."""

from datetime import date

import pytest

from sheetsync.core.model import Kpi
from sheetsync.core.scoring import score_kpi
from sheetsync.core.trend import (
    format_change,
    kpi_trend_values,
    sparkline,
    trend_cell,
)
from sheetsync.core.units import GENERAL, NumberStyle, style_from_format, with_unit
from sheetsync.core.validate import read_kpis

AS_OF = date(2026, 11, 15)


def test_a_sparkline_spans_lowest_to_highest_block():
    assert sparkline([1, 2, 3, 4, 5, 6, 7, 8]) == "▁▂▃▄▅▆▇█"
    assert sparkline([10, 20]) == "▁█"


def test_a_sparkline_shows_only_the_last_eight_values():
    assert len(sparkline(range(20))) == 8


def test_a_flat_series_is_drawn_at_mid_height_not_as_zero():
    assert sparkline([5, 5, 5]) == "▄▄▄"


def test_a_rising_kpi_where_higher_is_better_points_up():
    assert trend_cell([1, 2, 3]) == "↑ ▁▅█"


def test_a_falling_churn_rate_is_shown_as_better():
    assert trend_cell([0.031, 0.028, 0.024], higher_is_better=False).startswith("↑")
    assert trend_cell([0.024, 0.028], higher_is_better=False).startswith("↓")


def test_an_unchanged_value_is_flat_and_one_value_is_no_trend():
    assert trend_cell([3, 3]).startswith("→")
    assert trend_cell([3]) is None


@pytest.mark.parametrize(
    ("delta", "style", "shown"),
    [
        (0.012, style_from_format("0.0%"), "+1.2 pp"),
        (-0.002, style_from_format("0%"), "−0.2 pp"),
        (-3000, with_unit(GENERAL, "$"), "−$3,000"),
        (1.5, with_unit(GENERAL, "h"), "+1.5 h"),
        (1.5, with_unit(GENERAL, "%"), "+1.5 pp"),
        (0, GENERAL, "±0"),
    ],
)
def test_a_change_is_shown_in_the_kpis_own_units(delta, style, shown):
    assert format_change(delta, style) == shown


def scorecard(*rows, head):
    return read_kpis([head, *rows], "KPIs", as_of=AS_OF, default_year=2026)


def test_the_note_says_the_change_since_the_previous_filled_period():
    tab = scorecard(
        ["Churn", "lower", "2%", "2.6%", None, "2.4%"],
        head=["KPI", "Direction", "Target", "Sep", "Oct", "Nov"],
    )
    (kpi,) = tab.kpis
    assert score_kpi(kpi, AS_OF).note.endswith("−0.2 pp vs Sep")


def test_an_explicit_actual_is_compared_with_the_last_period_that_ended():
    tab = scorecard(
        ["Revenue", "$", 50000, 45000, 48000, None, 51000],
        head=["KPI", "Unit", "Target", "Sep", "Oct", "Nov", "Actual"],
    )
    (kpi,) = tab.kpis
    assert kpi_trend_values(kpi, AS_OF) == [45000, 48000, 51000]
    assert score_kpi(kpi, AS_OF).note == "+$3,000 vs Oct"


def test_a_kpi_without_periods_or_history_has_no_change_note():
    kpi = Kpi(row=2, name="x", target=10, warning=9, actual=12, style=NumberStyle())
    assert score_kpi(kpi, AS_OF).note == ""


def test_a_kpi_without_periods_is_compared_with_the_last_different_value_history_recorded():
    kpi = Kpi(row=2, name="Revenue", target=50000, warning=45000, actual=57000,
              style=with_unit(GENERAL, "$"))  # fmt: skip
    nov8, nov14 = date(2026, 11, 8), date(2026, 11, 14)
    assert score_kpi(kpi, AS_OF, [(nov8, 60000)]).note == "−$3,000 since 8 Nov"
    assert score_kpi(kpi, AS_OF, [(nov8, 60000), (nov14, 57000)]).note == ("−$3,000 since 8 Nov"), (
        "unchanged since 14 Nov: still measured from the value before"
    )
    assert score_kpi(kpi, AS_OF, [(nov14, 57000)]).note == "", "never moved: nothing to say"
