"""Reading back the cells of sheetsync's own tabs, whatever type the backend returns them as.

Excel hands back dates as `datetime`, Google (unformatted values) as serial day numbers counted
from 1899-12-30, and a person may have typed text. These helpers accept all of those and return
None for what they cannot read, so one odd cell never stops a run. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime, timedelta

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of spreadsheet serial dates (Google Sheets, and Excel from 1900-03-01 on)."""

_MAX_SERIAL = 2958465  # 9999-12-31


def cell_text(value: object) -> str:
    """A cell as trimmed text ("" for blank); whole floats lose their ".0"."""
    if type(value) is str:  # most cells: text needs no other check
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value).strip()


def cell_number(value: object) -> float | None:
    """A numeric cell, or numeric text such as "1,250.5"; None when blank or not a number."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        text = value.strip().replace(",", "").replace("\u00a0", "").replace(" ", "")
        if not text:
            return None
        try:
            number = float(text)
        except ValueError:
            return None
    else:
        return None
    return number if math.isfinite(number) else None


def _from_serial(value: float) -> datetime | None:
    if not 0 < value <= _MAX_SERIAL:
        return None
    return SERIAL_EPOCH + timedelta(seconds=round(value * 86400))


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}")


def cell_datetime(value: object) -> datetime | None:
    """A date-time cell: datetime, date (midnight), ISO text or a spreadsheet serial number."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=None, microsecond=0)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return _from_serial(float(value))
    if isinstance(value, str):
        text = value.strip()
        if _ISO_DATE.match(text):
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                try:
                    parsed = datetime.fromisoformat(text[:10])
                except ValueError:
                    return None
            return parsed.replace(tzinfo=None, microsecond=0)
        number = cell_number(text)
        return _from_serial(number) if number is not None else None
    return None


def cell_date(value: object) -> date | None:
    """A date cell: date, datetime, ISO text ("2026-01-05") or a spreadsheet serial number."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    moment = cell_datetime(value)
    return moment.date() if moment else None
