"""Cell values as people type them -> numbers, yes/no, periods, directions and types.

Every parser takes whatever a spreadsheet cell may hold (text, number, bool, date) and either
returns the meaning or raises `ParseError` saying what was expected. Pure: no I/O, no clock.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Iterable
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache

from sheetsync.core.model import Direction, KrType, Period
from sheetsync.core.units import GENERAL, NumberStyle


class ParseError(ValueError):
    """A cell's value could not be understood; `expected` says what would have been."""

    def __init__(self, expected: str, message: str | None = None) -> None:
        self.expected = expected
        super().__init__(message or "not recognised")


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def blanks(cells: Iterable[object]) -> list[bool]:
    """`is_blank` of each cell of a column (inlined: it runs for every cell of a tab)."""
    return [v is None or (isinstance(v, str) and not v.strip()) for v in cells]


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
_SUFFIX = {"k": ("k", 3), "m": ("M", 6), "mm": ("M", 6), "bn": ("bn", 9), "b": ("bn", 9)}
_NUMBER_RE = re.compile(
    r"""^(?P<sign>[-+−])?\s*(?P<cur1>[$€£¥₹])?(?P<space1>\s*)
        (?P<num>\d(?:[\d.,' ]*\d)?|[.,]\d+)\s*?
        (?P<suffix>k|mm|m|bn|b)?(?P<gap>\s*)(?P<cur2>[$€£¥₹])?\s*(?P<pct>%)?$""",
    re.VERBOSE | re.IGNORECASE,
)
_GROUPED = re.compile(r"\d{1,3}(?:(?P<sep>[,. '])\d{3})(?:(?P=sep)\d{3})*")
DECIMAL_SEPARATORS = (".", ",")


def _locale_hint(decimal: str | None) -> str:
    if decimal is None:
        return (
            '; if this workbook writes 4,5 for four and a half, set [parsing] decimal = "," '
            "in the config"
        )
    return ""


def _digits(body: str, decimal: str | None) -> tuple[Decimal, int, bool]:
    """The digits of a typed number -> (value, decimals typed, grouped by thousands).

    `decimal` is the workbook's decimal separator when configured; None means not configured:
    then `1,200` is twelve hundred and `4.5` four and a half, but text that a comma-decimal
    locale would read otherwise (`80.000`, `1.234,5`, `4,5`) is refused, never guessed.
    """
    body = body.strip()
    point = decimal or "."
    grouping = "," if point == "." else "."
    if body.count(point) > 1:
        raise _ambiguous(body, decimal)
    whole, _, fraction = body.partition(point)
    if fraction and not fraction.isdigit():
        raise _ambiguous(body, decimal)
    grouped = False
    if any(c in whole for c in f"{grouping} '"):
        match = _GROUPED.fullmatch(whole)
        if match is None or match["sep"] not in (grouping, " ", "'"):
            raise _ambiguous(body, decimal)
        grouped, whole = True, re.sub(r"[^\d]", "", whole)
    if whole and not whole.isdigit():
        raise _ambiguous(body, decimal)
    looks_grouped = len(fraction) == 3 and whole not in ("", "0") and len(whole) <= 3
    if decimal is None and not grouped and looks_grouped:  # '80.000': 80, or 80000 in German
        raise ParseError(
            _NUMBER_EXPECTED + _locale_hint(decimal),
            f"ambiguous: {body} could be {Decimal(f'{whole}.{fraction}').normalize():f} "
            f"or {whole}{fraction}",
        )
    text = (whole or "0") + (f".{fraction}" if fraction else "")
    return Decimal(text), len(fraction), grouped


def _ambiguous(body: str, decimal: str | None) -> ParseError:
    if decimal is None and re.fullmatch(r"\d{1,3}(\.\d{3})+(,\d+)?|\d+,\d+", body):
        return ParseError(
            _NUMBER_EXPECTED + _locale_hint(decimal),
            f"ambiguous: {body} is written the way comma-decimal locales write numbers",
        )
    if decimal is not None:
        return ParseError(
            f"a number written with '{decimal}' for decimals, as [parsing] decimal says",
            "not a number in this workbook's locale",
        )
    return ParseError(_NUMBER_EXPECTED, "not a number")


def read_number(value: object, decimal: str | None = None) -> tuple[float, NumberStyle]:
    """A number typed the way people type them, and the style it was typed in.

    Real numeric cells are taken as they are (a percent-formatted cell already holds 0.15;
    its style comes from its number format, see `units.style_from_format`). Text like '15%'
    means 0.15, '$50,000' 50000, '12k' 12000, '(5)' -5. Separators follow `decimal` (the
    workbook's locale, see `_digits`): unconfigured, a comma is a thousands separator only in
    groups of three, so '4,5' and '80.000' are refused rather than guessed. Results that are
    not finite (309 digits) and double negatives ('(-5)') are refused too.
    """
    if is_blank(value):
        raise ParseError(_NUMBER_EXPECTED, "is blank but required")
    if isinstance(value, bool):
        raise ParseError(_NUMBER_EXPECTED, "a yes/no value is not a number")
    if isinstance(value, int | float):
        if not math.isfinite(value):
            raise ParseError(_NUMBER_EXPECTED, "not a finite number")
        return float(value), GENERAL
    if not isinstance(value, str):
        raise ParseError(_NUMBER_EXPECTED, f"not a number ({type(value).__name__})")
    text = value.strip().replace("\u00a0", " ").replace("\u202f", " ").replace("_", "")
    bracketed = text.startswith("(") and text.endswith(")")
    if bracketed:
        text = text[1:-1].strip()
    match = _NUMBER_RE.match(text)
    if not match or (match["cur1"] and match["cur2"]):
        raise ParseError(_NUMBER_EXPECTED + _locale_hint(decimal), "not a number")
    if bracketed and match["sign"]:
        raise ParseError(
            "a negative number written once: (5) or -5",
            "a sign inside brackets: brackets already mean minus",
        )
    number, places, grouped = _digits(match["num"], decimal)
    magnitude = ""
    if match["suffix"]:
        magnitude, power = _SUFFIX[match["suffix"].lower()]
        number = number.scaleb(power)
    if match["pct"]:
        number = number.scaleb(-2)
    result = float(number)
    if not math.isfinite(result):
        raise ParseError(_NUMBER_EXPECTED, "too large to be a number")
    negative = bracketed != (match["sign"] in ("-", "−"))
    cur1, cur2 = match["cur1"] or "", match["cur2"] or ""
    style = NumberStyle(
        prefix=cur1 + (" " if cur1 and match["space1"] else ""),
        suffix=(" " if cur2 and match["gap"] else "") + cur2,
        percent=bool(match["pct"]),
        decimals=places,
        thousands=grouped,
        magnitude=magnitude,
        decimal_comma=decimal == ",",
    )
    return (-result if negative else result), style


def parse_number(value: object, decimal: str | None = None) -> float:
    """The number in a cell (see `read_number`), without its style."""
    return read_number(value, decimal)[0]


def parse_optional_number(value: object, decimal: str | None = None) -> float | None:
    return None if is_blank(value) else parse_number(value, decimal)


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


CADENCE_DAYS = {"weekly": 7, "monthly": 31, "quarterly": 92}
"""The longest a value may wait for its next update, per `Cadence` word."""


def parse_cadence(value: object) -> int | None:
    """A `Cadence` cell (weekly, monthly, quarterly) as the days between updates."""
    if is_blank(value):
        return None
    days = CADENCE_DAYS.get(str(value).strip().casefold())
    if days is None:
        raise ParseError("weekly, monthly or quarterly", "not a cadence")
    return days


def serial_date(number: float) -> date | None:
    """A spreadsheet serial day number (days since 1899-12-30) as a date; None out of range."""
    if not 1 <= number <= 2_958_465:  # 9999-12-31
        return None
    return _SPREADSHEET_EPOCH + timedelta(days=int(number))


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
