"""The same story for both backends: build a workbook, run sheetsync, look at the cells.

`ExcelSheets` writes real .xlsx files with XlsxWriter (cached formula results, as Excel saves
them); `GoogleSheets` creates spreadsheets in the local Sheets API stand-in. Both answer the
same questions afterwards: what is in this cell, is it still a formula, what colour is it.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Protocol

import openpyxl
import xlsxwriter

Formula = tuple[str, Any]
"""A cell written as (formula, cached result), e.g. ("=B2*2", 84)."""

NumberFormats = dict[str, dict[str, str]]
"""tab -> cell (A1) -> number format code a person gave the cell, e.g. {"KPIs": {"E2": "0%"}}."""


class Sheets(Protocol):
    kind: str

    def create(
        self,
        name: str,
        tabs: dict[str, list[list[Any]]],
        formats: NumberFormats | None = None,
    ) -> dict[str, Any]:
        """Make a workbook (cells given `formats`); return its [[workbooks]] entry."""

    def values(self, name: str, tab: str) -> list[list[Any]]: ...

    def formula(self, name: str, tab: str, cell: str) -> str | None: ...

    def fill(self, name: str, tab: str, cell: str) -> str | None:
        """Background colour as RRGGBB, or None."""

    def number_format(self, name: str, tab: str, cell: str) -> str | None:
        """The cell's number format code (pattern), None when it has none."""

    def tabs(self, name: str) -> list[str]: ...

    def edit(self, name: str, tab: str, cell: str, value: Any) -> None:
        """A person changes one cell between runs."""

    def config_extra(self) -> str:
        """TOML to append to the config (API URL, credentials)."""

    def snapshot(self, name: str) -> object:
        """Equal snapshots mean nothing was written between them."""


def _col_row(cell: str) -> tuple[int, int]:
    letters = "".join(c for c in cell if c.isalpha())
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return int(cell[len(letters) :]), col


def write_like_excel(
    path: Path,
    tabs: dict[str, list[list[Any]]],
    *,
    constant_memory: bool = False,
    formats: NumberFormats | None = None,
) -> Path:
    """An .xlsx as Excel saves it: formulas given as (formula, result) keep their cached result;
    text is always text, even "=1+1"; cells named in `formats` get that number format."""
    book = xlsxwriter.Workbook(str(path), {"constant_memory": constant_memory})
    styles: dict[str, Any] = {}
    for tab, rows in tabs.items():
        ws = book.add_worksheet(tab)
        codes = {_col_row(cell): code for cell, code in ((formats or {}).get(tab) or {}).items()}
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                code = codes.get((r + 1, c + 1))
                style = (
                    styles.setdefault(code, book.add_format({"num_format": code})) if code else None
                )
                if isinstance(value, tuple):
                    ws.write_formula(r, c, value[0], style, value[1])
                elif isinstance(value, str):
                    ws.write_string(r, c, value, style)
                elif value is not None:
                    ws.write(r, c, value, style)
    book.close()
    return path


class ExcelSheets:
    kind = "excel"

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.xlsx"

    def create(
        self,
        name: str,
        tabs: dict[str, list[list[Any]]],
        formats: NumberFormats | None = None,
    ) -> dict[str, Any]:
        write_like_excel(self.path(name), tabs, formats=formats)
        return {"name": name, "path": str(self.path(name))}

    def _book(self, name: str, data_only: bool) -> openpyxl.Workbook:
        return openpyxl.load_workbook(self.path(name), data_only=data_only)

    def values(self, name: str, tab: str) -> list[list[Any]]:
        ws = self._book(name, True)[tab]
        return [list(row) for row in ws.iter_rows(values_only=True)]

    def formula(self, name: str, tab: str, cell: str) -> str | None:
        value = self._book(name, False)[tab][cell].value
        return value if isinstance(value, str) and value.startswith("=") else None

    def fill(self, name: str, tab: str, cell: str) -> str | None:
        fill = self._book(name, False)[tab][cell].fill
        if fill is None or fill.fill_type != "solid":
            return None
        rgb = fill.fgColor.rgb
        return rgb[-6:].upper() if isinstance(rgb, str) else None

    def number_format(self, name: str, tab: str, cell: str) -> str | None:
        code = self._book(name, False)[tab][cell].number_format
        return None if code == "General" else code

    def tabs(self, name: str) -> list[str]:
        return self._book(name, False).sheetnames

    def edit(self, name: str, tab: str, cell: str, value: Any) -> None:
        book = self._book(name, False)
        book[tab][cell] = value
        book.save(self.path(name))

    def config_extra(self) -> str:
        return ""

    def add_tab(self, name: str, tab: str, rows: list[list[Any]]) -> None:
        """A person adds a tab (saved with openpyxl: formulas elsewhere lose their results)."""
        book = self._book(name, False)
        sheet = book.create_sheet(tab)
        for row in rows:
            sheet.append(row)
        book.save(self.path(name))

    def style(self, name: str, tab: str, cells: str, *, bold: bool, background: str) -> None:
        """A person styles header cells (bold, a fill), saving the file with openpyxl."""
        from openpyxl.styles import Font, PatternFill

        book = self._book(name, False)
        for row in book[tab][cells]:
            for cell in row:
                cell.font = Font(bold=bold)
                cell.fill = PatternFill("solid", fgColor=background)
        book.save(self.path(name))

    def look(self, name: str, tab: str, cell: str) -> tuple[bool, str | None]:
        """(bold, background RRGGBB) of a cell."""
        found = self._book(name, False)[tab][cell]
        return bool(found.font and found.font.bold), self.fill(name, tab, cell)

    def width(self, name: str, tab: str, letter: str) -> float | None:
        """Width of a column in characters, when one is set."""
        dimension = self._book(name, False)[tab].column_dimensions.get(letter)
        return dimension.width if dimension is not None and dimension.customWidth else None

    def insert_column(self, name: str, tab: str, before: int) -> None:
        """A person inserts a column: cells to the right move, and so do the references of
        defined names (Excel does this itself; openpyxl does not, so it is done here)."""
        import re

        from openpyxl.utils import get_column_letter

        book = self._book(name, False)
        ws = book[tab]
        ws.insert_cols(before)

        def shift(match: re.Match[str]) -> str:
            col = openpyxl.utils.column_index_from_string(match.group(2))
            col = col + 1 if col >= before else col
            return f"{match.group(1)}{get_column_letter(col)}"

        for defined in ws.defined_names.values():
            defined.attr_text = re.sub(r"(\$)([A-Z]{1,3})", shift, defined.attr_text)
        book.save(self.path(name))

    def snapshot(self, name: str) -> tuple[str, int]:
        """The file's content hash and mtime: equal snapshots mean nothing was written."""
        path = self.path(name)
        return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns


def write_config(folder: Path, entries: list[dict[str, Any]], extra: str = "") -> Path:
    lines = []
    for entry in entries:
        lines.append("[[workbooks]]")
        lines += [f"{k} = {json.dumps(v)}" for k, v in entry.items()]
    lines.append(extra)
    path = folder / "sheetsync.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class GoogleSheets:
    """Spreadsheets in the local Sheets API stand-in, synced through real gspread + google-auth."""

    kind = "google"

    def __init__(self, api: Any, credentials: Path, locale: str = "en_US") -> None:
        self.api = api
        self.credentials = credentials
        self.locale = locale
        """The locale new spreadsheets declare (File > Settings > Locale)."""
        self.ids: dict[str, str] = {}

    def create(
        self,
        name: str,
        tabs: dict[str, list[list[Any]]],
        formats: NumberFormats | None = None,
    ) -> dict[str, Any]:
        from tests.sheets_standin import Formula

        def cell(value: Any) -> Any:
            return Formula(value[0], effective=value[1]) if isinstance(value, tuple) else value

        grids = {tab: [[cell(v) for v in row] for row in rows] for tab, rows in tabs.items()}
        sid = self.ids[name] = self.api.create_spreadsheet(name, grids, locale=self.locale)
        for tab, cells in (formats or {}).items():
            for a1, code in cells.items():
                kind = "PERCENT" if "%" in code else "CURRENCY" if "$" in code else "NUMBER"
                self.api.set_format(sid, tab, a1, number_format={"type": kind, "pattern": code})
        return {"name": name, "spreadsheet": sid}

    def values(self, name: str, tab: str) -> list[list[Any]]:
        rows = self.api.values(self.ids[name], tab)
        width = max((len(r) for r in rows), default=0)
        return [list(r) + [None] * (width - len(r)) for r in rows]

    def formula(self, name: str, tab: str, cell: str) -> str | None:
        return self.api.formula(self.ids[name], tab, cell)

    def fill(self, name: str, tab: str, cell: str) -> str | None:
        colour = self.api.background(self.ids[name], tab, cell)
        return None if colour in (None, "FFFFFF") else colour

    def number_format(self, name: str, tab: str, cell: str) -> str | None:
        found = self.api.number_format(self.ids[name], tab, cell)
        return found.get("pattern") if found else None

    def tabs(self, name: str) -> list[str]:
        return self.api.tabs(self.ids[name])

    def edit(self, name: str, tab: str, cell: str, value: Any) -> None:
        self.api.set_values(self.ids[name], tab, cell, [[value]])

    def config_extra(self) -> str:
        return (
            f'[google]\napi_url = "{self.api.url}"\ncredentials = "{self.credentials}"\n'
            "max_retry_seconds = 20\n"
        )

    def add_tab(self, name: str, tab: str, rows: list[list[Any]]) -> None:
        self.api.add_tab(self.ids[name], tab, rows)

    def style(self, name: str, tab: str, cells: str, *, bold: bool, background: str) -> None:
        self.api.set_format(self.ids[name], tab, cells, bold=bold, background=background)

    def look(self, name: str, tab: str, cell: str) -> tuple[bool, str | None]:
        fmt = self.api.cell(self.ids[name], tab, cell).get("userEnteredFormat", {})
        return bool(fmt.get("textFormat", {}).get("bold")), self.fill(name, tab, cell)

    def width(self, name: str, tab: str, letter: str) -> float | None:
        from openpyxl.utils import column_index_from_string

        pixels = self.api.column_width(self.ids[name], tab, column_index_from_string(letter))
        return None if pixels is None else (pixels - 5) / 7

    def insert_column(self, name: str, tab: str, before: int) -> None:
        """A person inserts a column (through the API, as the Sheets UI does)."""
        self.api.insert_columns(self.ids[name], tab, before)

    def snapshot(self, name: str) -> object:
        """Every value and fill, plus how many writes the spreadsheet has seen."""
        sid = self.ids[name]
        writes = sum(1 for r in self.api.log if r.kind == "batchUpdate")
        return writes, {tab: self.api.values(sid, tab) for tab in self.api.tabs(sid)}


def cell(values: list[list[Any]], row: int, header: str) -> Any:
    """The value on sheet row `row` under the column headed `header` (header in row 1)."""
    return values[row - 1][values[0].index(header)]


def okrs_workbook(sheets: Sheets, folder: Path, okrs: list[list[Any]], extra: str = "") -> Path:
    """A workbook 'team' with this OKRs tab and an empty KPIs tab; returns its config."""
    entry = sheets.create("team", {"OKRs": okrs, "KPIs": [["KPI", "Target", "Actual"]]})
    return write_config(folder, [entry], sheets.config_extra() + extra)
