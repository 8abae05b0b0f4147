"""Cell values as people type them -> numbers, yes/no, periods, directions and types.

Every parser takes whatever a spreadsheet cell may hold (text, number, bool, date) and either
returns the meaning or raises `ParseError` saying what was expected. Pure: no I/O, no clock.
"""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime, timedelta
from functools import lru_cache

from sheetsync.core.model import Direction, KrType, Period


class ParseError(ValueError):
    """A cell's value could not be understood; `expected` says what would have been."""

    def __init__(self, expected: str, message: str | None = None) -> None:
        self.expected = expected
        super().__init__(message or "not recognised")


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def normalise_header(text: object) -> str:
    """'Key Result', 'key_result' and 'KEY-RESULT' all become 'keyresult'."""
    if text is None:
        return ""
    return re.sub(r"[\s_\-]+", "", str(text)).casefold()


def column_letter(col: int) -> str:
    """1 -> A, 27 -> AA."""
    letters = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def a1(row: int, col: int) -> str:
    return f"{column_letter(col)}{row}"


_NUMBER_EXPECTED = "a number such as 4.5, 1,200, 15%, $50,000 or 12k"
_CURRENCY = "$€£¥₹"
_SUFFIX = {"k": 1e3, "m": 1e6, "mm": 1e6, "bn": 1e9, "b": 1e9}
_NUMBER_RE = re.compile(
    r"""^(?P<sign>[-+−])?\s*(?P<cur1>[$€£¥₹])?\s*
        (?P<num>(\d{1,3}(,\d{3})+|\d+)(\.\d+)?|\.\d+)\s*
        (?P<suffix>k|mm|m|bn|b)?\s*(?P<cur2>[$€£¥₹])?\s*(?P<pct>%)?$""",
    re.VERBOSE | re.IGNORECASE,
)


def parse_number(value: object) -> float:
    """A number typed the way people type them.

    Real numeric cells are taken as they are (a percent-formatted cell already holds 0.15);
    text like '15%' means 0.15, '$50,000' 50000, '12k' 12000, '(5)' -5. A comma is a thousands
    separator only in groups of three, so '4,5' is refused rather than guessed.
    """
    if is_blank(value):
        raise ParseError(_NUMBER_EXPECTED, "is blank but required")
    if isinstance(value, bool):
        raise ParseError(_NUMBER_EXPECTED, "a yes/no value is not a number")
    if isinstance(value, int | float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ParseError(_NUMBER_EXPECTED, "not a finite number")
        return float(value)
    if not isinstance(value, str):
        raise ParseError(_NUMBER_EXPECTED, f"not a number ({type(value).__name__})")
    text = value.strip().replace("\u00a0", "").replace("\u202f", "").replace("_", "")
    negative = False
    if text.startswith("(") and text.endswith(")"):
        negative, text = True, text[1:-1].strip()
    match = _NUMBER_RE.match(text)
    if not match or (match["cur1"] and match["cur2"]):
        raise ParseError(_NUMBER_EXPECTED, "not a number")
    number = float(match["num"].replace(",", ""))
    if match["suffix"]:
        number *= _SUFFIX[match["suffix"].lower()]
    if match["pct"]:
        number /= 100
    if match["sign"] in ("-", "−"):
        negative = not negative
    return -number if negative else number


def parse_optional_number(value: object) -> float | None:
    return None if is_blank(value) else parse_number(value)


_DONE = {"done", "yes", "y", "true", "1", "✓", "✔", "☑", "x", "complete", "completed", "achieved"}
_NOT_DONE = {"no", "n", "false", "0", "not done", "todo", "to do", "pending", "open", "☐", ""}


def parse_done(value: object) -> bool:
    """A milestone's Current cell: done/yes/true/1/✓ vs blank/no/false/0."""
    if value is None:
        return False
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        if value in (0, 1):
            return bool(value)
        raise ParseError("done/yes/true/1/✓, or blank/no/false/0 for a milestone")
    text = str(value).strip().casefold()
    if text in _DONE:
        return True
    if text in _NOT_DONE:
        return False
    raise ParseError("done/yes/true/1/✓, or blank/no/false/0 for a milestone")


_TYPES = {
    "metric": KrType.METRIC,
    "number": KrType.METRIC,
    "numeric": KrType.METRIC,
    "milestone": KrType.MILESTONE,
    "binary": KrType.MILESTONE,
    "yesno": KrType.MILESTONE,
    "stayabove": KrType.STAY_ABOVE,
    "keepabove": KrType.STAY_ABOVE,
    "atleast": KrType.STAY_ABOVE,
    "staybelow": KrType.STAY_BELOW,
    "keepbelow": KrType.STAY_BELOW,
    "atmost": KrType.STAY_BELOW,
}


def parse_kr_type(value: object) -> KrType:
    if is_blank(value):
        return KrType.METRIC
    found = _TYPES.get(normalise_header(value))
    if found is None:
        raise ParseError("metric, milestone, stay above or stay below")
    return found


_DIRECTIONS = {
    "increase": Direction.INCREASE,
    "up": Direction.INCREASE,
    "higher": Direction.INCREASE,
    "higherisbetter": Direction.INCREASE,
    "+": Direction.INCREASE,
    "decrease": Direction.DECREASE,
    "down": Direction.DECREASE,
    "lower": Direction.DECREASE,
    "lowerisbetter": Direction.DECREASE,
    "reduce": Direction.DECREASE,
    "-": Direction.DECREASE,
}


def parse_direction(value: object) -> Direction | None:
    """increase/decrease (also up/down, higher/lower); blank means 'infer it'."""
    if is_blank(value):
        return None
    found = _DIRECTIONS.get(normalise_header(value))
    if found is None:
        raise ParseError("increase or decrease (or blank to infer it from Start and Target)")
    return found


def parse_kpi_direction(value: object) -> bool:
    """True when higher is better (the default)."""
    if is_blank(value):
        return True
    found = _DIRECTIONS.get(normalise_header(value))
    if found is None:
        raise ParseError("higher or lower (which way is better)")
    return found is Direction.INCREASE


_SPREADSHEET_EPOCH = date(1899, 12, 30)


def _quarter(year: int, q: int, label: str) -> Period:
    start = date(year, 3 * q - 2, 1)
    end_month = 3 * q
    return Period(start, date(year, end_month, calendar.monthrange(year, end_month)[1]), label)


def _year_ok(year: int) -> int:
    if not 1990 <= year <= 2200:
        raise ParseError(_PERIOD_EXPECTED, f"year {year} is out of range")
    return year


_PERIOD_EXPECTED = (
    "a period such as 2026-Q4, Q4 2026, 2026-H1, 2026, 2026-11 or a due date 2026-12-15"
)
_MONTHS = {m.casefold(): i for i, m in enumerate(calendar.month_abbr) if m}


def quarter_of(day: date) -> Period:
    q = (day.month - 1) // 3 + 1
    return _quarter(day.year, q, f"{day.year}-Q{q}")


def parse_period(value: object) -> Period:
    """A Period cell: a quarter, half, year, month or a due date.

    A due date means the period runs from the start of that date's quarter to the date.
    Spreadsheet serial numbers (Google sends dates as days since 1899-12-30) are dates too.
    """
    if isinstance(value, datetime):
        return _due(value.date(), value.date().isoformat())
    if isinstance(value, date):
        return _due(value, value.isoformat())
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1990 <= value <= 2200 and value == int(value):
            year = int(value)
            return Period(date(year, 1, 1), date(year, 12, 31), str(year))
        if 30000 <= value <= 110000:
            day = _SPREADSHEET_EPOCH + timedelta(days=int(value))
            return _due(day, day.isoformat())
        raise ParseError(_PERIOD_EXPECTED)
    if not isinstance(value, str) or not value.strip():
        raise ParseError(_PERIOD_EXPECTED)
    return _parse_period_text(value.strip())


@lru_cache(maxsize=512)
def _parse_period_text(text: str) -> Period:
    """Periods repeat on every row of a quarter: parse each spelling once (Period is frozen)."""
    compact = re.sub(r"[\s/_.]+", "-", text.upper()).replace("FY", "")
    try:
        if m := re.fullmatch(r"(\d{4})-?Q([1-4])", compact):
            return _quarter(_year_ok(int(m[1])), int(m[2]), text)
        if m := re.fullmatch(r"Q([1-4])-?(\d{4})", compact):
            return _quarter(_year_ok(int(m[2])), int(m[1]), text)
        if m := re.fullmatch(r"(\d{4})-?H([12])|H([12])-?(\d{4})", compact):
            year, half = (int(m[1]), int(m[2])) if m[1] else (int(m[4]), int(m[3]))
            _year_ok(year)
            return Period(
                date(year, 1 if half == 1 else 7, 1),
                date(year, 6, 30) if half == 1 else date(year, 12, 31),
                text,
            )
        if m := re.fullmatch(r"(\d{4})", compact):
            year = _year_ok(int(m[1]))
            return Period(date(year, 1, 1), date(year, 12, 31), text)
        if m := re.fullmatch(r"(\d{4})-(\d{1,2})", compact):
            year, month = _year_ok(int(m[1])), int(m[2])
            last = calendar.monthrange(year, month)[1]
            return Period(date(year, month, 1), date(year, month, last), text)
        if m := re.fullmatch(r"([A-Z]{3})[A-Z]*-(\d{4})", compact):
            named = _MONTHS.get(m[1].casefold())
            if named:
                year = _year_ok(int(m[2]))
                last = calendar.monthrange(year, named)[1]
                return Period(date(year, named, 1), date(year, named, last), text)
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", compact):
            return _due(date.fromisoformat(_pad_iso(compact)), text)
    except ValueError as exc:
        if isinstance(exc, ParseError):
            raise
        raise ParseError(_PERIOD_EXPECTED, f"not a real date: {exc}") from exc
    raise ParseError(_PERIOD_EXPECTED)


def _pad_iso(text: str) -> str:
    y, m, d = text.split("-")
    return f"{y}-{int(m):02d}-{int(d):02d}"


def _due(day: date, label: str) -> Period:
    _year_ok(day.year)
    return Period(quarter_of(day).start, day, label)


def text_or_none(value: object) -> str | None:
    """A cell as trimmed text; numbers keep their natural look (3.0 -> '3')."""
    if is_blank(value):
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()
