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


def _column_metadata(sheet_id: int, index: int, end: int | None = None) -> dict:
    return {
        "createDeveloperMetadata": {
            "developerMetadata": {
                "metadataKey": "sheetsync.output",
                "metadataValue": "Status",
                "location": {
                    "dimensionRange": {
                        "sheetId": sheet_id,
                        "dimension": "COLUMNS",
                        "startIndex": index,
                        "endIndex": index + 1 if end is None else end,
                    }
                },
                "visibility": "DOCUMENT",
            }
        }
    }


def test_standin_developer_metadata_sits_on_one_column_and_moves_with_it(
    sheets_api: SheetsStandIn,
) -> None:
    """As documented: a dimension location is a single row or column; the metadata shows in
    the column's `DimensionProperties`, moves when columns are inserted before it and is
    deleted with its column."""
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    http = sheets_api.gspread_client().http_client
    with pytest.raises(Exception, match="single row or column"):
        http.batch_update(sid, {"requests": [_column_metadata(0, 5, 7)]})
    reply = http.batch_update(sid, {"requests": [_column_metadata(0, 5)]})
    created = reply["replies"][0]["createDeveloperMetadata"]["developerMetadata"]
    assert created["location"]["locationType"] == "COLUMN" and created["metadataId"] > 0

    def marked_columns() -> list[int]:
        doc = http.spreadsheets_get(
            sid,
            params={
                "includeGridData": "true",
                "fields": "sheets.data(startColumn,columnMetadata.developerMetadata.metadataValue)",
            },
        )
        (block,) = doc["sheets"][0]["data"]
        return [
            block.get("startColumn", 0) + i
            for i, column in enumerate(block["columnMetadata"])
            if column.get("developerMetadata")
        ]

    assert marked_columns() == [5]
    sheets_api.insert_columns(sid, "OKRs", 1)
    assert marked_columns() == [6]
    delete = {"range": {"sheetId": 0, "dimension": "COLUMNS", "startIndex": 6, "endIndex": 7}}
    http.batch_update(sid, {"requests": [{"deleteDimension": delete}]})
    assert marked_columns() == []


def test_standin_copy_paste_of_the_format_leaves_the_value(sheets_api: SheetsStandIn) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": [["Objective", "Score"]]})
    sheets_api.set_format(sid, "OKRs", "A1", bold=True, background="305496")
    cell = {"sheetId": 0, "startRowIndex": 0, "endRowIndex": 1}
    paste = {
        "source": {**cell, "startColumnIndex": 0, "endColumnIndex": 1},
        "destination": {**cell, "startColumnIndex": 1, "endColumnIndex": 2},
        "pasteType": "PASTE_FORMAT",
    }
    sheets_api.gspread_client().http_client.batch_update(sid, {"requests": [{"copyPaste": paste}]})
    assert sheets_api.value(sid, "OKRs", "B1") == "Score"
    assert sheets_api.background(sid, "OKRs", "B1") == "305496"
    assert sheets_api.cell(sid, "OKRs", "B1")["userEnteredFormat"]["textFormat"]["bold"] is True
