"""The local Sheets API stand-in itself behaves like the real API where the tests rely on it."""

from __future__ import annotations

import pytest

from tests.integration.google.workbooks import okr_rows
from tests.sheets_standin import SheetsStandIn


def test_standin_applies_a_batch_atomically_and_user_entered_makes_formulas(
    sheets_api: SheetsStandIn,
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    worksheet = sheets_api.gspread_client().open_by_key(sid).worksheet("OKRs")
    worksheet.update([["=1+1", "12%", "'=raw"]], "E2", raw=False)
    request = {
        "updateCells": {"start": {"sheetId": 0}, "rows": [{"values": [{}]}], "fields": "note"}
    }

    with pytest.raises(Exception, match="No grid with id: 99"):
        worksheet.spreadsheet.batch_update(
            {"requests": [request, {"deleteSheet": {"sheetId": 99}}]}
        )

    assert sheets_api.formula(sid, "OKRs", "E2") == "=1+1"
    assert sheets_api.value(sid, "OKRs", "F2") == 0.12
    assert sheets_api.value(sid, "OKRs", "G2") == "=raw"
    assert worksheet.get_all_values()[1][5] == "12%"
    assert "note" not in sheets_api.cell(sid, "OKRs", "A1")


WRITE_E2 = {
    "updateCells": {
        "start": {"sheetId": 0, "rowIndex": 1, "columnIndex": 4},
        "rows": [{"values": [{"userEnteredValue": {"numberValue": 0.5}}]}],
        "fields": "userEnteredValue",
    }
}
"""0.5 into OKRs!E2."""


def test_standin_batch_update_answers_with_the_ranges_asked_for_as_updated(
    sheets_api: SheetsStandIn,
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2), "Notes": [["x"]]})
    http = sheets_api.gspread_client().http_client
    body = {
        "requests": [WRITE_E2],
        "includeSpreadsheetInResponse": True,
        "responseRanges": ["'OKRs'!A1:E2"],
        "responseIncludeGridData": True,
    }

    reply = http.batch_update(sid, body)
    masked = http.request(
        "post",
        f"https://sheets.googleapis.com/v4/spreadsheets/{sid}:batchUpdate",
        json={**body, "responseIncludeGridData": False},
        params={"fields": "updatedSpreadsheet.sheets(properties.title,data.rowData)"},
    ).json()
    no_grid = http.batch_update(sid, {**body, "responseIncludeGridData": False})

    sheets = reply["updatedSpreadsheet"]["sheets"]
    assert [s["properties"]["title"] for s in sheets] == ["OKRs"]
    rows = sheets[0]["data"][0]["rowData"]
    assert rows[1]["values"][4]["effectiveValue"] == {"numberValue": 0.5}
    assert masked == {
        "updatedSpreadsheet": {
            "sheets": [{"properties": {"title": "OKRs"}, "data": [{"rowData": rows}]}]
        }
    }
    assert "data" not in no_grid["updatedSpreadsheet"]["sheets"][0]


def test_standin_batch_update_with_a_response_range_on_a_missing_tab_applies_nothing(
    sheets_api: SheetsStandIn,
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    http = sheets_api.gspread_client().http_client

    with pytest.raises(Exception, match="Unable to parse range"):
        http.batch_update(
            sid,
            {
                "requests": [WRITE_E2],
                "includeSpreadsheetInResponse": True,
                "responseRanges": ["'Gone'!A1"],
            },
        )

    assert sheets_api.value(sid, "OKRs", "E2") is None
