"""sheetsync's copy of openpyxl's number-format tables and date serials reads every workbook
as openpyxl would: same built-in formats, same date and elapsed-time detection, same dates."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

import pytest
from openpyxl.styles import numbers
from openpyxl.utils import datetime as openpyxl_dates

from sheetsync.backends.excel import serials

CODES = [
    *numbers.BUILTIN_FORMATS.values(),
    "yyyy-mm-dd",
    "dd/mm/yyyy hh:mm",
    "[h]:mm",
    "[mm]:ss",
    "[ss].00",
    "[HH]:MM:SS",
    '"days" 0',
    '0 "hrs"',
    "[Red]0.00",
    "[$-409]d-mmm-yy",
    "[$€-407] #,##0.00",
    "0.0_m",
    r"0.0\m",
    "#,##0;[Red]-#,##0;yyyy",
    "mm:ss.0",
    "@",
    "",
    None,
]


def test_the_built_in_formats_are_openpyxls():
    assert serials.BUILTIN_FORMATS == numbers.BUILTIN_FORMATS
    assert serials.BUILTIN_FORMATS_REVERSE == numbers.BUILTIN_FORMATS_REVERSE


@pytest.mark.parametrize("code", CODES)
def test_a_format_shows_a_date_or_elapsed_time_exactly_when_openpyxl_says_so(code):
    assert serials.is_date_format(code) == numbers.is_date_format(code)
    assert serials.is_timedelta_format(code) == numbers.is_timedelta_format(code)


def calendars(epoch):
    """Day 0 of the 1900 or 1904 calendar: sheetsync's and openpyxl's."""
    if epoch == "1900":
        return serials.WINDOWS_1900, openpyxl_dates.CALENDAR_WINDOWS_1900
    return serials.MAC_1904, openpyxl_dates.CALENDAR_MAC_1904


SERIALS = [0, 0.25, 0.999999, 1, 1.5, 59, 59.75, 60, 60.5, 61, 45000, 45000.123456789, 2958465.99]


@pytest.mark.parametrize("epoch", ["1900", "1904"])
@pytest.mark.parametrize("value", SERIALS)
def test_a_serial_number_reads_as_the_date_openpyxl_gives(value, epoch):
    ours, theirs = calendars(epoch)
    assert ours == theirs
    assert outcome(serials.from_excel, value, ours) == outcome(
        openpyxl_dates.from_excel, value, theirs
    )
    assert outcome(serials.from_excel, value, ours, timedelta_=True) == outcome(
        openpyxl_dates.from_excel, value, theirs, timedelta=True
    )


def outcome(function, *args, **kwargs):
    """What a call gives, or the kind of error it raises (a date past year 9999)."""
    try:
        return function(*args, **kwargs)
    except (OverflowError, ValueError) as exc:
        return type(exc)


MOMENTS = [
    date(1900, 1, 1),
    date(1900, 2, 28),
    date(1900, 3, 1),
    date(1904, 1, 2),
    date(2026, 10, 5),
    datetime(2026, 10, 5, 13, 45, 7, 250000),
    datetime(1900, 2, 10, 6, 0),
]


@pytest.mark.parametrize("epoch", ["1900", "1904"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_a_date_is_written_as_the_serial_number_openpyxl_gives(moment, epoch):
    ours, theirs = calendars(epoch)
    assert serials.to_excel(moment, ours) == openpyxl_dates.to_excel(moment, theirs)


@pytest.mark.parametrize(
    "text",
    ["2026-10-05", "2026-10-05T13:45:07", "2026-10-05T13:45:07.25Z", "13:45", "13:45:07.5",
     "PT1H30M", "PT2.5S", "PT10M"],
)  # fmt: skip
def test_an_iso_date_cell_reads_as_openpyxl_reads_it(text):
    assert serials.from_iso8601(text) == openpyxl_dates.from_ISO8601(text)


def test_text_that_is_no_iso_date_is_refused_like_openpyxl_does():
    with pytest.raises(ValueError):
        openpyxl_dates.from_ISO8601("next week")
    with pytest.raises(ValueError):
        serials.from_iso8601("next week")
    assert isinstance(serials.from_excel(0.5), time)
    assert isinstance(serials.from_excel(1.5, timedelta_=True), timedelta)
