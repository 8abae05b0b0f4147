"""'Increase website traffic by 30%': a Change instead of a Target, started from History."""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.workbooks import cell, okrs_workbook

OKRS = [
    ["Objective", "Key Result", "Owner", "Start", "Target", "Change", "Current", "Period"],
    ["Grow", "Website visits", "Ana", None, None, "+30%", 1000, "2026-Q4"],
    ["Grow", "Support hours", "Ana", 10, None, "-2 h", 9, "2026-Q4"],
]  # fmt: skip


def test_a_change_sets_the_target_from_the_value_the_period_started_with(sheets, tmp_path):
    config = okrs_workbook(sheets, tmp_path, OKRS)

    # the period's first run: today's 1,000 visits are where the period starts
    assert main(["run", "--config", str(config), "--as-of", "2026-10-05"]) == 0
    okrs = sheets.values("team", "OKRs")
    assert "target 1300 = +30% from 1000 (value on 2026-10-05)" in cell(okrs, 2, "Note")
    assert cell(okrs, 2, "Score") == 0
    # a Start cell is used as it is: 10 h - 2 h = 8 h, and 9 h is halfway
    assert "target 8 = -2 h from 10 (Start)" in cell(okrs, 3, "Note")
    assert cell(okrs, 3, "Score") == 0.5

    # later the visits grow; the start stays the value History recorded on 5 October
    sheets.edit("team", "OKRs", "G2", 1150)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    okrs = sheets.values("team", "OKRs")
    assert "target 1300 = +30% from 1000 (value on 2026-10-05)" in cell(okrs, 2, "Note")
    assert cell(okrs, 2, "Score") == 0.5


def test_a_target_and_a_change_on_one_row_is_a_validation_error(sheets, tmp_path):
    rows = [OKRS[0], ["Grow", "Website visits", "Ana", None, 1300, "+30%", 1000, "2026-Q4"]]
    config = okrs_workbook(sheets, tmp_path, rows)

    assert main(["run", "--config", str(config), "--as-of", "2026-10-05"]) == 1
    okrs = sheets.values("team", "OKRs")
    assert cell(okrs, 2, "Status") == "Invalid"
    assert cell(okrs, 2, "Note").startswith("F2: both a Target and a Change")


def test_without_a_history_tab_the_start_still_stays_where_the_period_began(sheets, tmp_path):
    # History turned off: the period's first value is kept in the state tab, so the target
    # does not drift with every night's Current (it used to be re-taken on every run).
    config = okrs_workbook(sheets, tmp_path, OKRS, '[tabs]\nhistory = ""\n')

    assert main(["run", "--config", str(config), "--as-of", "2026-10-05"]) == 0
    sheets.edit("team", "OKRs", "G2", 1150)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0

    okrs = sheets.values("team", "OKRs")
    assert "target 1300 = +30% from 1000 (value on 2026-10-05)" in cell(okrs, 2, "Note")
    assert cell(okrs, 2, "Score") == 0.5
    assert "History" not in sheets.tabs("team")
