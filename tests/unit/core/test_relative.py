"""Relative key results: reading a Change and turning it into a Start and a Target."""

from __future__ import annotations

from datetime import date

import pytest

from sheetsync.core.model import Change, Direction, KeyResult, Period
from sheetsync.core.parse import ParseError
from sheetsync.core.relative import parse_change, resolve_change, start_of_period

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")


def relative(change: str, current: float | None = 1150.0, start: float | None = None):
    return KeyResult(
        row=2,
        objective="Grow",
        text="Visits",
        start=start or 0.0,
        current=current,
        period=Q4,
        change=parse_change(change),
        start_given=start is not None,
    )


def test_a_percent_is_relative_to_start_and_a_unit_is_an_amount():
    assert parse_change("+30%") == Change(0.3, relative=True, text="+30%")
    assert parse_change("-2 h") == Change(-2.0, relative=False, text="-2 h")
    assert parse_change("−1,000") == Change(-1000.0, relative=False, text="−1,000")


@pytest.mark.parametrize("text", ["+0%", "more", "by a lot"])
def test_a_change_that_sets_no_target_is_refused(text):
    with pytest.raises(ParseError):
        parse_change(text)


def test_the_period_starts_at_historys_first_value_in_it():
    recorded = [
        (date(2026, 9, 30), 900.0),
        (date(2026, 10, 5), 1000.0),
        (date(2026, 11, 1), 1100.0),
    ]
    assert start_of_period(relative("+30%"), recorded, date(2026, 11, 15)) == (
        date(2026, 10, 5),
        1000.0,
    )
    assert start_of_period(relative("+30%"), recorded[:1], date(2026, 11, 15)) is None


def test_the_target_follows_the_change_and_the_note_says_where_from():
    kr, note = resolve_change(relative("-10%"), (date(2026, 10, 5), 1000.0), date(2026, 11, 15))
    assert (kr.start, kr.target, kr.direction) == (1000.0, 900.0, Direction.DECREASE)
    assert note == "target 900 = -10% from 1000 (value on 2026-10-05)"


def test_without_any_value_there_is_no_target_yet():
    kr, note = resolve_change(relative("+30%", current=None), None, date(2026, 10, 5))
    assert kr.target is None
    assert note == "Change +30%: no value to start from yet"
