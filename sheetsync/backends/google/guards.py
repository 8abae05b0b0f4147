"""Re-checking guarded rows before a write: A1 ranges for the guarded cells and comparing
the value read now with the value the plan expects."""

from __future__ import annotations

import math
from datetime import date, datetime

from sheetsync.backends.base import (
    CellValue,
)
from sheetsync.backends.google.cells import serial_number


def quoted_title(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def column_letter(index: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def same_value(now: CellValue, expected: CellValue) -> bool:
    if now is None or now == "":
        return expected is None or expected == ""
    if isinstance(now, bool) or isinstance(expected, bool):
        return now == expected
    if isinstance(now, int | float) and isinstance(expected, int | float):
        return math.isclose(now, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, datetime | date) and isinstance(now, int | float):
        return math.isclose(now, serial_number(expected), abs_tol=1e-9)
    return now == expected
