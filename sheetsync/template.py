"""`sheetsync init`: a ready-to-edit workbook that teaches the habits sheetsync reads well.

Numbers are real numbers with number formats (never `$10,000` typed as text), each header
cell prompts what to type, Type/Direction/Period are dropdowns, a "How to use" tab explains
every column with a worked example, and the example rows are owned on the reserved
`example.com` domain so nobody mistakes them for real ones (`validate` warns while they stay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sheetsync.core.model import Status
from sheetsync.core.parse import quarter_of
from sheetsync.core.plan import CellValue

MONEY = '"$"#,##0'
PERCENT = "0%"
PERCENT_1 = "0.0%"
COUNT = "#,##0"
DECIMAL = "0.0"
HEADER_FILL = "305496"
INSTRUCTIONS_TAB = "How to use"
KR_TYPES = ("metric", "milestone", "stay above", "stay below")
VALIDATION_ROWS = 500
"""Dropdowns cover this many rows below the header, so new rows get them too."""


@dataclass(frozen=True)
class Number:
    """An example number and the format it is shown in (what a person would set in Excel)."""

    value: float
    number_format: str


@dataclass(frozen=True)
class Column:
    """One template column: its header, width, what it means and what may be typed there."""

    header: str
    width: float
    meaning: str
    allowed: str

    @property
    def prompt(self) -> str:
        """The input message Excel shows on the header cell (at most 255 characters)."""
        return f"{self.meaning} {self.allowed}"[:255]


OKR_COLUMNS = [
    Column("ID", 9, "Optional stable key for the key result, such as S1.KR2.", "Must be unique."),
    Column("Objective", 34, "The objective this key result belongs to.",
           "Blank = the same objective as the row above."),
    Column("Key Result", 40, "What will be measured, in words.", "Required."),
    Column("Owner", 22, "Who updates it and gets the alerts.",
           "An email address, or a name mapped in the config."),
    Column("Type", 12, "How it is scored.",
           "metric (default), milestone, stay above or stay below."),
    Column("Start", 11, "Where the metric stood when the period began.",
           "A number; blank = 0."),
    Column("Target", 11, "Where it should be at the end of the period.",
           "A number; required for metrics."),
    Column("Current", 11, "Where it stands now: update it every week.",
           "A number; blank = no data yet. Milestones: done/yes or blank."),
    Column("Direction", 11, "Whether up or down is better.",
           "increase or decrease; blank = inferred from Start and Target."),
    Column("Warning", 11, "For stay above/below: the amber boundary.", "A number or blank."),
    Column("Weight", 8, "How much it counts in its objective's score.", "A number; default 1."),
    Column("Period", 12, "When it is measured.",
           "A quarter such as 2026-Q4, a half (2026-H1), a year, a month or a due date; "
           "blank = the current quarter."),
    Column("KPI", 20, "Name of a KPI on the KPIs tab.",
           "When Current is blank, the KPI's Actual is used."),
    Column("Comments", 28, "Your own notes.", "sheetsync never reads or changes this column."),
]  # fmt: skip

KPI_COLUMNS = [
    Column("KPI", 28, "The KPI's name.", "Required and unique."),
    Column("Owner", 22, "Who updates it and gets the alerts.",
           "An email address, or a name mapped in the config."),
    Column("Unit", 8, "How the number is read, such as $, %, h.", "Free text."),
    Column("Direction", 11, "Whether higher or lower is better.", "higher (default) or lower."),
    Column("Target", 11, "The level to reach.", "A number; required."),
    Column("Warning", 11, "The amber boundary.", "A number; blank = 10% worse than the target."),
    Column("Actual", 11, "The latest value: update it every week.",
           "A number; blank = no data yet, or the latest month filled in (a scorecard)."),
    Column("Kind", 8, "For a scorecard: a second row for the same KPI saying Target holds "
           "one target per month (a ramp).", "Blank (or Actual) on the values row; Target."),
]  # fmt: skip
COMMENTS = Column(
    "Comments", 28, "Your own notes.", "sheetsync never reads or changes this column."
)
SCORECARD_MONTHS = 6
"""Month columns in the template's KPI scorecard: the as-of month and the five before it."""

OKR_HEADERS = [c.header for c in OKR_COLUMNS]


def scorecard_months(as_of: date) -> list[date]:
    """The first day of each month column, oldest first, ending with the as-of month."""
    months: list[date] = []
    day = as_of.replace(day=1)
    for _ in range(SCORECARD_MONTHS):
        months.insert(0, day)
        day = (day - timedelta(days=1)).replace(day=1)
    return months


def kpi_columns(as_of: date) -> list[Column]:
    """The KPIs tab's columns: the KPI's fields, one column per month, then your notes."""
    month_columns = [
        Column(day.strftime("%b %Y"), 10, "That month's value, for a KPI kept as a scorecard.",
               "A number; the latest month filled in is the KPI's Actual.")
        for day in scorecard_months(as_of)
    ]  # fmt: skip
    return [*KPI_COLUMNS, *month_columns, COMMENTS]


def _money(value: float) -> Number:
    return Number(value, MONEY)


def _pct(value: float, decimals: int = 0) -> Number:
    return Number(value, PERCENT_1 if decimals else PERCENT)


def _count(value: float) -> Number:
    return Number(value, COUNT)


def coming_quarters(as_of: date, count: int = 4) -> list[str]:
    """The as-of quarter and the ones after it: the Period dropdown."""
    quarter, labels = quarter_of(as_of), []
    for _ in range(count):
        labels.append(quarter.label)
        quarter = quarter_of(quarter.end + timedelta(days=1))
    return labels


def example_rows(as_of: date) -> tuple[list[list[Any]], list[list[Any]]]:
    """OKRs and KPIs from sales, marketing and customer service, owned by example.com people."""
    q = quarter_of(as_of).label
    okrs: list[list[Any]] = [
        ["S1.KR1", "Grow sales revenue 50% this quarter", "100 new qualified leads a month",
         "ana@example.com", "metric", 40, 100, 85, None, None, 1, q, None, "CRM report"],
        ["S1.KR2", None, "Average deal size up 20%", "ana@example.com", "metric",
         _money(10000), _money(12000), _money(10900), None, None, 1, q, None, None],
        ["S1.KR3", None, "Conversion rate from 10% to 15%", "ben@example.com", "metric",
         _pct(0.10), _pct(0.15), None, None, None, 1, q, "Lead conversion", None],
        ["M1.KR1", "Raise brand awareness", "Website traffic up 30%", "cleo@example.com",
         "metric", _count(20000), _count(26000), _count(21500), None, None, 1, q, None, None],
        ["M1.KR2", None, "Coverage in 10 major publications", "cleo@example.com", "metric",
         0, 10, 2, None, None, 1, q, None, None],
        ["M1.KR3", None, "Launch the spring campaign", "cleo@example.com", "milestone",
         None, None, "done", None, None, 1, q, None, None],
        ["C1.KR1", "Improve customer loyalty", "Satisfaction from 4.0 to 4.5 out of 5",
         "dee@example.com", "metric", Number(4.0, DECIMAL), Number(4.5, DECIMAL),
         Number(4.3, DECIMAL), None, None, 1, q, None, None],
        ["C1.KR2", None, "Average response time from 4 h to 2 h", "dee@example.com", "metric",
         4, 2, Number(3.6, DECIMAL), "decrease", None, 1, q, None, None],
        ["C1.KR3", None, "Client retention from 75% to 80%", "dee@example.com", "metric",
         _pct(0.75), _pct(0.80), None, None, None, 2, q, "Retention rate", None],
        ["C1.KR4", None, "Keep churn below 3%", "dee@example.com", "stay below",
         None, _pct(0.03, 1), _pct(0.024, 1), None, _pct(0.04, 1), 1, q, None, None],
    ]  # fmt: skip
    kpis: list[list[Any]] = [
        ["Monthly sales revenue", "ana@example.com", "$", "higher",
         _money(50000), _money(45000), _money(47200), None],
        ["Lead conversion", "ben@example.com", "%", "higher",
         _pct(0.15, 1), _pct(0.12, 1), _pct(0.115, 1), None],
        ["Cost per acquisition", "cleo@example.com", "$", "lower",
         _money(40), _money(48), _money(39), None],
        ["Customer satisfaction", "dee@example.com", "of 5", "higher",
         Number(4.5, DECIMAL), Number(4.2, DECIMAL), Number(4.3, DECIMAL), None],
        ["First response time (h)", "dee@example.com", "h", "lower",
         Number(2, DECIMAL), Number(3, DECIMAL), Number(3.6, DECIMAL), None],
        ["Retention rate", "dee@example.com", "%", "higher",
         _pct(0.85), _pct(0.80), _pct(0.78), None],
    ]  # fmt: skip
    blank_months = [None] * SCORECARD_MONTHS
    kpis = [[*row[:7], None, *blank_months, row[7]] for row in kpis]
    # A monthly scorecard with a ramped target: the values row and its Target row. The as-of
    # month is not reported yet, so last month's value is the Actual.
    signups = [_count(v) for v in (310, 335, 362, 381, 405)] + [None]
    ramp = [_count(v) for v in (300, 325, 350, 375, 400, 425)]
    kpis += [
        ["New signups", "ben@example.com", None, "higher", None, None, None, None, *signups,
         "the Target row below ramps the target month by month"],
        ["New signups", "ben@example.com", None, None, None, None, None, "Target", *ramp, None],
    ]  # fmt: skip
    return okrs, kpis


def example_grids(as_of: date) -> dict[str, list[list[CellValue]]]:
    """The template's OKRs and KPIs tabs as plain values (headers first), for any backend."""
    okrs, kpis = example_rows(as_of)

    def plain(rows: list[list[Any]]) -> list[list[CellValue]]:
        return [[v.value if isinstance(v, Number) else v for v in row] for row in rows]

    kpi_headers: list[CellValue] = [c.header for c in kpi_columns(as_of)]
    return {"OKRs": [list(OKR_HEADERS), *plain(okrs)], "KPIs": [kpi_headers, *plain(kpis)]}


def write_template(path: str | Path, as_of: date | None = None) -> Path:
    """Write the template workbook; refuses a name that is not .xlsx or a file that exists."""
    from openpyxl import Workbook

    path = Path(path)
    if path.suffix.lower() != ".xlsx":
        raise ValueError(
            f"{path}: the template is an Excel workbook; give a name ending in .xlsx "
            f"(such as {path.with_suffix('.xlsx').name})"
        )
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    as_of = as_of or date.today()
    okrs, kpis = example_rows(as_of)
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "OKRs"
    _fill(ws, OKR_COLUMNS, okrs)
    _dropdown(ws, "Type", OKR_COLUMNS, KR_TYPES)
    _dropdown(ws, "Direction", OKR_COLUMNS, ("increase", "decrease"))
    _dropdown(
        ws,
        "Period",
        OKR_COLUMNS,
        coming_quarters(as_of),
        strict=False,
        note="sheetsync also reads 2026-H1, 2026, 2026-11, Nov 2026 or a due date.",
    )
    kpi_ws = wb.create_sheet("KPIs")
    columns = kpi_columns(as_of)
    _fill(kpi_ws, columns, kpis)
    _dropdown(kpi_ws, "Direction", columns, ("higher", "lower"))
    _dropdown(kpi_ws, "Kind", columns, ("Actual", "Target"))
    _instructions(wb.create_sheet(INSTRUCTIONS_TAB), as_of)
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _letter(columns: list[Column], header: str) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter([c.header for c in columns].index(header) + 1)


def _fill(ws: Any, columns: list[Column], rows: list[list[Any]]) -> None:
    """Headers (styled, with prompts), example rows with number formats, widths, frozen header."""
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    ws.append([c.header for c in columns])
    for row in rows:
        ws.append([v.value if isinstance(v, Number) else v for v in row])
        for col, value in enumerate(row, start=1):
            if isinstance(value, Number):
                ws.cell(ws.max_row, col).number_format = value.number_format
    bold = Font(bold=True, color="FFFFFF")
    for col, (cell, column) in enumerate(zip(ws[1], columns, strict=True), start=1):
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        cell.alignment = Alignment(vertical="center", wrap_text=True)
        prompt = DataValidation(
            showInputMessage=True, promptTitle=column.header[:32], prompt=column.prompt
        )
        ws.add_data_validation(prompt)
        prompt.add(cell.coordinate)
        ws.column_dimensions[get_column_letter(col)].width = column.width
    ws.freeze_panes = "A2"


def _dropdown(
    ws: Any,
    header: str,
    columns: list[Column],
    choices: list[str] | tuple[str, ...],
    *,
    strict: bool = True,
    note: str = "",
) -> None:
    """A list dropdown below a header; `strict=False` warns on other values but lets them in."""
    from openpyxl.worksheet.datavalidation import DataValidation

    col = _letter(columns, header)
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    dv.error = f"Choose one of: {', '.join(choices)}. {note}".strip()
    dv.errorTitle = "sheetsync"
    dv.errorStyle = "stop" if strict else "warning"
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{VALIDATION_ROWS + 1}")


STATUS_MEANINGS = {
    Status.DONE: "the target is reached (score 1.0)",
    Status.ON_TRACK: "at least the progress expected by now",
    Status.AT_RISK: "at least 75% of the expected progress",
    Status.OFF_TRACK: "below that: the owner gets an email",
    Status.ACHIEVED: "after the period: score 0.7 or more",
    Status.PARTIAL: "after the period: 0.4 to 0.7",
    Status.MISSED: "after the period: below 0.4",
    Status.NO_DATA: "Current is blank",
    Status.INVALID: "the row has a problem: its Note says which cell and why",
}


def instructions(as_of: date) -> list[tuple[str, list[str]]]:
    """The "How to use" tab as (kind, cells) lines: title, heading, text, head, row, status."""
    return [
        ("title", ["How to use this workbook"]),
        ("text", ["sheetsync reads the OKRs and KPIs tabs every night, scores every row and "
                  "writes Score, Status and Note columns beside yours. It never changes a cell "
                  "you typed."]),
        ("strong", ["The example rows are owned by people @example.com: replace them with your "
                    "own (sheetsync validate warns while they are still there)."]),
        ("heading", ["OKRs tab: one row per key result"]),
        ("head", ["Column", "What it means", "What to type"]),
        *[("row", [c.header, c.meaning, c.allowed]) for c in OKR_COLUMNS],
        ("text", [f"Type is one of: {', '.join(KR_TYPES)}. Period, Type and Direction have "
                  "dropdowns; a header cell shows a hint when selected."]),
        ("heading", ["KPIs tab: one row per KPI"]),
        ("head", ["Column", "What it means", "What to type"]),
        *[("row", [c.header, c.meaning, c.allowed]) for c in KPI_COLUMNS],
        ("row", [", ".join(d.strftime("%b %Y") for d in scorecard_months(as_of)),
                 "One column per month, for KPIs kept as a "
                 "scorecard (weeks such as W45 and quarters such as 2026-Q1 work too).",
                 "A number per month; the latest month filled in is the Actual."]),
        ("row", [COMMENTS.header, COMMENTS.meaning, COMMENTS.allowed]),
        ("text", ["New signups is a scorecard: its values row has one number per month and the "
                  "row below it, with Kind = Target, ramps the target. sheetsync judges the "
                  "latest month against that month's target, draws its trend in the Trend "
                  "column and charts it on the Summary tab."]),
        ("heading", ["Numbers"]),
        ("text", ["Type numbers as numbers and give the cell a number format ($, %, 1,000): 15% "
                  "is stored as 0.15. Text that could be read two ways, such as 4,5, is "
                  "reported rather than guessed."]),
        ("heading", ["Worked example"]),
        ("text", ["Key result 'New leads a month': Start 0, Target 100, Current 60, Period "
                  "2026-Q4. On 15 Nov 2026, half way through 2026-Q4, the expected progress is "
                  "0.50. Score = (Current - Start) / (Target - Start) = (60 - 0) / (100 - 0) = "
                  "0.60, at least the expected 0.50, so the Status is On track. At 0.40 it would "
                  "be At risk (at least 75% of 0.50); below 0.375, Off track."]),
        ("heading", ["Statuses"]),
        *[("status", [status.value, meaning]) for status, meaning in STATUS_MEANINGS.items()],
        ("strong", ["Then add the workbook to sheetsync.toml and run: sheetsync validate"]),
    ]  # fmt: skip


def _instructions(ws: Any, as_of: date) -> None:
    """Write `instructions()`: prose merged across the three columns, tables cell by cell."""
    from openpyxl.styles import Alignment, Font, PatternFill

    fonts = {
        "title": Font(bold=True, size=14),
        "heading": Font(bold=True, size=12),
        "strong": Font(bold=True),
        "head": Font(bold=True, color="FFFFFF"),
    }
    wrap = Alignment(wrap_text=True, vertical="top")
    colours = {status.value: status.colour.value for status in Status}
    widths = (22, 48, 62)
    for letter, width in zip("ABC", widths, strict=True):
        ws.column_dimensions[letter].width = width
    for kind, cells in instructions(as_of):
        if kind == "heading":
            ws.append([])
        ws.append(cells)
        row = ws.max_row
        for cell in ws[row]:
            cell.alignment = wrap
            if kind in fonts:
                cell.font = fonts[kind]
            if kind == "head":
                cell.fill = PatternFill("solid", fgColor=HEADER_FILL)
        if kind == "status":
            ws.cell(row, 1).fill = PatternFill("solid", fgColor=colours[cells[0]])
        merged = kind in ("title", "heading", "text", "strong")
        if merged:
            ws.merge_cells(start_row=row, start_column=1, end_row=row, end_column=3)
        spans = [sum(widths)] if merged else widths
        lines = max(
            -(-len(text) // int(span * 1.25)) for text, span in zip(cells, spans, strict=False)
        )
        ws.row_dimensions[row].height = 15 * max(lines, 1) + (8 if kind == "title" else 0)


TEAM_OKR_COLUMNS = [
    *OKR_COLUMNS[:2],
    Column("Parent", 34, "The objective this one contributes to.",
           "Its ID or text in this workbook, or 'Workbook name: objective' in another one."),
    Column("Objective weight", 10, "How much this objective counts in its parent's score.",
           "A number; default 1."),
    *[c for c in OKR_COLUMNS[2:] if c.header not in ("KPI", "Comments")],
]  # fmt: skip
TEAM_OKR_HEADERS = [c.header for c in TEAM_OKR_COLUMNS]


def team_example_rows(parent_workbook: str, as_of: date) -> list[list[Any]]:
    """A department's OKRs whose objectives name parents in the company template workbook."""
    q = quarter_of(as_of).label
    grow = f"{parent_workbook}: Grow sales revenue 50% this quarter"
    loyalty = f"{parent_workbook}: Improve customer loyalty"
    return [
        ["E1.KR1", "Win the EMEA mid-market", grow, 2, "30 new EMEA customers",
         "eva@example.com", "metric", 0, 30, 12, None, None, 1, q],
        ["E1.KR2", None, None, None, "EMEA pipeline to $2M", "eva@example.com", "metric",
         _money(500000), _money(2000000), _money(1100000), None, None, 1, q],
        ["E2.KR1", "Partner channel live in the Nordics", "Win the EMEA mid-market", None,
         "Sign 5 reseller partners", "finn@example.com", "metric", 0, 5, 1, None, None, 1, q],
        ["E3.KR1", "Happier EMEA customers", loyalty, 1, "EMEA satisfaction from 4.1 to 4.5",
         "finn@example.com", "metric", Number(4.1, DECIMAL), Number(4.5, DECIMAL),
         Number(4.3, DECIMAL), None, None, 1, q],
    ]  # fmt: skip


def write_team_example(path: str | Path, parent_workbook: str, as_of: date | None = None) -> Path:
    """The demo's second workbook: a department cascading into the company template's goals."""
    from openpyxl import Workbook

    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    as_of = as_of or date.today()
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "OKRs"
    _fill(ws, TEAM_OKR_COLUMNS, team_example_rows(parent_workbook, as_of))
    _dropdown(ws, "Type", TEAM_OKR_COLUMNS, KR_TYPES)
    _fill(wb.create_sheet("KPIs"), KPI_COLUMNS, [])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
