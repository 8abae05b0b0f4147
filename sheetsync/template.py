"""`sheetsync init`: a ready-to-edit workbook with the expected tabs, dropdowns and examples."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from sheetsync.core.parse import quarter_of

OKR_HEADERS = [
    "ID", "Objective", "Key Result", "Owner", "Type", "Start", "Target", "Current",
    "Direction", "Warning", "Weight", "Period", "KPI", "Comments",
]  # fmt: skip
KPI_HEADERS = ["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual", "Comments"]


def example_rows(as_of: date) -> tuple[list[list[object]], list[list[object]]]:
    """OKRs and KPIs from sales, marketing and customer service (see docs/examples)."""
    q = quarter_of(as_of).label
    okrs: list[list[object]] = [
        ["S1.KR1", "Grow sales revenue 50% this quarter", "100 new qualified leads a month",
         "ana@example.com", "metric", 40, 100, 85, None, None, 1, q, None, "CRM report"],
        ["S1.KR2", None, "Average deal size up 20%", "ana@example.com", "metric",
         "$10,000", "$12,000", "$10,900", None, None, 1, q, None, None],
        ["S1.KR3", None, "Conversion rate from 10% to 15%", "Ben", "metric",
         "10%", "15%", None, None, None, 1, q, "Lead conversion", None],
        ["M1.KR1", "Raise brand awareness", "Website traffic up 30%", "Cleo", "metric",
         "20k", "26k", "21,500", None, None, 1, q, None, None],
        ["M1.KR2", None, "Coverage in 10 major publications", "Cleo", "metric",
         0, 10, 2, None, None, 1, q, None, None],
        ["M1.KR3", None, "Launch the spring campaign", "Cleo", "milestone",
         None, None, "done", None, None, 1, q, None, None],
        ["C1.KR1", "Improve customer loyalty", "Satisfaction from 4.0 to 4.5 out of 5",
         "dee@example.com", "metric", 4.0, 4.5, 4.3, None, None, 1, q, None, None],
        ["C1.KR2", None, "Average response time from 4 h to 2 h", "dee@example.com", "metric",
         4, 2, 3.6, "decrease", None, 1, q, None, None],
        ["C1.KR3", None, "Client retention from 75% to 80%", "dee@example.com", "metric",
         "75%", "80%", None, None, None, 2, q, "Retention rate", None],
        ["C1.KR4", None, "Keep churn below 3%", "dee@example.com", "stay below",
         None, "3%", "2.4%", None, "4%", 1, q, None, None],
    ]  # fmt: skip
    kpis: list[list[object]] = [
        ["Monthly sales revenue", "ana@example.com", "$", "higher", 50000, 45000, 47200, None],
        ["Lead conversion", "Ben", "%", "higher", "15%", "12%", "11.5%", None],
        ["Cost per acquisition", "Cleo", "$", "lower", 40, 48, 39, None],
        ["Customer satisfaction", "dee@example.com", "of 5", "higher", 4.5, 4.2, 4.3, None],
        ["First response time (h)", "dee@example.com", "h", "lower", 2, 3, 3.6, None],
        ["Retention rate", "dee@example.com", "%", "higher", "85%", "80%", "78%", None],
    ]  # fmt: skip
    return okrs, kpis


def write_template(path: str | Path, as_of: date | None = None) -> Path:
    """Write the template workbook; refuses to overwrite an existing file."""
    path = Path(path)
    if path.exists():
        raise FileExistsError(f"{path} already exists; choose another name")
    okrs, kpis = example_rows(as_of or date.today())
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "OKRs"
    _fill(ws, OKR_HEADERS, okrs, widths={"B": 36, "C": 40, "D": 20, "N": 24})
    _dropdown(ws, "E", ["metric", "milestone", "stay above", "stay below"], len(okrs))
    _dropdown(ws, "I", ["increase", "decrease"], len(okrs))
    kpi_ws = wb.create_sheet("KPIs")
    _fill(kpi_ws, KPI_HEADERS, kpis, widths={"A": 28, "B": 20, "H": 24})
    _dropdown(kpi_ws, "D", ["higher", "lower"], len(kpis))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


def _fill(ws, headers: list[str], rows: list[list[object]], widths: dict[str, float]) -> None:  # type: ignore[no-untyped-def]
    ws.append(headers)
    for row in rows:
        ws.append(row)
    bold = Font(bold=True, color="FFFFFF")
    for cell in ws[1]:
        cell.font = bold
        cell.fill = PatternFill("solid", fgColor="305496")
        cell.alignment = Alignment(vertical="center")
    ws.freeze_panes = "A2"
    for col, width in widths.items():
        ws.column_dimensions[col].width = width


def _dropdown(ws, col: str, choices: list[str], rows: int) -> None:  # type: ignore[no-untyped-def]
    dv = DataValidation(type="list", formula1='"' + ",".join(choices) + '"', allow_blank=True)
    dv.error = f"Choose one of: {', '.join(choices)}"
    dv.errorTitle = "sheetsync"
    ws.add_data_validation(dv)
    dv.add(f"{col}2:{col}{max(rows + 200, 500)}")
