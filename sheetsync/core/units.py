"""Show a number the way the person's own cell shows it: the one formatting function.

Every number sheetsync puts in front of a person (Notes, Summary, History, the Alerts tab,
emails, the terminal) goes through `format_number(value, style)`. The `NumberStyle` comes from
where the number came from:

* a numeric cell: its number format (`style_from_format("0.0%")`, `'"$"#,##0'`,
  `"[$€-407] #,##0.00"`), which backends hand over as plain text (Excel's numFmt code, Google's
  `numberFormat.pattern`);
* a cell holding text such as `$612,500` or `11.5%`: the way it was typed
  (`parse.read_number` returns the style beside the value);
* a KPI's `Unit` column, added with `with_unit` when the cell itself shows no unit.

The cell's decimals are a minimum, never a rounding: `0.115` in a `0%` cell is shown as
`11.5%`, so that the text, parsed back with `parse.parse_number`, gives the same number
(a property test holds us to it). Only float noise beyond 15 significant digits is dropped
(`0.1 + 0.2` is shown as `0.3`). Scores, which are not a person's numbers, have their own
`format_score` (always two decimals). Pure: standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_EVEN, Decimal
from functools import lru_cache

SIGNIFICANT_DIGITS = 15
"""Digits kept when showing a number: every decimal of up to 15 digits survives a float
(DBL_DIG), and the noise of float arithmetic (0.30000000000000004) sits beyond them."""

CURRENCY_SYMBOLS = "$€£¥₹"
SCORE_FORMAT = "0.00"
"""The number format of every Score cell (stored at full precision, shown with 2 decimals)."""
ATTAINMENT_FORMAT = '0%" of target"'
"""A KPI's Score is its attainment (actual / target): shown as `94% of target`."""
ATTAINMENT_WIDTH = len("100% of target") + 2.0
"""Characters a column showing attainments needs (Excel shows `###` in a narrower one)."""
DATE_FORMAT = "yyyy-mm-dd"

_MAGNITUDES = {"k": 3, "m": 6, "bn": 9}


@dataclass(frozen=True)
class NumberStyle:
    """How a number is shown: what a cell's number format (or typed text) says about it."""

    prefix: str = ""
    """Text before the digits, e.g. `$` or `€ `."""
    suffix: str = ""
    """Text after the digits (and after `%`), e.g. ` €` or ` h`."""
    percent: bool = False
    """Shown times 100 with a `%`: 0.115 is `11.5%`."""
    decimals: int | None = None
    """At least this many decimals (None: as many as the number needs, like General)."""
    thousands: bool = False
    """Digits grouped by thousands: `612,500`."""
    magnitude: str = ""
    """`k`, `M` or `bn` as typed (`20k`): the number is shown in thousands, millions ..."""
    decimal_comma: bool = False
    """The workbook's locale writes `4,5` and `80.000` (comma decimals, dot thousands)."""
    code: str | None = None
    """The cell's own number format code, when it had one: reused for History cells."""

    @property
    def is_general(self) -> bool:
        """Says nothing a plain number would not (no unit, no grouping, no fixed decimals)."""
        return self == (_GENERAL_COMMA if self.decimal_comma else GENERAL)

    @property
    def shows_unit(self) -> bool:
        """The cell already shows a unit (percent, currency or text), so a Unit adds nothing."""
        return self.percent or bool(self.prefix.strip() or self.suffix.strip())


GENERAL = NumberStyle()
_GENERAL_COMMA = NumberStyle(decimal_comma=True)


def format_number(value: float, style: NumberStyle | None = None) -> str:
    """`value` as the person's cell shows it: `$612,500`, `11.5%`, `3.6 h`, `€80.000`.

    Use this for every number a person reads. `style` comes from `style_from_format`,
    `parse.read_number` or `with_unit`; None shows the number plainly (`1234.5`).
    """
    style = style or GENERAL
    if not math.isfinite(value):
        return str(value)
    number, places = _shown(value, style)
    digits = format(abs(number), f"{',' if style.thousands else ''}.{places}f")
    if style.decimal_comma:
        digits = digits.translate(_SWAP_SEPARATORS)
    sign = "-" if number < 0 else ""
    pct = "%" if style.percent else ""
    return f"{sign}{style.prefix}{digits}{style.magnitude}{pct}{style.suffix}"


def _shown(value: float, style: NumberStyle) -> tuple[Decimal, int]:
    """The number as displayed (scaled for percent and k/M) and the decimals it needs."""
    number = Decimal(repr(float(value)))
    if style.percent:
        number = number.scaleb(2)
    if style.magnitude:
        number = number.scaleb(-_MAGNITUDES[style.magnitude.casefold()])
    number = _significant(number)
    places = max(style.decimals or 0, max(0, -number.as_tuple().exponent))  # type: ignore[operator]
    return number, places


def format_score(score: float) -> str:
    """A score in text (`0.45`): two decimals, as the Score cells' number format shows it."""
    return f"{score:.2f}"


_SWAP_SEPARATORS = str.maketrans(",.", ".,")


def _significant(number: Decimal) -> Decimal:
    """`number` to SIGNIFICANT_DIGITS digits, without trailing zeros (1E+3 for 1000)."""
    if number.is_zero():
        return Decimal(0)
    quantum = Decimal(1).scaleb(number.adjusted() - SIGNIFICANT_DIGITS + 1)
    rounded = number.quantize(quantum, rounding=ROUND_HALF_EVEN).normalize()
    return rounded if rounded.as_tuple().exponent <= 0 else rounded.quantize(Decimal(1))  # type: ignore[operator]


def with_unit(style: NumberStyle, unit: str | None) -> NumberStyle:
    """The style with a KPI's Unit added, unless the cell already shows one.

    `%` and currency symbols are written against the number (`78%`, `$47,200`, grouped by
    thousands), words after a space (`3.6 h`, `4.3 of 5`). A percent-formatted cell already
    shows `%` and is left alone.
    """
    unit = (unit or "").strip()
    if not unit or style.shows_unit:
        return style
    if unit in CURRENCY_SYMBOLS:  # money is read in thousands: $47,200
        return replace(style, prefix=unit, thousands=True, code=None)
    if unit == "%":
        return replace(style, suffix="%", code=None)
    return replace(style, suffix=f" {unit}", code=None)


@lru_cache(maxsize=4096)
def pick_style(*styles: NumberStyle | None) -> NumberStyle:
    """The style that tells most, in the order given (Current before Target before Start).

    One item's numbers (value, target, change) are shown alike: a cell with a unit wins over a
    plain one, then one with grouping or fixed decimals, then the first given. Its decimals are
    the fewest any of the cells shows (each number still gets the decimals it needs), so
    `16.5%` beside `15%` does not turn the target into `15.0%`. Remembered: a tab's rows
    combine the same few styles.
    """
    given = [s for s in styles if s is not None]
    chosen = given[0] if given else GENERAL
    for wanted in (lambda s: s.shows_unit, lambda s: not s.is_general):
        found = next((s for s in given if wanted(s)), None)
        if found is not None:
            chosen = found
            break
    fixed = [s.decimals for s in given if s.decimals is not None]
    if chosen.decimals is not None and fixed and min(fixed) < chosen.decimals:
        chosen = replace(chosen, decimals=min(fixed))
    return chosen


# --- number format codes (Excel numFmt, Google numberFormat.pattern) -> style ----------------

_QUOTED = re.compile(r'"([^"]*)"')
_BRACKET = re.compile(r"\[([^\]]*)\]")
_DATE_LETTERS = re.compile(r"[yYdDhHsS]|(?<![A-Za-z])[mM]+(?![A-Za-z])|AM/PM|am/pm")
_PLACEHOLDERS = "0#?"


def style_from_format(code: str | None, *, decimal_comma: bool = False) -> NumberStyle:
    """The style a number format code shows numbers in; General for dates, text and blanks.

    Understands what people and spreadsheet programs put in number formats: `0.0%`,
    `#,##0.00`, `"$"#,##0`, `\\$#,##0`, `[$€-407] #,##0.00`, `#,##0 "h"`, `0.00" pts"`, colour
    and condition sections (`[Red]`, `[>=100]`); the first (positive) section decides.
    """
    if not code or code.strip().casefold() in ("general", "@", "text"):
        return NumberStyle(decimal_comma=decimal_comma)
    section = _first_section(code)
    literal_parts: list[tuple[int, str]] = []
    pattern: list[str] = []
    i = 0
    while i < len(section):
        ch = section[i]
        if ch == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            literal_parts.append((len(pattern), section[i + 1 : end]))
            pattern.append("\x00")
            i = end + 1
        elif ch == "\\" and i + 1 < len(section):
            literal_parts.append((len(pattern), section[i + 1]))
            pattern.append("\x00")
            i += 2
        elif ch == "[":
            end = section.find("]", i)
            end = len(section) if end < 0 else end
            inner = section[i + 1 : end]
            if inner.startswith("$"):
                symbol = inner[1:].split("-", 1)[0]
                literal_parts.append((len(pattern), symbol))
                pattern.append("\x00")
            i = end + 1
        elif ch in "_*":  # padding: `_)` leaves a space, `* ` repeats a character
            i += 2
        else:
            pattern.append(ch)
            i += 1
    bare = "".join(pattern)
    if _DATE_LETTERS.search(bare.replace("\x00", "")) or "E+" in bare.upper():
        return NumberStyle(decimal_comma=decimal_comma)
    first = next((k for k, c in enumerate(bare) if c in _PLACEHOLDERS), None)
    if first is None:
        return NumberStyle(decimal_comma=decimal_comma)
    last = max(k for k, c in enumerate(bare) if c in _PLACEHOLDERS)
    body = bare[first : last + 1]
    prefix = _literal(bare[:first], literal_parts, 0)
    suffix_text = _literal(bare[last + 1 :], literal_parts, last + 1)
    scaled = len(bare[last + 1 :]) - len(bare[last + 1 :].lstrip(","))
    suffix_text = suffix_text.lstrip(",")
    magnitude = ""
    if scaled and _MAGNITUDES.get(suffix_text.strip().casefold()) == 3 * scaled:
        magnitude, suffix_text = suffix_text.strip(), ""  # `0,"k"` shows 21500 as 22k
    percent = "%" in bare
    suffix = suffix_text.replace("%", "", 1) if percent else suffix_text
    if percent and "%" in prefix:
        prefix = prefix.replace("%", "", 1)
    decimals = 0
    if "." in body:
        decimals = sum(1 for c in body.split(".", 1)[1] if c in _PLACEHOLDERS)
    return NumberStyle(
        prefix=prefix,
        suffix=suffix.rstrip(),
        percent=percent,
        decimals=decimals,
        thousands="," in body.split(".", 1)[0],
        magnitude=magnitude,
        decimal_comma=decimal_comma,
        code=code,
    )


def _first_section(code: str) -> str:
    """The positive section of `pos;neg;zero;text`, ignoring `;` inside quotes."""
    quoted = False
    for i, ch in enumerate(code):
        if ch == '"':
            quoted = not quoted
        elif ch == ";" and not quoted:
            return code[:i]
    return code


def _literal(part: str, literals: list[tuple[int, str]], offset: int) -> str:
    """The text a stretch of a format code prints: quoted and escaped parts put back."""
    out = []
    pending = iter(text for pos, text in literals if offset <= pos < offset + len(part))
    for ch in part:
        if ch == "\x00":
            out.append(next(pending, ""))
        elif ch not in "()":
            out.append(ch)
    return "".join(out)


def number_format_code(style: NumberStyle, value: float | None = None) -> str:
    """A number format code (Excel and Google Sheets syntax) that shows numbers in `style`.

    Used for the History tab's Value and Target cells: the person's own code when the value
    came from a formatted cell, else one built from the typed text (`$612,500` -> `"$"#,##0`).
    With `value`, the code has the decimals that value needs (a spreadsheet's format rounds:
    0.115 under `0%` would show 12%), like `format_number`.
    """
    if value is not None and math.isfinite(value) and not style.is_general:
        places = _shown(value, style)[1]
        if places > (style.decimals or 0):
            style = replace(style, decimals=places, code=None)
    if style.code:
        return style.code
    if style.is_general:
        return "General"
    digits = "#,##0" if style.thousands else "0"
    if style.decimals:
        digits += "." + "0" * style.decimals
    if style.magnitude:
        digits += "," * (_MAGNITUDES[style.magnitude.casefold()] // 3)
    quoted_prefix = f'"{style.prefix}"' if style.prefix else ""
    after = style.magnitude + style.suffix
    quoted_suffix = f'"{after}"' if after else ""
    return f"{quoted_prefix}{digits}{'%' if style.percent else ''}{quoted_suffix}"
