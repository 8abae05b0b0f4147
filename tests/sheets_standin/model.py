"""The spreadsheets the Sheets API stand-in keeps in memory, and the API operations on them.

Cells are stored in the API's own shape (`CellData`: `userEnteredValue`, `effectiveValue`,
`userEnteredFormat`), so what goes in through `batchUpdate` comes back out of `spreadsheets.get`
exactly as the real service would hand it back. Everything here is plain data and pure
functions of it; `server.py` puts HTTP, auth and fault injection around it.

Cell dicts are never mutated in place: a write builds a new dict. That lets `Spreadsheet.clone`
copy only the per-sheet index, so `batchUpdate` can apply every request to a clone and swap it
in only when all of them succeeded (the API applies a batch atomically).

There is deliberately no formula engine: a formula's effective value is whatever the test
harness says it is (`Formula("=B2*2", effective=4)`), or absent.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from tests.sheets_standin.charts import CHART_REQUESTS

Cell = dict[str, Any]
"""One cell as the API spells it (`CellData`). Treated as immutable once stored."""

EPOCH = datetime(1899, 12, 30)
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
DEFAULT_MESSAGES = {
    400: "Request contains an invalid argument.",
    401: (
        "Request had invalid authentication credentials. Expected OAuth 2 access token, "
        "login cookie or other valid authentication credential."
    ),
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: (
        "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per "
        "minute per user' of service 'sheets.googleapis.com'."
    ),
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "The request timed out.",
}
ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIV_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "Loading...",
}
CELL_FIELDS = {
    "userEnteredValue",
    "userEnteredFormat",
    "note",
    "hyperlink",
    "textFormatRuns",
    "dataValidation",
}
"""CellData fields a request may write; effectiveValue and the like are output only."""
SPREADSHEET_FIELDS = {
    "spreadsheetId",
    "properties",
    "sheets",
    "namedRanges",
    "spreadsheetUrl",
    "developerMetadata",
    "dataSources",
    "dataSourceSchedules",
}
MAX_CELL_CHARACTERS = 50_000
"""The most characters Google Sheets holds in one cell; a longer value fails the request."""
BATCH_UPDATE_FIELDS = {"spreadsheetId", "replies", "updatedSpreadsheet"}
"""The fields of a BatchUpdateSpreadsheetResponse (what a `fields` mask on batchUpdate names)."""


class ApiError(Exception):
    """An error answer, rendered like Google's: `{"error": {"code", "message", "status"}}`."""

    def __init__(
        self,
        code: int,
        message: str | None = None,
        *,
        status: str | None = None,
        details: list[dict[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.code = code
        self.message = message or DEFAULT_MESSAGES.get(code, "Error")
        self.status = status or STATUS_NAMES.get(code, "UNKNOWN")
        self.details = details
        self.headers = dict(headers or {})
        super().__init__(f"{code} {self.status}: {self.message}")

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(message: str) -> ApiError:
    return ApiError(400, message)


@dataclass(frozen=True)
class Formula:
    """A formula to put in a cell from the test harness, with the value it is taken to show."""

    text: str
    effective: Any = None


# --- values ------------------------------------------------------------------------------


def serial(value: date | datetime) -> float | int:
    """A date as the spreadsheet serial number (days since 1899-12-30)."""
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return (value - EPOCH.date()).days


def from_serial(number: float) -> datetime:
    return EPOCH + timedelta(days=float(number))


def extended_value(value: Any) -> dict[str, Any] | None:
    """A python value as an `ExtendedValue` (None for an empty cell)."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return {"errorValue": {"type": "NUM", "message": "Not a finite number"}}
        return {"numberValue": value}
    if isinstance(value, date):
        return {"numberValue": serial(value)}
    return {"stringValue": str(value)}


def python_value(value: Mapping[str, Any] | None) -> Any:
    """An `ExtendedValue` as a python value (errors as their `#DIV/0!` text)."""
    if not value:
        return None
    if "numberValue" in value:
        return value["numberValue"]
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return value["boolValue"]
    if "formulaValue" in value:
        return value["formulaValue"]
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", "ERROR"), "#ERROR!")
    return None


def date_format(value: date | datetime) -> dict[str, str]:
    if isinstance(value, datetime):
        return {"type": "DATE_TIME", "pattern": "yyyy-mm-dd hh:mm:ss"}
    return {"type": "DATE", "pattern": "yyyy-mm-dd"}


def make_cell(value: Any, *, base: Cell | None = None) -> Cell:
    """A cell holding `value` entered RAW (a `Formula` is a formula); `base` gives the format."""
    cell: Cell = {
        k: v for k, v in (base or {}).items() if k not in ("userEnteredValue", "effectiveValue")
    }
    if isinstance(value, Formula):
        cell["userEnteredValue"] = {"formulaValue": value.text}
        effective = extended_value(value.effective)
        if effective is not None:
            cell["effectiveValue"] = effective
        return cell
    entered = extended_value(value)
    if entered is not None:
        cell["userEnteredValue"] = entered
        cell["effectiveValue"] = dict(entered)
        if isinstance(value, date) and "numberFormat" not in cell.get("userEnteredFormat", {}):
            cell["userEnteredFormat"] = {
                **cell.get("userEnteredFormat", {}),
                "numberFormat": date_format(value),
            }
    return cell


_NUMBER_RE = re.compile(r"^[+-]?(\d{1,3}(,\d{3})+|\d+)?(\.\d+)?([eE][+-]?\d+)?$")
_ISO_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def user_entered_cell(value: Any, *, base: Cell | None = None) -> Cell:
    """A cell as if a person typed `value` (valueInputOption=USER_ENTERED).

    `=...` becomes a formula (with no effective value: there is no formula engine), numbers,
    percentages, TRUE/FALSE and ISO dates are parsed, and a leading apostrophe forces text.
    """
    if not isinstance(value, str):
        return make_cell(value, base=base)
    text = value
    if text.startswith("="):
        return make_cell(Formula(text), base=base)
    if text.startswith("'"):
        return make_cell(text[1:], base=base)
    stripped = text.strip()
    if stripped.upper() in ("TRUE", "FALSE"):
        return make_cell(stripped.upper() == "TRUE", base=base)
    if stripped.endswith("%") and stripped[:-1] and _NUMBER_RE.match(stripped[:-1].strip()):
        cell = make_cell(float(stripped[:-1].replace(",", "")) / 100, base=base)
        fmt = cell.get("userEnteredFormat", {})
        if "numberFormat" not in fmt:
            cell["userEnteredFormat"] = {
                **fmt,
                "numberFormat": {"type": "PERCENT", "pattern": "0%"},
            }
        return cell
    if stripped and any(ch.isdigit() for ch in stripped) and _NUMBER_RE.match(stripped):
        number = float(stripped.replace(",", ""))
        return make_cell(
            int(number) if number.is_integer() and "." not in stripped else number, base=base
        )
    match = _ISO_DATE_RE.match(stripped)
    if match:
        try:
            return make_cell(date(*map(int, match.groups())), base=base)
        except ValueError:
            pass
    return make_cell(text, base=base)


def format_number(number: float, fmt: Mapping[str, Any] | None) -> str:
    fmt = fmt or {}
    kind = fmt.get("type", "")
    pattern = fmt.get("pattern", "")
    if kind in ("DATE", "DATE_TIME", "TIME") or ("yy" in pattern and "d" in pattern):
        moment = from_serial(number)
        return moment.strftime("%Y-%m-%d %H:%M:%S" if kind == "DATE_TIME" else "%Y-%m-%d")
    decimals_match = re.search(r"\.(0+)", pattern)
    decimals = len(decimals_match.group(1)) if decimals_match else 0
    if kind == "PERCENT" or pattern.endswith("%"):
        return f"{number * 100:.{decimals}f}%"
    if pattern and re.fullmatch(r"[#,0]*0(\.0+)?", pattern):
        return f"{number:,.{decimals}f}" if "," in pattern else f"{number:.{decimals}f}"
    if float(number).is_integer():
        return str(int(number))
    return format(number, ".10g")


def render(cell: Cell | None, option: str) -> Any:
    """A cell as `values.get` renders it, or None when it shows nothing."""
    if not cell:
        return None
    if option == "FORMULA":
        entered = cell.get("userEnteredValue")
        if entered and "formulaValue" in entered:
            return entered["formulaValue"]
    effective = cell.get("effectiveValue")
    if not effective:
        return None
    if option in ("UNFORMATTED_VALUE", "FORMULA"):
        return python_value(effective)
    if "numberValue" in effective:
        return format_number(
            effective["numberValue"], cell.get("userEnteredFormat", {}).get("numberFormat")
        )
    if "boolValue" in effective:
        return "TRUE" if effective["boolValue"] else "FALSE"
    return python_value(effective)


# --- A1 notation -----------------------------------------------------------------------------

_CELL_RE = re.compile(r"^\$?([A-Za-z]*)\$?(\d*)$")


def column_index(letters: str) -> int:
    """`A` -> 0, `AA` -> 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def column_letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def quote_title(title: str) -> str:
    looks_like_a_cell = re.fullmatch(r"[A-Za-z]{1,3}\d+|[Rr]\d*[Cc]\d*", title)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not looks_like_a_cell:
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class Area:
    """A rectangle on one sheet, 0-based and half open; None ends are unbounded."""

    sheet_id: int
    start_row: int = 0
    end_row: int | None = None
    start_col: int = 0
    end_col: int | None = None

    def clamp(self, sheet: Sheet) -> Area:
        return Area(
            self.sheet_id,
            min(self.start_row, sheet.row_count),
            sheet.row_count if self.end_row is None else min(self.end_row, sheet.row_count),
            min(self.start_col, sheet.col_count),
            sheet.col_count if self.end_col is None else min(self.end_col, sheet.col_count),
        )

    def a1(self, sheet: Sheet) -> str:
        area = self.clamp(sheet)
        assert area.end_row is not None and area.end_col is not None
        if area.end_row <= area.start_row or area.end_col <= area.start_col:
            return quote_title(sheet.title)
        start = f"{column_letters(area.start_col)}{area.start_row + 1}"
        end = f"{column_letters(area.end_col - 1)}{area.end_row}"
        return f"{quote_title(sheet.title)}!{start}" + ("" if start == end else f":{end}")


def split_sheet_name(text: str) -> tuple[str | None, str]:
    """`'My tab'!A1:B2` -> ("My tab", "A1:B2"); `A1:B2` -> (None, "A1:B2")."""
    if text.startswith("'"):
        i, name = 1, []
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(text[i])
            i += 1
        else:
            raise bad_request(f"Unable to parse range: {text}")
        rest = text[i + 1 :]
        if rest == "":
            return "".join(name), ""
        if not rest.startswith("!"):
            raise bad_request(f"Unable to parse range: {text}")
        return "".join(name), rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    return None, text


def parse_cells(cells: str, sheet_id: int) -> Area | None:
    """The cell part of an A1 range (`A1`, `A1:C`, `A:C`, `2:5`), or None if it is not one."""
    left, sep, right = cells.partition(":")
    lm, rm = _CELL_RE.match(left), _CELL_RE.match(right if sep else left)
    if not lm or not rm or not left or (sep and not right):
        return None
    (lc, lr), (rc, rr) = lm.groups(), rm.groups()
    if not sep and not (lc and lr):
        return None
    if (lr and int(lr) < 1) or (rr and int(rr) < 1):
        return None
    start_col = column_index(lc) if lc else 0
    end_col = column_index(rc) + 1 if rc else None
    start_row = int(lr) - 1 if lr else 0
    end_row = int(rr) if rr else None
    if not lc and not lr:
        return None
    if end_col is not None and end_col <= start_col:
        start_col, end_col = end_col - 1, start_col + 1
    if end_row is not None and end_row <= start_row:
        start_row, end_row = end_row - 1, start_row + 1
    return Area(sheet_id, start_row, end_row, start_col, end_col)


# --- spreadsheets -----------------------------------------------------------------------------


@dataclass
class Sheet:
    sheet_id: int
    title: str
    row_count: int = 1000
    col_count: int = 26
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)
    """Other sheet properties set through updateSheetProperties (frozenRowCount, tabColor...)."""
    column_sizes: dict[int, int] = field(default_factory=dict)
    row_sizes: dict[int, int] = field(default_factory=dict)
    dimension_metadata: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)
    """("ROWS" | "COLUMNS", index) -> the developer metadata on that row or column (each without
    its `location`, which is computed from where the row or column is now)."""
    charts: dict[int, dict[str, Any]] = field(default_factory=dict)
    """chart ID -> the `EmbeddedChart` placed over this sheet."""

    def clone(self) -> Sheet:
        return Sheet(
            self.sheet_id,
            self.title,
            self.row_count,
            self.col_count,
            dict(self.cells),
            copy.deepcopy(self.extra),
            dict(self.column_sizes),
            dict(self.row_sizes),
            copy.deepcopy(self.dimension_metadata),
            copy.deepcopy(self.charts),
        )

    def metadata_at(self, dimension: str, index: int) -> list[dict[str, Any]]:
        """The developer metadata on one row or column, with its location, as the API shows it."""
        return [
            {
                **entry,
                "location": {
                    "locationType": "ROW" if dimension == "ROWS" else "COLUMN",
                    "dimensionRange": {
                        "sheetId": self.sheet_id,
                        "dimension": dimension,
                        "startIndex": index,
                        "endIndex": index + 1,
                    },
                },
            }
            for entry in self.dimension_metadata.get((dimension, index), [])
        ]

    def _move_metadata(self, dimension: str, start: int, shift: int, drop_until: int) -> None:
        """Metadata moves with its row or column; on a deleted one it is deleted too."""
        moved: dict[tuple[str, int], list[dict[str, Any]]] = {}
        for (dim, index), entries in self.dimension_metadata.items():
            if dim == dimension and start <= index < drop_until:
                continue
            if dim == dimension and index >= start:
                index += shift
            moved[(dim, index)] = entries
        self.dimension_metadata = moved

    def properties(self, index: int) -> dict[str, Any]:
        grid: dict[str, Any] = {"rowCount": self.row_count, "columnCount": self.col_count}
        grid.update(self.extra.get("gridProperties", {}))
        props = {k: v for k, v in self.extra.items() if k != "gridProperties"}
        return {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
            **props,
        }

    def get(self, row: int, col: int) -> Cell | None:
        return self.cells.get((row, col))

    def put(self, row: int, col: int, cell: Cell | None) -> None:
        if cell:
            self.cells[(row, col)] = cell
        else:
            self.cells.pop((row, col), None)

    def extent(self) -> tuple[int, int]:
        """(rows, columns) up to the last cell holding anything."""
        if not self.cells:
            return 0, 0
        return max(r for r, _ in self.cells) + 1, max(c for _, c in self.cells) + 1

    def last_value_row(self) -> int:
        """Rows up to the last one holding a value: where appendCells and values.append add."""
        rows = [r for (r, _), cell in self.cells.items() if cell.get("userEnteredValue")]
        return max(rows) + 1 if rows else 0

    def check_fits(self, area: Area) -> None:
        if (area.end_row or 0) > self.row_count or (area.end_col or 0) > self.col_count:
            end = f"{column_letters((area.end_col or 1) - 1)}{area.end_row or 1}"
            raise bad_request(
                f"Range ({quote_title(self.title)}!{end}) exceeds grid limits. "
                f"Max rows: {self.row_count}, max columns: {self.col_count}"
            )

    def insert(self, dimension: str, start: int, count: int) -> None:
        shifted: dict[tuple[int, int], Cell] = {}
        for (r, c), cell in self.cells.items():
            if dimension == "ROWS" and r >= start:
                r += count
            elif dimension == "COLUMNS" and c >= start:
                c += count
            shifted[(r, c)] = cell
        self.cells = shifted
        self._move_metadata(dimension, start, count, start)
        if dimension == "ROWS":
            self.row_count += count
        else:
            self.col_count += count

    def delete(self, dimension: str, start: int, end: int) -> None:
        count = end - start
        kept: dict[tuple[int, int], Cell] = {}
        for (r, c), cell in self.cells.items():
            index = r if dimension == "ROWS" else c
            if start <= index < end:
                continue
            if index >= end:
                r, c = (r - count, c) if dimension == "ROWS" else (r, c - count)
            kept[(r, c)] = cell
        self.cells = kept
        self._move_metadata(dimension, end, -count, end)
        self.dimension_metadata = {
            key: entries
            for key, entries in self.dimension_metadata.items()
            if not (key[0] == dimension and start <= key[1] < end)
        }
        if dimension == "ROWS":
            self.row_count -= count
        else:
            self.col_count -= count

    def resize(self, rows: int, cols: int) -> None:
        self.row_count, self.col_count = rows, cols
        self.cells = {(r, c): v for (r, c), v in self.cells.items() if r < rows and c < cols}

    def grid_data(self, area: Area) -> dict[str, Any]:
        """`GridData` for `area`, with trailing empty rows and cells left out like the API does."""
        area = area.clamp(self)
        assert area.end_row is not None and area.end_col is not None
        ext_rows, ext_cols = self.extent()
        last_row = min(area.end_row, ext_rows)
        last_col = min(area.end_col, ext_cols)
        rows: list[dict[str, Any]] = []
        for r in range(area.start_row, last_row):
            values = [self.cells.get((r, c), {}) for c in range(area.start_col, last_col)]
            while values and not values[-1]:
                values.pop()
            rows.append({"values": values} if values else {})
        while rows and not rows[-1]:
            rows.pop()
        data: dict[str, Any] = {}
        if area.start_row:
            data["startRow"] = area.start_row
        if area.start_col:
            data["startColumn"] = area.start_col
        if rows:
            data["rowData"] = rows
        data["rowMetadata"] = [
            self._dimension_properties("ROWS", r, self.row_sizes.get(r, 21))
            for r in range(area.start_row, area.end_row)
        ]
        data["columnMetadata"] = [
            self._dimension_properties("COLUMNS", c, self.column_sizes.get(c, 100))
            for c in range(area.start_col, area.end_col)
        ]
        return data

    def _dimension_properties(self, dimension: str, index: int, size: int) -> dict[str, Any]:
        """`DimensionProperties` of one row or column: its size and developer metadata."""
        metadata = self.metadata_at(dimension, index)
        return (
            {"pixelSize": size, "developerMetadata": metadata} if metadata else {"pixelSize": size}
        )


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet] = field(default_factory=list)
    shared_with: set[str] | None = None
    """Emails allowed in; None means anyone holding a valid token."""
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    last_metadata_id: int = 0
    """The last `metadataId` handed out: IDs are unique in a spreadsheet."""

    def clone(self) -> Spreadsheet:
        return Spreadsheet(
            self.spreadsheet_id,
            self.title,
            [s.clone() for s in self.sheets],
            None if self.shared_with is None else set(self.shared_with),
            self.locale,
            self.time_zone,
            self.last_metadata_id,
        )

    @property
    def url(self) -> str:
        return f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"

    def find(self, title: str) -> Sheet | None:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        folded = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == folded), None)

    def sheet(self, title: str) -> Sheet:
        found = self.find(title)
        if found is None:
            raise KeyError(f"no tab {title!r} in {self.title!r}")
        return found

    def by_id(self, sheet_id: Any, where: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.sheet_id == sheet_id:
                return sheet
        raise bad_request(f"Invalid {where}: No grid with id: {sheet_id}")

    def parse_range(self, text: str) -> tuple[Sheet, Area]:
        """An A1 range (`'Tab name'!A1:C`, `Tab`, `A1:B2` on the first tab) on this spreadsheet."""
        name, cells = split_sheet_name(text.strip())
        if name is not None:
            sheet = self.find(name)
            if sheet is None:
                raise bad_request(f"Unable to parse range: {text}")
            if not cells:
                return sheet, Area(sheet.sheet_id)
            area = parse_cells(cells, sheet.sheet_id)
            if area is None:
                raise bad_request(f"Unable to parse range: {text}")
            return sheet, area
        sheet = self.find(cells)
        if sheet is not None:
            return sheet, Area(sheet.sheet_id)
        if not self.sheets:
            raise bad_request(f"Unable to parse range: {text}")
        area = parse_cells(cells, self.sheets[0].sheet_id)
        if area is None:
            raise bad_request(f"Unable to parse range: {text}")
        return self.sheets[0], area

    def resource(self, *, include_grid: bool, ranges: Iterable[str] = ()) -> dict[str, Any]:
        """The `Spreadsheet` resource `spreadsheets.get` returns (before any field mask)."""
        ranges = list(ranges)
        wanted: dict[int, list[Area]] = {}
        for text in ranges:
            sheet, area = self.parse_range(text)
            wanted.setdefault(sheet.sheet_id, []).append(area)
        sheets = []
        for index, sheet in enumerate(self.sheets):
            if ranges and sheet.sheet_id not in wanted:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties(index)}
            if include_grid:
                areas = wanted.get(sheet.sheet_id) or [Area(sheet.sheet_id)]
                entry["data"] = [sheet.grid_data(area) for area in areas]
            if sheet.charts:
                entry["charts"] = [copy.deepcopy(c) for _, c in sorted(sheet.charts.items())]
            sheets.append(entry)
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
            },
            "sheets": sheets,
            "spreadsheetUrl": self.url,
        }


# --- field masks --------------------------------------------------------------------------


_MASK_NAME = re.compile(r"[A-Za-z0-9_*]+(\.[A-Za-z0-9_*]+)*")


def parse_mask(mask: str) -> dict[str, Any] | None:
    """`a,b(c,d.e)` -> {"a": None, "b": {"c": None, "d": {"e": None}}}; None selects everything."""
    mask = mask.replace(" ", "")
    if mask in ("", "*"):
        return None
    tree, pos = _parse_mask_list(mask, 0)
    if pos != len(mask):
        raise bad_request(f"Invalid field selection {mask}")
    return tree


def _parse_mask_list(mask: str, pos: int) -> tuple[dict[str, Any], int]:
    tree: dict[str, Any] = {}
    while True:
        match = _MASK_NAME.match(mask, pos)
        if not match:
            raise bad_request(f"Invalid field selection {mask}")
        path, pos = match.group(0).split("."), match.end()
        sub: dict[str, Any] | None = None
        if pos < len(mask) and mask[pos] == "(":
            sub, pos = _parse_mask_list(mask, pos + 1)
            if pos >= len(mask) or mask[pos] != ")":
                raise bad_request(f"Invalid field selection {mask}")
            pos += 1
        for name in reversed(path[1:]):
            sub = {name: sub}
        _merge_mask(tree, path[0], sub)
        if pos < len(mask) and mask[pos] == ",":
            pos += 1
            continue
        return tree, pos


def _merge_mask(tree: dict[str, Any], name: str, sub: dict[str, Any] | None) -> None:
    if name in tree and tree[name] is None:
        return
    if sub is None or name not in tree:
        tree[name] = sub
        return
    for key, value in sub.items():
        _merge_mask(tree[name], key, value)


def apply_mask(value: Any, tree: dict[str, Any] | None) -> Any:
    """Keep only the fields `tree` selects; lists apply it to each element.

    A message selected by a sub-field none of which it has (`userEnteredValue.formulaValue` on
    a plain number) is left out, not answered as `{}`: a partial response carries only what
    the mask selected. List elements keep their places (an empty cell stays `{}`).
    """
    if tree is None or "*" in tree:
        return value
    if isinstance(value, list):
        return [apply_mask(item, tree) for item in value]
    if isinstance(value, dict):
        kept = {}
        for key, sub in tree.items():
            if key not in value:
                continue
            masked = apply_mask(value[key], sub)
            if sub is not None and masked == {} and value[key]:
                continue
            kept[key] = masked
        return kept
    return value


def mask_paths(mask: str) -> list[list[str]]:
    """`a,b(c)` -> [["a"], ["b", "c"]]: the dotted paths a mask names."""
    tree = parse_mask(mask)
    if tree is None:
        return [["*"]]

    def walk(node: dict[str, Any], prefix: list[str]) -> Iterator[list[str]]:
        for key, sub in node.items():
            if sub is None:
                yield [*prefix, key]
            else:
                yield from walk(sub, [*prefix, key])

    return list(walk(tree, []))


def _get_path(obj: Mapping[str, Any], path: list[str]) -> tuple[bool, Any]:
    node: Any = obj
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return False, None
        node = node[key]
    return True, node


def _set_path(obj: dict[str, Any], path: list[str], present: bool, value: Any) -> None:
    node = obj
    trail = []
    for key in path[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            if not present:
                return
            child = {}
        child = dict(child)
        node[key] = child
        trail.append((node, key))
        node = child
    if present:
        node[path[-1]] = copy.deepcopy(value)
    else:
        node.pop(path[-1], None)
        for parent, key in reversed(trail):
            if parent[key]:
                break
            del parent[key]


def _check_extended(value: Any, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, dict) or len(value) != 1:
        raise bad_request(f"Invalid {where}: an ExtendedValue must set exactly one kind of value")
    ((kind, inner),) = value.items()
    if kind == "numberValue" and (isinstance(inner, bool) or not isinstance(inner, int | float)):
        raise bad_request(f"Invalid value at '{where}.numberValue' (TYPE_DOUBLE), {inner!r}")
    if kind in ("stringValue", "formulaValue") and not isinstance(inner, str):
        raise bad_request(f"Invalid value at '{where}.{kind}' (TYPE_STRING), {inner!r}")
    if kind == "boolValue" and not isinstance(inner, bool):
        raise bad_request(f"Invalid value at '{where}.boolValue' (TYPE_BOOL), {inner!r}")
    if kind in ("stringValue", "formulaValue") and len(inner) > MAX_CELL_CHARACTERS:
        raise bad_request(
            f"Invalid {where}: Your input contains more than the maximum of "
            f"{MAX_CELL_CHARACTERS} characters in a single cell."
        )
    if kind not in ("numberValue", "stringValue", "formulaValue", "boolValue", "errorValue"):
        raise bad_request(f"Invalid JSON payload received. Unknown name \"{kind}\" at '{where}'")


def merge_cell(
    old: Cell | None, new: Mapping[str, Any], paths: list[list[str]], where: str
) -> Cell:
    """`old` with the fields named by `paths` taken from `new` (absent in `new` = cleared)."""
    cell: Cell = dict(old or {})
    for path in paths:
        if path == ["*"]:
            names = [[name] for name in CELL_FIELDS]
        else:
            if path[0] not in CELL_FIELDS:
                raise bad_request(
                    f"Invalid {where}: Invalid field mask: {'.'.join(path)} is not a writable field"
                )
            names = [path]
        for name in names:
            present, value = _get_path(new, name)
            if name == ["userEnteredValue"]:
                _check_extended(value, f"{where}.userEnteredValue")
            _set_path(cell, name, present, value)
    if any(path[0] in ("userEnteredValue", "*") for path in paths):
        entered = cell.get("userEnteredValue")
        cell.pop("effectiveValue", None)
        if entered and "formulaValue" not in entered:
            cell["effectiveValue"] = dict(entered)
    return cell


def cell_area(sheet: Sheet, grid_range: Mapping[str, Any]) -> Area:
    area = Area(
        sheet.sheet_id,
        int(grid_range.get("startRowIndex", 0)),
        None if "endRowIndex" not in grid_range else int(grid_range["endRowIndex"]),
        int(grid_range.get("startColumnIndex", 0)),
        None if "endColumnIndex" not in grid_range else int(grid_range["endColumnIndex"]),
    )
    sheet.check_fits(area)
    return area.clamp(sheet)


# --- batchUpdate requests ---------------------------------------------------------------------


def _require_fields(req: Mapping[str, Any], where: str) -> list[list[str]]:
    mask = req.get("fields")
    if not mask:
        raise bad_request(f"Invalid {where}: At least one field must be specified.")
    return mask_paths(mask)


def _write_rows(
    sheet: Sheet,
    start_row: int,
    start_col: int,
    rows: list[Any],
    paths: list[list[str]],
    where: str,
) -> None:
    width = max((len(row.get("values", [])) for row in rows), default=0)
    sheet.check_fits(
        Area(sheet.sheet_id, start_row, start_row + len(rows), start_col, start_col + width)
    )
    for i, row in enumerate(rows):
        for j, data in enumerate(row.get("values", [])):
            r, c = start_row + i, start_col + j
            sheet.put(r, c, merge_cell(sheet.get(r, c), data or {}, paths, where))


def update_cells(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    paths = _require_fields(req, where)
    rows = req.get("rows", [])
    if "start" in req:
        start = req["start"]
        sheet = ss.by_id(start.get("sheetId", 0), where)
        _write_rows(
            sheet,
            int(start.get("rowIndex", 0)),
            int(start.get("columnIndex", 0)),
            rows,
            paths,
            where,
        )
    elif "range" in req:
        sheet = ss.by_id(req["range"].get("sheetId", 0), where)
        area = cell_area(sheet, req["range"])
        assert area.end_row is not None and area.end_col is not None
        for r in range(area.start_row, area.end_row):
            row = (
                rows[r - area.start_row].get("values", []) if r - area.start_row < len(rows) else []
            )
            for c in range(area.start_col, area.end_col):
                data = row[c - area.start_col] if c - area.start_col < len(row) else {}
                sheet.put(r, c, merge_cell(sheet.get(r, c), data or {}, paths, where))
    else:
        raise bad_request(f"Invalid {where}: one of start or range must be set")
    return {}


def repeat_cell(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    paths = _require_fields(req, where)
    sheet = ss.by_id(req.get("range", {}).get("sheetId", 0), where)
    area = cell_area(sheet, req.get("range", {}))
    assert area.end_row is not None and area.end_col is not None
    data = req.get("cell", {})
    for r in range(area.start_row, area.end_row):
        for c in range(area.start_col, area.end_col):
            sheet.put(r, c, merge_cell(sheet.get(r, c), data, paths, where))
    return {}


def append_cells(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    paths = _require_fields(req, where)
    sheet = ss.by_id(req.get("sheetId", 0), where)
    rows = req.get("rows", [])
    start = sheet.last_value_row()
    width = max((len(row.get("values", [])) for row in rows), default=0)
    if start + len(rows) > sheet.row_count:
        sheet.row_count = start + len(rows)
    if width > sheet.col_count:
        sheet.col_count = width
    _write_rows(sheet, start, 0, rows, paths, where)
    return {}


def add_sheet(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    props = dict(req.get("properties", {}))
    title = props.get("title")
    if title is None:
        n = len(ss.sheets) + 1
        while ss.find(f"Sheet{n}"):
            n += 1
        title = f"Sheet{n}"
    if not isinstance(title, str) or not title.strip():
        raise bad_request(f"Invalid {where}: The sheet name must not be empty.")
    if ss.find(title) is not None:
        raise bad_request(
            f'Invalid {where}: A sheet with the name "{title}" already exists. '
            "Please enter another name."
        )
    sheet_id = props.get("sheetId")
    if sheet_id is None:
        sheet_id = max((s.sheet_id for s in ss.sheets), default=0) + 1
    if not isinstance(sheet_id, int) or not 0 <= sheet_id < 2**31:
        raise bad_request(f"Invalid {where}: sheetId must be a non-negative 32-bit integer")
    if any(s.sheet_id == sheet_id for s in ss.sheets):
        raise bad_request(f"Invalid {where}: A sheet with id {sheet_id} already exists.")
    grid = props.get("gridProperties", {})
    sheet = Sheet(
        sheet_id, title, int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26))
    )
    extra_grid = {k: v for k, v in grid.items() if k not in ("rowCount", "columnCount")}
    if extra_grid:
        sheet.extra["gridProperties"] = extra_grid
    for key, value in props.items():
        if key not in ("sheetId", "title", "index", "gridProperties", "sheetType"):
            sheet.extra[key] = value
    index = props.get("index", len(ss.sheets))
    ss.sheets.insert(min(int(index), len(ss.sheets)), sheet)
    return {"addSheet": {"properties": sheet.properties(ss.sheets.index(sheet))}}


def delete_sheet(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    sheet = ss.by_id(req.get("sheetId"), where)
    if len(ss.sheets) == 1:
        raise bad_request(f"Invalid {where}: You can't remove all the sheets in a document.")
    ss.sheets.remove(sheet)
    return {}


def _dimension_range(
    ss: Spreadsheet, rng: Mapping[str, Any], where: str
) -> tuple[Sheet, str, int, int]:
    sheet = ss.by_id(rng.get("sheetId", 0), where)
    dimension = rng.get("dimension")
    if dimension not in ("ROWS", "COLUMNS"):
        raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS")
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    start = int(rng.get("startIndex", 0))
    end = int(rng.get("endIndex", limit))
    if not 0 <= start < end:
        raise bad_request(f"Invalid {where}: startIndex must be less than endIndex")
    return sheet, dimension, start, end


def append_dimension(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    sheet = ss.by_id(req.get("sheetId", 0), where)
    length = int(req.get("length", 0))
    if length <= 0:
        raise bad_request(f"Invalid {where}: length must be greater than zero")
    if req.get("dimension") == "ROWS":
        sheet.row_count += length
    elif req.get("dimension") == "COLUMNS":
        sheet.col_count += length
    else:
        raise bad_request(f"Invalid {where}: dimension must be ROWS or COLUMNS")
    return {}


def insert_dimension(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    rng = req.get("range", {})
    sheet = ss.by_id(rng.get("sheetId", 0), where)
    dimension = rng.get("dimension")
    start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if dimension not in ("ROWS", "COLUMNS") or not 0 <= start < end or start > limit:
        raise bad_request(f"Invalid {where}: invalid range")
    sheet.insert(dimension, start, end - start)
    return {}


def delete_dimension(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension_range(ss, req.get("range", {}), where)
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if end > limit:
        raise bad_request(f"Invalid {where}: range exceeds grid limits")
    sheet.delete(dimension, start, end)
    return {}


def update_sheet_properties(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    props = req.get("properties", {})
    paths = _require_fields(req, where)
    sheet = ss.by_id(props.get("sheetId"), where)
    rows, cols = sheet.row_count, sheet.col_count
    for path in paths:
        present, value = _get_path(props, path)
        if path == ["title"]:
            if not present or not value:
                raise bad_request(f"Invalid {where}: The sheet name must not be empty.")
            other = ss.find(value)
            if other is not None and other is not sheet:
                raise bad_request(
                    f'Invalid {where}: A sheet with the name "{value}" already exists.'
                )
            sheet.title = value
        elif path == ["index"]:
            ss.sheets.remove(sheet)
            ss.sheets.insert(min(int(value or 0), len(ss.sheets)), sheet)
        elif path == ["gridProperties", "rowCount"]:
            rows = int(value or 0)
        elif path == ["gridProperties", "columnCount"]:
            cols = int(value or 0)
        elif path[0] in ("sheetId", "sheetType"):
            raise bad_request(f"Invalid {where}: {path[0]} cannot be changed")
        else:
            _set_path(sheet.extra, path, present, value)
    if rows < 1 or cols < 1:
        raise bad_request(f"Invalid {where}: a sheet needs at least one row and one column")
    sheet.resize(rows, cols)
    return {}


def update_dimension_properties(
    ss: Spreadsheet, req: Mapping[str, Any], where: str
) -> dict[str, Any]:
    sheet, dimension, start, end = _dimension_range(ss, req.get("range", {}), where)
    paths = _require_fields(req, where)
    sizes = sheet.row_sizes if dimension == "ROWS" else sheet.column_sizes
    for path in paths:
        if path == ["pixelSize"]:
            size = req.get("properties", {}).get("pixelSize")
            for i in range(start, end):
                if size is None:
                    sizes.pop(i, None)
                else:
                    sizes[i] = int(size)
    return {}


def create_developer_metadata(
    ss: Spreadsheet, req: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Developer metadata on one row or column (the only locations this stand-in keeps).

    As the API documents it: a key and a visibility are required, a dimension location must be
    a single row or column inside the grid, and a given `metadataId` must be unused.
    """
    meta = dict(req.get("developerMetadata") or {})
    if not meta.get("metadataKey"):
        raise bad_request(f"Invalid {where}: metadataKey is required")
    if meta.get("visibility") not in ("DOCUMENT", "PROJECT"):
        raise bad_request(f"Invalid {where}: visibility must be DOCUMENT or PROJECT")
    rng = (meta.pop("location", None) or {}).get("dimensionRange")
    if not rng:
        raise bad_request(
            f"Invalid {where}: this stand-in keeps developer metadata on rows and columns only"
        )
    sheet, dimension, start, end = _dimension_range(ss, rng, where)
    limit = sheet.row_count if dimension == "ROWS" else sheet.col_count
    if "endIndex" not in rng or end != start + 1 or end > limit:
        raise bad_request(
            f"Invalid {where}: the location must be a single row or column inside the grid"
        )
    taken = {
        entry["metadataId"]
        for other in ss.sheets
        for entries in other.dimension_metadata.values()
        for entry in entries
    }
    if "metadataId" in meta:
        if not isinstance(meta["metadataId"], int) or meta["metadataId"] in taken:
            raise bad_request(f"Invalid {where}: metadataId {meta.get('metadataId')} is taken")
    else:
        ss.last_metadata_id = max([ss.last_metadata_id, *taken]) + 1
        meta["metadataId"] = ss.last_metadata_id
    sheet.dimension_metadata.setdefault((dimension, start), []).append(meta)
    created = sheet.metadata_at(dimension, start)[-1]
    return {"createDeveloperMetadata": {"developerMetadata": created}}


def delete_developer_metadata(
    ss: Spreadsheet, req: Mapping[str, Any], where: str
) -> dict[str, Any]:
    """Delete the developer metadata a `dataFilter.developerMetadataLookup` selects (by
    `metadataId`, or by `metadataKey` and `metadataValue`); the reply lists what was deleted."""
    lookup = (req.get("dataFilter") or {}).get("developerMetadataLookup")
    if not isinstance(lookup, dict) or not lookup:
        raise bad_request(f"Invalid {where}: dataFilter.developerMetadataLookup is required")
    wanted = {k: lookup[k] for k in ("metadataId", "metadataKey", "metadataValue") if k in lookup}
    deleted = []
    for sheet in ss.sheets:
        for key, entries in list(sheet.dimension_metadata.items()):
            dimension, index = key
            located = sheet.metadata_at(dimension, index)
            kept = []
            for entry, shown in zip(entries, located, strict=True):
                if all(entry.get(k) == v for k, v in wanted.items()):
                    deleted.append(shown)
                else:
                    kept.append(entry)
            if kept:
                sheet.dimension_metadata[key] = kept
            else:
                del sheet.dimension_metadata[key]
    return {"deleteDeveloperMetadata": {"deletedDeveloperMetadata": deleted}}


_PASTE_FIELDS = {
    "PASTE_NORMAL": ("userEnteredValue", "userEnteredFormat", "dataValidation", "note"),
    "PASTE_VALUES": ("userEnteredValue",),
    "PASTE_FORMAT": ("userEnteredFormat", "dataValidation"),
}


def copy_paste(ss: Spreadsheet, req: Mapping[str, Any], where: str) -> dict[str, Any]:
    """Copy a range's cells onto another, repeating the source over a larger destination."""
    kind = req.get("pasteType", "PASTE_NORMAL")
    if kind not in _PASTE_FIELDS:
        raise bad_request(f"Invalid {where}: pasteType {kind} is not supported by this stand-in")
    source_sheet = ss.by_id(req.get("source", {}).get("sheetId", 0), where)
    source = cell_area(source_sheet, req.get("source", {}))
    target_sheet = ss.by_id(req.get("destination", {}).get("sheetId", 0), where)
    target = cell_area(target_sheet, req.get("destination", {}))
    assert source.end_row is not None and source.end_col is not None
    assert target.end_row is not None and target.end_col is not None
    height, width = source.end_row - source.start_row, source.end_col - source.start_col
    if height <= 0 or width <= 0:
        return {}
    copied = {
        (r, c): dict(source_sheet.get(source.start_row + r, source.start_col + c) or {})
        for r in range(height)
        for c in range(width)
    }
    names = _PASTE_FIELDS[kind]
    for r in range(target.start_row, max(target.end_row, target.start_row + height)):
        for c in range(target.start_col, max(target.end_col, target.start_col + width)):
            origin = copied[((r - target.start_row) % height, (c - target.start_col) % width)]
            cell = dict(target_sheet.get(r, c) or {})
            for name in names:
                if name in origin:
                    cell[name] = copy.deepcopy(origin[name])
                else:
                    cell.pop(name, None)
            if "userEnteredValue" in names:
                cell.pop("effectiveValue", None)
                if "effectiveValue" in origin:
                    cell["effectiveValue"] = dict(origin["effectiveValue"])
            target_sheet.put(r, c, cell)
    return {}


REQUESTS = {
    "updateCells": update_cells,
    "repeatCell": repeat_cell,
    "appendCells": append_cells,
    "addSheet": add_sheet,
    "deleteSheet": delete_sheet,
    "appendDimension": append_dimension,
    "insertDimension": insert_dimension,
    "deleteDimension": delete_dimension,
    "updateSheetProperties": update_sheet_properties,
    "updateDimensionProperties": update_dimension_properties,
    "createDeveloperMetadata": create_developer_metadata,
    "deleteDeveloperMetadata": delete_developer_metadata,
    "copyPaste": copy_paste,
    **CHART_REQUESTS,
}


def batch_update(
    ss: Spreadsheet, body: Mapping[str, Any], *, include_grid: bool = False
) -> tuple[Spreadsheet, dict[str, Any]]:
    """Apply every request to a copy; return it and the reply, or raise with nothing changed.

    With `includeSpreadsheetInResponse` the reply carries the spreadsheet as updated, limited
    to `responseRanges`, with grid data when `responseIncludeGridData` is true or
    `include_grid` is (a `fields` mask was set: the API then ignores responseIncludeGridData).
    """
    requests = body.get("requests")
    if not isinstance(requests, list) or not requests:
        raise bad_request("Invalid requests: at least one request is required.")
    work = ss.clone()
    replies = []
    for i, request in enumerate(requests):
        if not isinstance(request, dict) or len(request) != 1:
            raise bad_request(f"Invalid requests[{i}]: exactly one kind of request must be set.")
        ((kind, payload),) = request.items()
        handler = REQUESTS.get(kind)
        if handler is None:
            raise bad_request(
                f"Invalid JSON payload received. Unknown name \"{kind}\" at 'requests[{i}]': "
                "Cannot find field."
            )
        replies.append(handler(work, payload, f"requests[{i}].{kind}"))
    reply: dict[str, Any] = {"spreadsheetId": ss.spreadsheet_id, "replies": replies}
    if body.get("includeSpreadsheetInResponse"):
        ranges = body.get("responseRanges") or []
        if not isinstance(ranges, list) or not all(isinstance(r, str) for r in ranges):
            raise bad_request("Invalid responseRanges: expected a list of A1 ranges.")
        # The ranges are resolved on the spreadsheet as updated; one that does not parse fails
        # the whole request, and nothing is applied.
        reply["updatedSpreadsheet"] = work.resource(
            include_grid=include_grid or bool(body.get("responseIncludeGridData")), ranges=ranges
        )
    return work, reply


# --- values API -------------------------------------------------------------------------------


def read_values(
    sheet: Sheet, area: Area, render_option: str, major: str = "ROWS"
) -> list[list[Any]]:
    """`values.get` content: empty cells as "", trailing empty cells and rows left out."""
    area = area.clamp(sheet)
    assert area.end_row is not None and area.end_col is not None
    ext_rows, ext_cols = sheet.extent()
    rows = []
    for r in range(area.start_row, min(area.end_row, ext_rows)):
        row = [
            render(sheet.get(r, c), render_option)
            for c in range(area.start_col, min(area.end_col, ext_cols))
        ]
        while row and row[-1] is None:
            row.pop()
        rows.append(["" if v is None else v for v in row])
    while rows and not rows[-1]:
        rows.pop()
    if major == "COLUMNS":
        width = max((len(r) for r in rows), default=0)
        columns = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
        for column in columns:
            while column and column[-1] == "":
                column.pop()
        rows = columns
    return rows


def write_values(
    sheet: Sheet,
    area: Area,
    values: list[list[Any]],
    input_option: str,
    major: str = "ROWS",
    *,
    grow: bool = False,
) -> dict[str, Any]:
    """`values.update` on one range; returns the `UpdateValuesResponse` counts."""
    if input_option not in ("RAW", "USER_ENTERED"):
        raise bad_request("Invalid valueInputOption: must be RAW or USER_ENTERED")
    if major == "COLUMNS":
        width = max((len(col) for col in values), default=0)
        values = [[col[r] if r < len(col) else None for col in values] for r in range(width)]
    height = len(values)
    width = max((len(row) for row in values), default=0)
    if area.end_row == area.start_row + 1 and area.end_col == area.start_col + 1:
        area = Area(area.sheet_id, area.start_row, None, area.start_col, None)  # an anchor cell
    if area.end_row is not None and height > area.end_row - area.start_row:
        raise bad_request(
            "Requested writing within range, but tried writing to more rows than the range allows."
        )
    if area.end_col is not None and width > area.end_col - area.start_col:
        raise bad_request(
            "Requested writing within range, but tried writing to more columns than "
            "the range allows."
        )
    target = Area(
        sheet.sheet_id,
        area.start_row,
        area.start_row + height,
        area.start_col,
        area.start_col + width,
    )
    if grow:
        sheet.row_count = max(sheet.row_count, target.end_row or 0)
        sheet.col_count = max(sheet.col_count, target.end_col or 0)
    else:
        sheet.check_fits(target)
    convert = user_entered_cell if input_option == "USER_ENTERED" else make_cell
    cells = 0
    for i, row in enumerate(values):
        for j, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, list | dict):
                raise bad_request(
                    f"Invalid values[{i}][{j}]: a cell value must be a number, string or bool"
                )
            r, c = area.start_row + i, area.start_col + j
            sheet.put(r, c, convert(value, base=sheet.get(r, c)))
            cells += 1
    return {
        "updatedRange": target.a1(sheet),
        "updatedRows": height,
        "updatedColumns": width,
        "updatedCells": cells,
    }


def clear_values(sheet: Sheet, area: Area) -> str:
    area = area.clamp(sheet)
    assert area.end_row is not None and area.end_col is not None
    for (r, c), cell in list(sheet.cells.items()):
        if area.start_row <= r < area.end_row and area.start_col <= c < area.end_col:
            sheet.put(
                r,
                c,
                {k: v for k, v in cell.items() if k not in ("userEnteredValue", "effectiveValue")},
            )
    return area.a1(sheet)


def hex_colour(colour: Mapping[str, Any] | None) -> str | None:
    """An API `Color` as `RRGGBB` (None when unset)."""
    if colour is None:
        return None
    return "".join(f"{round(float(colour.get(k, 0)) * 255):02X}" for k in ("red", "green", "blue"))


def api_colour(hex_rgb: str) -> dict[str, float]:
    hex_rgb = hex_rgb.lstrip("#")
    return {
        k: int(hex_rgb[i : i + 2], 16) / 255 for k, i in (("red", 0), ("green", 2), ("blue", 4))
    }
