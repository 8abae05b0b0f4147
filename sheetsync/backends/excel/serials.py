"""Excel's built-in number formats, which format codes show dates or elapsed times, and date
serial numbers to and from Python dates: what openpyxl's `styles.numbers` and
`utils.datetime` give, without importing openpyxl.

Importing any part of openpyxl imports the whole package (its `__init__` loads the workbook,
reader and writer), which costs a sync more start-up time than reading a 1,000-row workbook.
sheetsync only needs these few tables and functions from it, so they live here, kept to
openpyxl's behaviour: `tests/integration/excel/test_serials.py` compares them with openpyxl's
on every built-in format, a set of custom codes and dates either side of Excel's 1900
leap-year bug.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

__all__ = [
    "BUILTIN_FORMATS",
    "BUILTIN_FORMATS_REVERSE",
    "MAC_1904",
    "WINDOWS_1900",
    "from_excel",
    "from_iso8601",
    "is_date_format",
    "is_timedelta_format",
    "to_excel",
]

BUILTIN_FORMATS: dict[int, str] = {
    0: "General",
    1: "0",
    2: "0.00",
    3: "#,##0",
    4: "#,##0.00",
    5: '"$"#,##0_);("$"#,##0)',
    6: '"$"#,##0_);[Red]("$"#,##0)',
    7: '"$"#,##0.00_);("$"#,##0.00)',
    8: '"$"#,##0.00_);[Red]("$"#,##0.00)',
    9: "0%",
    10: "0.00%",
    11: "0.00E+00",
    12: "# ?/?",
    13: "# ??/??",
    14: "mm-dd-yy",
    15: "d-mmm-yy",
    16: "d-mmm",
    17: "mmm-yy",
    18: "h:mm AM/PM",
    19: "h:mm:ss AM/PM",
    20: "h:mm",
    21: "h:mm:ss",
    22: "m/d/yy h:mm",
    37: "#,##0_);(#,##0)",
    38: "#,##0_);[Red](#,##0)",
    39: "#,##0.00_);(#,##0.00)",
    40: "#,##0.00_);[Red](#,##0.00)",
    41: r'_(* #,##0_);_(* \(#,##0\);_(* "-"_);_(@_)',
    42: r'_("$"* #,##0_);_("$"* \(#,##0\);_("$"* "-"_);_(@_)',
    43: r'_(* #,##0.00_);_(* \(#,##0.00\);_(* "-"??_);_(@_)',
    44: r'_("$"* #,##0.00_)_("$"* \(#,##0.00\)_("$"* "-"??_)_(@_)',
    45: "mm:ss",
    46: "[h]:mm:ss",
    47: "mmss.0",
    48: "##0.0E+0",
    49: "@",
}
"""The number formats every workbook has without declaring them (ECMA-376 18.8.30)."""
BUILTIN_FORMATS_REVERSE: dict[str, int] = {code: number for number, code in BUILTIN_FORMATS.items()}

WINDOWS_1900 = datetime(1899, 12, 30)
"""Day 0 of the default calendar (Excel's 1900 system, counting its false 29 February 1900)."""
MAC_1904 = datetime(1904, 1, 1)
"""Day 0 of the 1904 system (`<workbookPr date1904="1">`)."""

_STRIP = re.compile(r'".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]')
"""Quoted literals and bracketed colours or locales: their letters are not date parts."""
_DATE_PART = re.compile(r"(?<![_\\])[dmhysDMHYS]")
_ELAPSED = re.compile(r"\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?", re.I)
_ISO = re.compile(
    r"(?P<date>(?P<year>\d{4})-(?P<month>\d{2})-(?P<day>\d{2}))?T?"
    r"(?P<time>(?P<hour>\d{2}):(?P<minute>\d{2})(:(?P<second>\d{2})"
    r"(?P<microsecond>\.\d{1,3})?)?)?Z?"
)
_ISO_DURATION = re.compile(
    r"PT((?P<hours>\d+)H)?((?P<minutes>\d+)M)?((?P<seconds>\d+(\.\d{1,3})?)S)?"
)
_SECONDS_PER_DAY = 86400


def is_date_format(code: str | None) -> bool:
    """Whether a number format code shows a number as a date or a time (its first section)."""
    if code is None:
        return False
    return _DATE_PART.search(_STRIP.sub("", code.split(";")[0])) is not None


def is_timedelta_format(code: str | None) -> bool:
    """Whether a format code shows elapsed time (`[h]:mm`), read as a duration, not a date."""
    if code is None:
        return False
    return _ELAPSED.search(code.split(";")[0]) is not None


def from_excel(
    value: float, epoch: datetime = WINDOWS_1900, timedelta_: bool = False
) -> datetime | time | timedelta:
    """A serial number as a datetime (a time below 1, a timedelta with `timedelta_`), to the
    millisecond, with the 1900 system's days before 1 March 1900 shifted as Excel counts them."""
    if timedelta_:
        elapsed = timedelta(days=value)
        if elapsed.microseconds:
            elapsed = timedelta(
                seconds=elapsed.total_seconds() // 1,
                microseconds=round(elapsed.microseconds, -3),
            )
        return elapsed
    day, fraction = divmod(value, 1)
    diff = timedelta(milliseconds=round(fraction * _SECONDS_PER_DAY * 1000))
    if 0 <= value < 1 and diff.days == 0:
        minutes, seconds = divmod(diff.seconds, 60)
        hours, minutes = divmod(minutes, 60)
        return time(hours, minutes, seconds, diff.microseconds)
    if 0 < value < 60 and epoch == WINDOWS_1900:
        day += 1
    return epoch + timedelta(days=day) + diff


def to_excel(value: date | datetime, epoch: datetime = WINDOWS_1900) -> float:
    """A date or datetime as a serial number in the calendar starting at `epoch`."""
    moment = value if isinstance(value, datetime) else datetime.combine(value, time())
    days = (moment - epoch).days
    if 0 < days <= 60 and epoch == WINDOWS_1900:
        days -= 1
    seconds = moment.hour * 3600 + moment.minute * 60 + moment.second
    return days + (seconds + moment.microsecond / 10**6) / _SECONDS_PER_DAY


def from_iso8601(text: str) -> datetime | date | time | timedelta | None:
    """An ISO 8601 date, time, datetime or `PT..H..M..S` duration (a `t="d"` cell's text).

    Raises ValueError for other text.
    """
    if not text:
        return None
    match = _ISO.match(text)
    if match and any(match.groups()):
        parts: dict[str, int] = {
            key: int(match[key] or 0)
            for key in ("year", "month", "day", "hour", "minute", "second")
        }
        micro = match["microsecond"]
        parts["microsecond"] = int(float(micro) * 1_000_000) if micro else 0
        if not match["date"]:
            return time(parts["hour"], parts["minute"], parts["second"], parts["microsecond"])
        if not match["time"]:
            return date(parts["year"], parts["month"], parts["day"])
        return datetime(
            parts["year"],
            parts["month"],
            parts["day"],
            parts["hour"],
            parts["minute"],
            parts["second"],
            parts["microsecond"],
        )
    match = _ISO_DURATION.match(text)
    if match and any(match.groups()):
        return timedelta(**{k: float(v) for k, v in match.groupdict().items() if v})
    raise ValueError(f"Invalid datetime value {text}")
