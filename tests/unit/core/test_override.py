"""The owner's status override: it holds until its date (or the period's end), then expires."""

from datetime import date

from sheetsync.core.model import Period, Status
from sheetsync.core.override import apply_override, is_overridden
from sheetsync.core.scoring import Rules, score_key_result
from sheetsync.core.validate import read_okrs

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
HEAD = ["Objective", "Key Result", "Target", "Current", "Status override", "Override until"]


def scored(row, as_of):
    tab = read_okrs([HEAD, row], "OKRs", default_period=Q4)
    assert not tab.invalid, tab.invalid
    (kr,) = tab.key_results
    return apply_override(score_key_result(kr, as_of, Rules()), as_of)


def test_the_owner_status_replaces_the_computed_one_until_the_date_and_the_note_says_so():
    row = ["Grow", "Leads", 100, 10, "on track", "2026-12-15"]
    s = scored(row, date(2026, 11, 15))
    assert s.status is Status.ON_TRACK
    assert s.note == "overridden by owner until 15 Dec; computed: Off track"
    assert is_overridden(s, date(2026, 11, 15))


def test_the_computed_status_resumes_the_day_after_the_override_ends():
    row = ["Grow", "Leads", 100, 10, "On track", "2026-12-15"]
    s = scored(row, date(2026, 12, 16))
    assert s.status is Status.OFF_TRACK and "overridden" not in s.note
    assert not is_overridden(s, date(2026, 12, 16))


def test_an_override_without_a_date_lasts_until_the_end_of_the_period():
    row = ["Grow", "Leads", 100, 10, "At risk", None]
    assert scored(row, date(2026, 12, 31)).status is Status.AT_RISK
    assert "until 31 Dec" in scored(row, date(2026, 12, 31)).note
    assert scored(row, date(2027, 1, 1)).status is Status.MISSED  # graded, not overridden


def test_an_override_that_is_not_a_status_an_owner_can_set_is_an_invalid_row_on_its_cell():
    tab = read_okrs([HEAD, ["Grow", "Leads", 100, 10, "Achieved", None]], "OKRs", default_period=Q4)
    (bad,) = tab.invalid
    (problem,) = bad.problems
    assert problem.cell == "E2" and "not a status an owner can set" in problem.message
