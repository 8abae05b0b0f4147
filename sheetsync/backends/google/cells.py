"""Cell values, number formats and colours converted to and from the Sheets API's shapes
(ExtendedValue, CellFormat, Color), and the value key used to compare two cells."""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from sheetsync.backends.base import (
    CellValue,
)
from sheetsync.core.model import Colour

ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIV_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "#LOADING",
}
_EPOCH = datetime(1899, 12, 30)


ValueKey = tuple[str, Any] | None
"""A cell value reduced to what matters for comparing it: ("n", 1.0), ("s", "x"), ..."""


def value_key(value: Mapping[str, Any] | None) -> ValueKey:
    if not value:
        return None
    if "numberValue" in value:
        return ("n", float(value["numberValue"]))
    if "stringValue" in value:
        return ("s", value["stringValue"]) if value["stringValue"] != "" else None
    if "boolValue" in value:
        return ("b", bool(value["boolValue"]))
    if "formulaValue" in value:
        return ("f", value["formulaValue"])
    if "errorValue" in value:
        return ("e", value["errorValue"].get("type"))
    return None


def is_formula(key: ValueKey) -> bool:
    return key is not None and key[0] == "f"


_ENTERED = {"n": "numberValue", "s": "stringValue", "b": "boolValue", "f": "formulaValue"}


def entered_value(key: ValueKey) -> dict[str, Any] | None:
    """The ExtendedValue a cell read as `key` was entered with, to write it back as it was (an
    error shown by a cell is the result of its formula; a literal one cannot be written)."""
    if key is None or key[0] not in _ENTERED:
        return None
    return {_ENTERED[key[0]]: key[1]}


def python_value(value: Mapping[str, Any] | None) -> CellValue:
    """An effective value as the core wants it: numbers as numbers, errors as `#DIV/0!`."""
    if not value:
        return None
    if "numberValue" in value:
        return value["numberValue"]
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", "ERROR"), "#ERROR!")
    return None


def hex_colour(colour: Mapping[str, Any] | None) -> str | None:
    if colour is None:
        return None
    text = "".join(
        f"{max(0, min(255, round(float(colour.get(k, 0)) * 255))):02X}"
        for k in ("red", "green", "blue")
    )
    return None if text == "FFFFFF" else text


def api_colour(fill: Colour | str) -> dict[str, float]:
    text = fill.value if isinstance(fill, Colour) else fill
    return {k: int(text[i : i + 2], 16) / 255 for k, i in (("red", 0), ("green", 2), ("blue", 4))}


@functools.lru_cache(maxsize=256)
def fill_colour(fill: str) -> dict[str, float]:
    """A cell fill (`RRGGBB`) as a Color, each part to 3 decimals and 0 left out: 3 decimals
    tell the 256 levels of a part apart (they are 1/255 = 0.0039 apart), so the fill reads
    back as the same `RRGGBB`, in half the bytes. Built once per colour: do not change it."""
    found: dict[str, float] = {}
    for name, at in (("red", 0), ("green", 2), ("blue", 4)):
        level = int(fill[at : at + 2], 16)
        if level:
            found[name] = 1 if level == 255 else round(level / 255, 3)
    return found


_FORMATS: dict[tuple[str | None, str | None], dict[str, Any] | None] = {}


def cell_format(fill: str | None, number_format: str | None) -> dict[str, Any] | None:
    """The userEnteredFormat for a fill and number format, built once per pair (read-only),
    with the colour in full (what puts back a person's cell exactly as it was)."""
    key = (fill, number_format)
    try:
        return _FORMATS[key]
    except KeyError:
        pass
    fmt: dict[str, Any] = {}
    if fill is not None:
        fmt["backgroundColor"] = api_colour(fill)
    if number_format is not None:
        fmt["numberFormat"] = number_format_of(number_format)
    result = fmt or None
    if len(_FORMATS) < 4096:
        _FORMATS[key] = result
    return result


def serial_number(value: date | datetime) -> float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float((value - _EPOCH.date()).days)


def number_format_of(pattern: str) -> dict[str, str]:
    """The NumberFormat of a format code: its type (percent, date, date-time or number) and
    the code as its pattern."""
    lowered = re.sub(r'"[^"]*"', "", pattern).lower()  # `0" days"` is a number, not a date
    if "%" in pattern:
        kind = "PERCENT"
    elif "y" in lowered or "d" in lowered:
        kind = "DATE_TIME" if "h" in lowered else "DATE"
    else:
        kind = "NUMBER"
    return {"type": kind, "pattern": pattern}


def _payload(value: object) -> tuple[dict[str, Any] | None, str | None]:
    """A value as an ExtendedValue to write (never a formula), plus the format a date needs."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None, None
        return {"numberValue": value}, None
    if isinstance(value, datetime):
        return {"numberValue": serial_number(value)}, "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, date):
        return {"numberValue": serial_number(value)}, "yyyy-mm-dd"
    return {"stringValue": fit_text(str(value))}, None


_NOTHING: tuple[None, None, None] = (None, None, None)

MAX_CELL_TEXT = 50_000
"""The most characters a Google Sheets cell holds: a longer value fails the whole batch."""


def fit_text(text: str) -> str:
    """`text`, cut to what a cell holds with a marker saying so (the same cut every run, so
    the next run finds it already written)."""
    if len(text) <= MAX_CELL_TEXT:
        return text
    marker = f" … [cut by sheetsync: {len(text):,} characters; a Google Sheets cell holds 50,000]"
    return text[: MAX_CELL_TEXT - len(marker)] + marker


def desired_value(value: object) -> tuple[dict[str, Any] | None, str | None, ValueKey]:
    """`_payload(value)` plus `value_key` of that payload, with fast paths for common types."""
    kind = type(value)
    if kind is str:
        if value == "":
            return _NOTHING
        if len(value) > MAX_CELL_TEXT:  # type: ignore[arg-type]
            value = fit_text(value)  # type: ignore[arg-type]
        return {"stringValue": value}, None, ("s", value)
    if value is None:
        return _NOTHING
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            return _NOTHING
        return {"numberValue": value}, None, ("n", value)
    if kind is int:
        return {"numberValue": value}, None, ("n", float(value))  # type: ignore[arg-type]
    payload, fmt = _payload(value)
    return payload, fmt, value_key(payload)


def desired_key(value: object) -> tuple[ValueKey, str | None]:
    """`desired_value(value)` without the payload: the value key and number format a cell
    must have to need no write (an owned tab compares every cell; few need writing)."""
    kind = type(value)
    if kind is str:
        if len(value) > MAX_CELL_TEXT:  # type: ignore[arg-type]
            value = fit_text(value)  # type: ignore[arg-type]
        return (("s", value) if value else None), None
    if value is None:
        return None, None
    if kind is float:
        return (("n", value) if math.isfinite(value) else None), None  # type: ignore[arg-type]
    if kind is int:
        return ("n", float(value)), None  # type: ignore[arg-type]
    _, fmt, key = desired_value(value)
    return key, fmt
