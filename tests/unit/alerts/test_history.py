"""The History tab: one row per item per run, re-runs replace their date, odd cells still read."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta

import pytest

from sheetsync.alerts.cells import cell_date
from sheetsync.alerts.history import (
    HISTORY_HEADER,
    last_two_values,
    parse_history,
    updated_history,
)
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import Colour, ItemState, Status
from sheetsync.core.owned import OWNED_MARKER

JAN5, JAN6, JAN7 = date(2026, 1, 5), date(2026, 1, 6), date(2026, 1, 7)


def revenue(status: Status = Status.ON_TRACK, value: float | None = 45_000.0) -> ItemState:
    return ItemState(
        kind="kpi",
        key="Monthly revenue",
        name="Monthly revenue",
        status=status,
        owner="Ana",
        value=value,
        target=50_000.0,
        score=0.9,
    )


def leads() -> ItemState:
    return ItemState(
        kind="kr",
        key="KR1",
        name="100 new qualified leads a month",
        status=Status.AT_RISK,
        objective="Grow sales revenue 50%",
        value=70.0,
        target=100.0,
        score=0.7,
    )


def dates(tab) -> list[object]:
    return [iso(row[0]) for row in tab.rows[2:]]


def iso(cell) -> str:
    day = cell_date(cell)
    assert day is not None, cell
    return day.isoformat()


def test_first_run_creates_an_owned_history_tab_with_one_row_per_item():
    tab = updated_history(None, [revenue(), leads()], JAN5, "Sales")
    assert tab.name == "History"
    assert tab.rows[0][0].startswith(OWNED_MARKER)
    assert tab.rows[1] == list(HISTORY_HEADER)
    assert tab.rows[2] == [
        JAN5,
        "Sales",
        "KPI",
        "Monthly revenue",
        "Monthly revenue",
        None,
        "Ana",
        45_000.0,
        50_000.0,
        0.9,
        "On track",
        None,  # Confidence: the owner gives none
        None,  # Updated
    ]
    assert tab.rows[3][2:6] == [
        "KR",
        "KR1",
        "100 new qualified leads a month",
        "Grow sales revenue 50%",
    ]
    assert tab.fills[(3, 11)] is Colour.GREEN
    assert tab.fills[(4, 11)] is Colour.AMBER


def test_history_shows_real_dates_scores_with_two_decimals_and_kpi_attainment_labelled():
    tab = updated_history(None, [revenue(), leads()], JAN5, "Sales")
    assert tab.number_format(3, 1) == "yyyy-mm-dd"
    assert tab.number_format(4, 10) == "0.00", "a key result's score"
    assert tab.number_format(3, 10) == '0%" of target"', "a KPI's score is its attainment"


def test_next_run_appends_and_keeps_earlier_rows_untouched():
    first = updated_history(None, [revenue()], JAN5, "Sales")
    second = updated_history(first.rows, [revenue(Status.OFF_TRACK, 38_000)], JAN6, "Sales")
    assert second.rows[:3] == first.rows[:3]
    assert dates(second) == ["2026-01-05", "2026-01-06"]


def test_a_back_filled_date_goes_before_later_dates():
    grid = updated_history(None, [revenue()], JAN5, "Sales").rows
    grid = updated_history(grid, [revenue()], JAN7, "Sales").rows
    grid = updated_history(grid, [revenue(), leads()], JAN6, "Sales").rows
    assert [iso(row[0]) for row in grid[2:]] == [
        "2026-01-05",
        "2026-01-06",
        "2026-01-06",
        "2026-01-07",
    ]


def test_dates_read_back_as_datetimes_or_serials_still_count_as_that_date():
    # Excel returns the ISO text we wrote as a date if a person retyped it; Google returns
    # a serial number when the cell was formatted as a date. (Which runs get a row at all is
    # decided by `plan_workbook_alerts`, see test_state.py; here a back-filled row must go
    # before both.)
    grid = updated_history(None, [revenue()], JAN5, "Sales").rows
    grid.append([datetime(2026, 1, 7, 0, 0), "Sales", "KPI", "Monthly revenue"])
    grid.append([46029, "Sales", "KPI", "Monthly revenue"])  # 2026-01-07 as a serial
    tab = updated_history(grid, [revenue()], JAN6, "Sales")
    assert dates(tab) == ["2026-01-05", "2026-01-06", "2026-01-07", "2026-01-07"]


def test_a_persons_tab_called_history_is_never_overwritten():
    with pytest.raises(WorkbookLayoutError, match="History"):
        updated_history([["My notes"]], [revenue()], JAN5, "Sales")


def test_parse_reads_what_updated_history_wrote():
    grid = updated_history(None, [revenue(), leads()], JAN5, "Sales").rows
    first, second = parse_history(grid)
    assert (first.as_of, first.kind, first.key, first.status) == (
        JAN5,
        "kpi",
        "Monthly revenue",
        Status.ON_TRACK,
    )
    assert (first.value, first.target, first.score, first.owner) == (45_000, 50_000, 0.9, "Ana")
    assert (second.kind, second.objective, second.row) == ("kr", "Grow sales revenue 50%", 4)


def test_parse_tolerates_odd_cells():
    grid = [
        [f"{OWNED_MARKER}: History"],
        list(HISTORY_HEADER),
        [date(2026, 1, 1), "Sales", "KPI", "A", "A", None, None, 1, 2, 0.5, "on track"],
        [
            datetime(2026, 1, 2, 9, 30),
            "Sales",
            "kpi",
            "B",
            None,
            "",
            "",
            "1,250.5",
            " 10 ",
            "",
            "Off track",
        ],
        [46024.0, "Sales", "KPI", "C", "C"],  # serial (Google) for 2026-01-02; short row
        ["2026-01-03T00:00:00", "Sales", "KR", "D", "D", "O", "Bo", "n/a", None, None, "Weird"],
        ["46025", "Sales", "KPI", "E"],  # serial as text
        ["not a date", "Sales", "KPI", "F"],  # skipped: no date
        [date(2026, 1, 4), "Sales", "KPI", None],  # skipped: no key
        [],
        [True, "Sales", "KPI", "G"],  # a boolean is no date
    ]
    records = parse_history(grid)
    assert [(r.key, r.as_of) for r in records] == [
        ("A", date(2026, 1, 1)),
        ("B", date(2026, 1, 2)),
        ("C", date(2026, 1, 2)),
        ("D", date(2026, 1, 3)),
        ("E", date(2026, 1, 3)),
    ]
    a, b, c, d, _e = records
    assert a.status is Status.ON_TRACK
    assert (b.value, b.target, b.score, b.name, b.objective) == (1250.5, 10.0, None, "B", None)
    assert (c.status, c.value) == (None, None)
    assert (d.kind, d.value, d.status) == ("kr", None, None)


def test_columns_are_found_by_header_when_a_person_reordered_them():
    grid = [
        [f"{OWNED_MARKER}: History"],
        ["Key", "Status", "As of", "Value"],
        ["Revenue", "Off track", "2026-01-05", 10],
    ]
    [rec] = parse_history(grid)
    assert (rec.key, rec.status, rec.as_of, rec.value) == ("Revenue", Status.OFF_TRACK, JAN5, 10)
    # and the next write puts them back in the standard order
    tab = updated_history(grid, [revenue()], JAN6, "Sales")
    assert tab.rows[1] == list(HISTORY_HEADER)
    assert [r[3] for r in tab.rows[2:]] == ["Revenue", "Monthly revenue"]


def test_a_tab_sheetsync_does_not_own_has_no_history():
    assert parse_history([["As of", "Key"], ["2026-01-05", "Revenue"]]) == []
    assert parse_history(None) == []


def test_history_keeps_a_bounded_number_of_days_pruned_in_monthly_cuts():
    items = [ItemState(kind="kpi", key="Revenue", name="Revenue", status=Status.ON_TRACK)]
    start = date(2026, 1, 1)
    grid = None
    for n in range(40):
        grid = updated_history(grid, items, start + timedelta(days=n), "wb", keep_days=5).rows
        days = sorted({iso(row[0]) for row in grid[2:]})
        assert len(days) <= 5 + 31 + 1
    assert len(days) < 40, "old days were pruned"
    assert days[-1] == (start + timedelta(days=39)).isoformat()
    unbounded = None
    for n in range(40):
        unbounded = updated_history(unbounded, items, start + timedelta(days=n), "wb").rows
    assert len(unbounded) == 2 + 40


def test_the_last_two_different_values_are_dated_by_their_last_run():
    tab = None
    for day, value in ((JAN5, 40_000.0), (JAN6, 45_000.0), (JAN7, 45_000.0)):
        tab = updated_history(tab.rows if tab else None, [revenue(value=value)], day, "Sales")
    assert tab is not None
    found = last_two_values(tab.rows, before=date(2026, 1, 8))
    assert found[("kpi", "Monthly revenue")] == [(JAN5, 40_000.0), (JAN7, 45_000.0)]
    assert last_two_values(tab.rows, before=JAN6) == {
        ("kpi", "Monthly revenue"): [(JAN5, 40_000.0)]
    }


def test_a_history_from_before_check_ins_gets_the_confidence_columns_and_keeps_its_rows():
    before = updated_history(None, [revenue()], JAN5, "Sales").rows
    old = [row[: HISTORY_HEADER.index("Confidence")] for row in before]  # 11 columns
    checked = ItemState(**{**leads().__dict__, "confidence": 8.0, "checked_in": JAN6})
    rows = updated_history(old, [revenue(), checked], JAN6, "Sales").rows
    assert rows[1] == list(HISTORY_HEADER)
    jan5, *_ = parse_history(rows)
    assert (jan5.as_of, jan5.key, jan5.confidence) == (JAN5, "Monthly revenue", None)
    kr = next(r for r in parse_history(rows) if r.key == "KR1")
    assert (kr.confidence, kr.checked_in) == (8.0, JAN6)


def test_a_tab_from_before_the_note_column_keeps_its_rows_and_gains_the_column():
    old_header = list(HISTORY_HEADER[:-1])
    old_row = [JAN5, "Sales", "KPI", "Monthly revenue", "Monthly revenue", None, "Ana",
               45_000, 50_000, 0.9, "On track", None, None]  # fmt: skip
    grid = [[f"{OWNED_MARKER}: History"], old_header, old_row]
    [old] = parse_history(grid)
    assert (old.status, old.note) == (Status.ON_TRACK, "")
    broken = replace(revenue(), status=Status.INVALID, value=None, note="G3: Target: not a number")
    tab = updated_history(grid, [broken], JAN6, "Sales")
    assert tab.rows[1] == list(HISTORY_HEADER) and tab.rows[1][-1] == "Note"
    assert tab.rows[2] == old_row, "the old row is kept as it was"
    assert tab.rows[3][10] == "Invalid" and tab.rows[3][-1] == "G3: Target: not a number"
    _, new = parse_history(tab.rows)
    assert (new.status, new.note) == (Status.INVALID, "G3: Target: not a number")
