"""KPI scorecards: one column per period (months, ISO weeks, quarters or dates) on the KPIs tab.

Teams keep KPIs as a scorecard, one row per KPI and one column per period. This module finds
those period columns among the headers and reads a row's values from them; `validate` calls
it and turns what it finds into a KPI's Actual (the latest filled period on or before the
as-of date), its target for that period and its series.

Header spellings understood (case and separators do not matter):

    months    Jan ... Dec, January, Jan 2026, 2026-01, 01/2026
    weeks     W45, Wk 45, Week 45, 2026-W45, W45 2026          (ISO weeks, Monday to Sunday)
    quarters  Q1, 2026-Q1, Q1 2026
    dates     a real date cell, 2026-01-31, 31/01/2026         (the period ending that day)

A header without a year (`Jan`, `W45`, `Q1`) takes it from a `Year` cell above the header row
(`Year` with the year beside it, or `Year 2026` in one cell), else from the configured period.
Year-less headers that wrap (`Nov Dec Jan`) run into the next year. Pure: no I/O, no clock.
"""

from __future__ import annotations

import calendar
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sheetsync.core.model import Period, Problem
from sheetsync.core.parse import ParseError, a1, normalise_header
from sheetsync.core.plan import CellValue, Grid

MONTH, WEEK, QUARTER, DAY = "month", "week", "quarter", "date"
_KIND_PLURAL = {MONTH: "months", WEEK: "weeks", QUARTER: "quarters", DAY: "dates"}
_MONTH_NAMES = {name.casefold(): i for i, name in enumerate(calendar.month_name) if name}
_SPREADSHEET_EPOCH = date(1899, 12, 30)
_YEAR = r"((?:19|20|21)\d\d)"
_MONTH_WORD = re.compile(rf"^([a-z]{{3,9}})\.?(?:[\s\-/'’]*{_YEAR})?$")
_YEAR_MONTH_WORD = re.compile(rf"^{_YEAR}[\s\-/]*([a-z]{{3,9}})\.?$")
_YEAR_MONTH = re.compile(rf"^{_YEAR}[\-/.](\d{{1,2}})$")
_MONTH_YEAR = re.compile(rf"^(\d{{1,2}})[\-/.]{_YEAR}$")
_WEEK = re.compile(rf"^(?:{_YEAR}[\s\-]*)?(?:w|wk|week)[\s\-.]*(\d{{1,2}})(?:[\s\-,]+{_YEAR})?$")
_QUARTER = re.compile(rf"^(?:{_YEAR}[\s\-]*)?q([1-4])(?:[\s\-]+{_YEAR})?$")
_ISO_DATE = re.compile(rf"^{_YEAR}-(\d{{1,2}})-(\d{{1,2}})$")
_SLASH_DATE = re.compile(rf"^(\d{{1,2}})[/.](\d{{1,2}})[/.]{_YEAR}$")
_YEAR_CELL = re.compile(rf"^year\s*:?\s*{_YEAR}?$")


@dataclass(frozen=True)
class PeriodColumn:
    """One period column of a scorecard: where it is and which period it holds."""

    col: int
    period: Period
    kind: str

    @property
    def label(self) -> str:
        return self.period.label


@dataclass(frozen=True)
class Scorecard:
    """The period columns of a KPIs tab (in time order) and what was wrong with the headers."""

    columns: tuple[PeriodColumn, ...] = ()
    problems: tuple[Problem, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.columns)

    def current(self, as_of: date) -> PeriodColumn | None:
        """The latest period that has started by the as-of date: the one a KPI is judged in."""
        started = [c for c in self.columns if c.period.start <= as_of]
        return started[-1] if started else None


@dataclass(frozen=True)
class _Header:
    """A header cell read as a period, before a year-less one gets its year."""

    col: int
    kind: str
    number: int
    """Month 1-12, ISO week 1-53 or quarter 1-4 (0 for a date)."""
    year: int | None
    day: date | None
    text: str


class AmbiguousHeader(ValueError):
    """A header reads as a period in more than one way; the message says how to fix it."""


def read_header(value: CellValue, col: int = 1) -> _Header | None:
    """A header cell as a period, or None when it is not one (a person's own column).

    Raises AmbiguousHeader for a date that reads both ways round (`03/04/2026`).
    """
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return _Header(col, DAY, 0, value.year, value, value.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):
        # Google sends a date cell as its serial number (days since 1899-12-30).
        if 30000 <= value <= 110000 and value == int(value):
            day = _SPREADSHEET_EPOCH + timedelta(days=int(value))
            return _Header(col, DAY, 0, day.year, day, day.isoformat())
        return None
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    low = re.sub(r"\s+", " ", text.casefold())
    if m := _MONTH_WORD.match(low):
        month = _month_number(m[1])
        return None if month is None else _Header(col, MONTH, month, _int(m[2]), None, text)
    if m := _YEAR_MONTH_WORD.match(low):
        month = _month_number(m[2])
        return None if month is None else _Header(col, MONTH, month, int(m[1]), None, text)
    if (m := _YEAR_MONTH.match(low)) and 1 <= int(m[2]) <= 12:
        return _Header(col, MONTH, int(m[2]), int(m[1]), None, text)
    if (m := _MONTH_YEAR.match(low)) and 1 <= int(m[1]) <= 12:
        return _Header(col, MONTH, int(m[1]), int(m[2]), None, text)
    if (m := _WEEK.match(low)) and 1 <= int(m[2]) <= 53 and not (m[1] and m[3]):
        return _Header(col, WEEK, int(m[2]), _int(m[1] or m[3]), None, text)
    if (m := _QUARTER.match(low)) and not (m[1] and m[3]):
        return _Header(col, QUARTER, int(m[2]), _int(m[1] or m[3]), None, text)
    if m := _ISO_DATE.match(low):
        iso = _date(int(m[1]), int(m[2]), int(m[3]))
        return None if iso is None else _Header(col, DAY, 0, iso.year, iso, text)
    if m := _SLASH_DATE.match(low):
        first, second, year = int(m[1]), int(m[2]), int(m[3])
        day_first, month_first = _date(year, second, first), _date(year, first, second)
        if day_first and month_first and day_first != month_first:
            raise AmbiguousHeader(
                f"header '{text}' reads as {day_first} (day first) or as {month_first} "
                "(month first)"
            )
        found = day_first or month_first
        return None if found is None else _Header(col, DAY, 0, found.year, found, text)
    return None


def _int(text: str | None) -> int | None:
    return int(text) if text else None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _month_number(word: str) -> int | None:
    """'jan', 'january', 'sept' -> the month; anything else (a person's 'Notes') -> None."""
    for full, number in _MONTH_NAMES.items():
        if full.startswith(word) and (len(word) >= 3 or word == full):
            return number
    return None


_ACTUAL_KINDS = {"", "actual", "actuals", "value"}
_TARGET_KINDS = {"target", "targets", "goal", "plan"}


def parse_row_kind(value: object) -> bool:
    """A scorecard row's `Kind` (or `Row`) cell: True for a Target row, False for the actuals."""
    text = normalise_header(value)
    if text in _ACTUAL_KINDS:
        return False
    if text in _TARGET_KINDS:
        return True
    raise ParseError("Actual (or blank) for the KPI's values, Target for its per-period targets")


def year_above(grid: Grid, header_row: int) -> tuple[int, str] | None:
    """The year a `Year` cell above the header row gives, and where it is."""
    for r in range(min(header_row - 1, len(grid)), 0, -1):
        line = grid[r - 1]
        for c, value in enumerate(line, start=1):
            if not isinstance(value, str):
                continue
            m = _YEAR_CELL.match(value.strip().casefold())
            if not m:
                continue
            if m[1]:
                return int(m[1]), a1(r, c)
            beside = line[c] if c < len(line) else None
            if isinstance(beside, str) and beside.strip().isdigit():
                beside = int(beside.strip())
            if isinstance(beside, int | float) and 1990 <= beside <= 2200:
                return int(beside), a1(r, c + 1)
    return None


def find_scorecard(
    grid: Grid,
    tab: str,
    header_row: int,
    taken: Iterable[int],
    *,
    default_year: int,
    as_of: date | None = None,
) -> Scorecard:
    """The period columns among the header cells that are not a known field (`taken`).

    One kind of period per tab: when months and quarters (say) are mixed, the kind with the
    most columns is the scorecard and the others are reported and left alone. Year-less
    headers take the year of the `Year` cell above the headers; without one, the configured
    year, or the year before it when that is the one whose span holds the as-of date.
    """
    headers = grid[header_row - 1] if header_row <= len(grid) else []
    skip = set(taken)
    found: list[_Header] = []
    problems: list[Problem] = []

    def problem(col: int, value: object, message: str, expected: str, error: bool = True) -> None:
        problems.append(
            Problem(tab, a1(header_row, col), value, expected, message, header_row, error)
        )

    for col, value in enumerate(headers, start=1):
        if col in skip:
            continue
        try:
            header = read_header(value, col)
        except AmbiguousHeader as exc:
            problem(col, value, f"{exc}; the column is left out", "a date such as 2026-04-03")
            continue
        if header is not None:
            found.append(header)
    if not found:
        return Scorecard((), tuple(problems))

    kinds = Counter(h.kind for h in found)
    kind = max(kinds, key=lambda k: (kinds[k], -list(_KIND_PLURAL).index(k)))
    for h in found:
        if h.kind != kind:
            problem(
                h.col,
                h.text,
                f"this {h.kind} header sits among {_KIND_PLURAL[kind]}: a scorecard has one "
                "kind of period, so the column is left out",
                f"a header for one of the {_KIND_PLURAL[kind]}, or a name that is not a period "
                "(such as 'Q1 total')",
                error=False,
            )
    chosen = [h for h in found if h.kind == kind]
    explicit = year_above(grid, header_row)
    if explicit is not None:
        columns = _with_years(chosen, explicit[0])
    else:
        columns = _with_years(chosen, default_year)
        if as_of is not None and not _spans(columns, as_of):
            earlier = _with_years(chosen, default_year - 1)
            if _spans(earlier, as_of):
                columns = earlier
        wrapped = [c for c, h in zip(columns, chosen, strict=True) if h.year is None]
        if wrapped and wrapped[0].period.start.year != wrapped[-1].period.end.year:
            problem(
                wrapped[0].col,
                chosen[0].text,
                f"the year-less headers cross a year end; read as {wrapped[0].label} "
                f"{wrapped[0].period.start.year} to {wrapped[-1].label} "
                f"{wrapped[-1].period.end.year}",
                "a Year cell above the headers (e.g. 'Year' and 2026) naming the first "
                "column's year",
                error=False,
            )

    by_period: dict[tuple[date, date], PeriodColumn] = {}
    kept: list[PeriodColumn] = []
    for column in columns:
        span = (column.period.start, column.period.end)
        if span in by_period:
            first = by_period[span]
            problem(
                column.col,
                column.label,
                f"a second column for {_describe(column.period)} (the first is "
                f"{a1(header_row, first.col)}); the column is left out",
                "each period once",
            )
            continue
        by_period[span] = column
        kept.append(column)
    kept.sort(key=lambda c: (c.period.end, c.col))
    return Scorecard(tuple(kept), tuple(problems))


def _describe(period: Period) -> str:
    if period.start == period.end:
        return period.start.isoformat()
    return f"{period.start.isoformat()} to {period.end.isoformat()}"


def _spans(columns: Sequence[PeriodColumn], as_of: date) -> bool:
    return bool(columns) and columns[0].period.start <= as_of <= columns[-1].period.end


def _with_years(headers: Sequence[_Header], base_year: int) -> list[PeriodColumn]:
    """Give year-less headers their year, moving to the next year when the numbers wrap."""
    columns: list[PeriodColumn] = []
    year, previous = base_year, None
    for h in headers:
        if h.year is None:
            if previous is not None and h.number <= previous:
                year += 1
            previous = h.number
        columns.append(PeriodColumn(h.col, _period(h, h.year or year), h.kind))
    return columns


def _period(h: _Header, year: int) -> Period:
    if h.kind == MONTH:
        last = calendar.monthrange(year, h.number)[1]
        return Period(date(year, h.number, 1), date(year, h.number, last), h.text)
    if h.kind == QUARTER:
        end_month = 3 * h.number
        end = date(year, end_month, calendar.monthrange(year, end_month)[1])
        return Period(date(year, end_month - 2, 1), end, h.text)
    if h.kind == WEEK:
        week = min(h.number, date(year, 12, 28).isocalendar().week)
        start = date.fromisocalendar(year, week, 1)
        return Period(start, start + timedelta(days=6), h.text)
    assert h.day is not None
    return Period(h.day, h.day, h.text)
