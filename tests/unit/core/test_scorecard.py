"""KPI scorecards: period columns, the Actual of the as-of date, per-period targets."""

from datetime import date, datetime

import pytest

from sheetsync.core.layout import LayoutProblem
from sheetsync.core.model import Status
from sheetsync.core.scorecard import AmbiguousHeader, read_header
from sheetsync.core.scoring import score_kpi
from sheetsync.core.validate import read_kpis

AS_OF = date(2026, 11, 15)
MONTHS = ["Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def kpis(*rows, head, as_of=AS_OF, year=2026):
    return read_kpis([head, *rows], "KPIs", as_of=as_of, default_year=year)


def spans(tab):
    return [(c.label, c.period.start, c.period.end) for c in tab.scorecard.columns]


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("Jan", date(2026, 1, 1), date(2026, 1, 31)),
        ("January", date(2026, 1, 1), date(2026, 1, 31)),
        ("Jan 2025", date(2025, 1, 1), date(2025, 1, 31)),
        ("2025-02", date(2025, 2, 1), date(2025, 2, 28)),
        ("Sept", date(2026, 9, 1), date(2026, 9, 30)),
        ("W45", date(2026, 11, 2), date(2026, 11, 8)),
        ("2026-W01", date(2025, 12, 29), date(2026, 1, 4)),
        ("Wk 45", date(2026, 11, 2), date(2026, 11, 8)),
        ("Q1", date(2026, 1, 1), date(2026, 3, 31)),
        ("2025-Q4", date(2025, 10, 1), date(2025, 12, 31)),
        ("Q3 2025", date(2025, 7, 1), date(2025, 9, 30)),
        (datetime(2026, 10, 31), date(2026, 10, 31), date(2026, 10, 31)),
        ("2026-10-31", date(2026, 10, 31), date(2026, 10, 31)),
        ("31/10/2026", date(2026, 10, 31), date(2026, 10, 31)),
    ],
)
def test_period_headers_of_every_spelling_become_columns(header, start, end):
    tab = kpis(["Revenue", 100, 90], head=["KPI", "Target", header])
    ((_, got_start, got_end),) = spans(tab)
    assert (got_start, got_end) == (start, end)


def test_a_google_date_header_arrives_as_a_serial_number_and_is_a_date():
    assert read_header(46326.0).day == date(2026, 10, 31)


@pytest.mark.parametrize("header", ["Owner notes", "Team", "Marchers", "2026", "Q5", "W60", 12])
def test_headers_that_are_not_periods_are_left_to_the_person(header):
    assert read_header(header) is None


def test_a_date_that_reads_both_ways_is_reported_and_left_out():
    with pytest.raises(AmbiguousHeader):
        read_header("03/04/2026")
    tab = kpis(["Revenue", 100, 5, 6], head=["KPI", "Target", "Oct", "03/04/2026"])
    (problem,) = tab.problems
    assert problem.cell == "D1" and "day first" in problem.message
    assert [c.label for c in tab.scorecard.columns] == ["Oct"]


def test_the_actual_is_the_latest_filled_period_on_or_before_the_as_of_date():
    tab = kpis(
        ["Revenue", 100, 80, 90, 95, 102, None, 200],
        head=["KPI", "Target", *MONTHS],
    )
    (kpi,) = tab.kpis
    assert kpi.actual == 102 and kpi.period == "Oct"
    assert [p.value for p in kpi.series] == [80, 90, 95, 102, None, 200]


def test_a_current_month_already_filled_counts():
    tab = kpis(["Revenue", 100, 95, 102, 104], head=["KPI", "Target", "Sep", "Oct", "Nov"])
    assert tab.kpis[0].actual == 104 and tab.kpis[0].period == "Nov"


def test_an_explicit_actual_column_wins_over_the_periods():
    tab = kpis(["Revenue", 100, 95, 102, 50], head=["KPI", "Target", "Sep", "Oct", "Actual"])
    (kpi,) = tab.kpis
    assert kpi.actual == 50 and kpi.period is None
    assert [p.value for p in kpi.series] == [95, 102]


def test_a_scorecard_with_nothing_filled_is_no_data_not_an_error():
    tab = kpis(["Revenue", 100], head=["KPI", "Target", "Oct", "Nov"])
    assert not tab.invalid
    assert score_kpi(tab.kpis[0]).status is Status.NO_DATA


def test_a_tab_without_actual_and_without_periods_still_needs_its_actual_column():
    with pytest.raises(LayoutProblem, match="Actual"):
        kpis(["Revenue", 100], head=["KPI", "Target", "Notes"])


def test_year_less_months_that_wrap_run_into_the_next_year():
    tab = kpis(
        ["Revenue", 100, 1, 2, 3, 4],
        head=["KPI", "Target", "Nov", "Dec", "Jan", "Feb"],
        as_of=date(2027, 1, 20),
        year=2027,
    )
    assert [s[1] for s in spans(tab)] == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
        date(2027, 2, 1),
    ], "the span holding the as-of date is chosen"
    assert tab.kpis[0].actual == 3
    assert not tab.problems
    (warning,) = tab.layout.warnings
    assert warning.cell == "C1" and not warning.is_error and "Year cell" in warning.expected


def test_a_year_cell_above_the_headers_says_which_year_the_months_are_in():
    grid = [
        ["Year", 2025],
        ["KPI", "Target", "Nov", "Dec"],
        ["Revenue", 100, 90, 95],
    ]
    tab = read_kpis(grid, "KPIs", as_of=AS_OF, default_year=2026)
    assert tab.layout.header_row == 2
    assert [s[1].year for s in spans(tab)] == [2025, 2025]
    assert tab.kpis[0].actual == 95 and not tab.problems and not tab.layout.warnings


def test_mixed_kinds_of_period_keep_the_most_common_and_report_the_others():
    tab = kpis(["Revenue", 100, 1, 2, 3, 6], head=["KPI", "Target", "Jan", "Feb", "Mar", "Q1"])
    assert [c.label for c in tab.scorecard.columns] == ["Jan", "Feb", "Mar"]
    (problem,) = tab.layout.warnings
    assert problem.cell == "F1" and "Q1 total" in problem.expected


def test_two_columns_for_the_same_period_are_reported():
    tab = kpis(["Revenue", 100, 1, 2], head=["KPI", "Target", "Oct", "2026-10"])
    (problem,) = tab.problems
    assert problem.cell == "D1" and "second column" in problem.message


def test_a_target_row_ramps_the_target_and_the_latest_period_is_judged_against_its_own():
    head = ["KPI", "Kind", "Direction", "Sep", "Oct", "Nov"]
    tab = kpis(
        ["Signups", None, "higher", 100, 115, None],
        [None, "Target", None, 100, 120, 140],
        head=head,
    )
    (kpi,) = tab.kpis
    assert (kpi.actual, kpi.target, kpi.period) == (115, 120, "Oct")
    assert kpi.warning == pytest.approx(108), "Warning default: 10% worse than Oct's target"
    assert [p.target for p in kpi.series] == [100, 120, 140]
    assert score_kpi(kpi).status is Status.AT_RISK
    assert tab.target_rows == [3]


def test_a_target_row_may_repeat_the_kpi_name_and_come_first():
    head = ["KPI", "Row", "Oct"]
    tab = kpis(["Churn", "Target", 0.02], ["Churn", "Actual", 0.03], head=head)
    assert tab.kpis[0].target == 0.02 and tab.kpis[0].actual == 0.03


def test_a_blank_period_target_falls_back_to_the_target_column():
    head = ["KPI", "Kind", "Target", "Oct", "Nov"]
    tab = kpis(["Signups", None, 150, 100, 110], [None, "Target", None, 120, None], head=head)
    assert tab.kpis[0].target == 150
    assert [p.target for p in tab.kpis[0].series] == [120, 150]


def test_a_target_row_without_an_actual_row_is_named_by_its_kind_cell():
    tab = kpis(["Ghost", "Target", 5], head=["KPI", "Kind", "Oct"])
    (bad,) = tab.invalid
    (problem,) = bad.problems
    assert problem.cell == "B2" and "no row with its values" in problem.message


def test_two_target_rows_make_the_kpi_invalid_naming_the_second():
    head = ["KPI", "Kind", "Oct"]
    tab = kpis(["Signups", None, 5], [None, "Target", 6], [None, "Target", 7], head=head)
    (bad,) = tab.invalid
    assert bad.row == 2
    (problem,) = bad.problems
    assert problem.cell == "B4" and "second Target row" in problem.message


def test_a_period_cell_that_is_not_a_number_is_named_by_cell():
    head = ["KPI", "Kind", "Sep", "Oct"]
    tab = kpis(["Signups", None, "lots", 5], [None, "Target", 6, "n/a"], head=head)
    (bad,) = tab.invalid
    assert [p.cell for p in bad.problems] == ["C2", "D3"]
    assert bad.problems[0].message.startswith("Sep: not a number")


def test_an_unknown_kind_is_reported():
    tab = kpis(["Signups", "Forecast", 10, 5], head=["KPI", "Kind", "Target", "Oct"])
    (problem,) = tab.invalid[0].problems
    assert problem.cell == "B2" and "Target" in problem.expected


def test_no_target_anywhere_for_the_judged_period_is_reported():
    tab = kpis(["Signups", None, 5], [None, "Target", None], head=["KPI", "Kind", "Oct"])
    (problem,) = tab.invalid[0].problems
    assert "no target for Oct" in problem.message


def test_mixed_layouts_score_single_actual_kpis_as_before():
    head = ["KPI", "Target", "Actual", "Oct", "Nov"]
    tab = kpis(["Revenue", 100, 90, None, None], ["Signups", 50, None, 40, 45], head=head)
    assert [(k.actual, k.period) for k in tab.kpis] == [(90, None), (45, "Nov")]
