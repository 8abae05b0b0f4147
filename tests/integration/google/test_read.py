"""Reading a spreadsheet: one request for every tab's values."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tests.integration.google.workbooks import open_book
from tests.sheets_standin import Formula, SheetsStandIn


def test_read_is_one_request_with_numbers_formula_results_and_padded_rows(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet(
        "Team OKRs",
        {
            "OKRs": [
                ["Objective", "Key result", "Target", "Current", "Done"],
                ["Grow", "Leads", 100, Formula("=SUM(X2:X9)", 42.5), True],
                ["Grow"],
                [],
                [None, "Deadline", date(2024, 3, 31)],
            ],
            "KPIs": [["KPI", "Actual"], ["Churn", 0.05]],
            "Scratch": [["not asked for"]],
        },
    )
    book = open_book(sheets_api, sid, service_account_file)

    snapshot = book.read(["okrs", "KPIs", "Summary"])

    assert set(snapshot.tabs) == {"OKRs", "KPIs"}
    assert snapshot.tabs["OKRs"] == [
        ["Objective", "Key result", "Target", "Current", "Done"],
        ["Grow", "Leads", 100, 42.5, True],
        ["Grow", None, None, None, None],
        [None, None, None, None, None],
        [None, "Deadline", 45382, None, None],
    ]
    assert snapshot.tabs["KPIs"] == [["KPI", "Actual"], ["Churn", 0.05]]
    assert book.requests == 1
    assert sheets_api.counts["get"] == 1
    assert book.label == "Team OKRs"
    assert book.location.endswith(f"/spreadsheets/d/{sid}/edit")
