"""The local Sheets API stand-in itself behaves like the real API where the tests rely on it."""

from __future__ import annotations

import gzip
import json
from typing import Any

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


def test_standin_repeat_cell_writes_only_the_masked_part_to_every_cell_of_its_range(
    sheets_api: SheetsStandIn,
) -> None:
    """RepeatCellRequest: "Updates all cells in the range to the values in the given Cell
    object. Only the fields listed in the fields field are updated; others are unchanged." A
    masked part the cell leaves out is cleared; a GridRange start left out is unbounded (from
    the first row or column), an end left out runs to the end of the grid."""
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)}, rows=6, cols=7)
    http = sheets_api.gspread_client().http_client

    def repeat(area: dict[str, int], cell: dict[str, Any], fields: str) -> None:
        request = {"repeatCell": {"range": {"sheetId": 0, **area}, "cell": cell, "fields": fields}}
        http.batch_update(sid, {"requests": [request]})

    red = {"userEnteredFormat": {"backgroundColor": {"red": 1, "green": 0.78, "blue": 0.808}}}
    percent = {"userEnteredFormat": {"numberFormat": {"type": "PERCENT", "pattern": "0%"}}}
    repeat({"startRowIndex": 1, "endRowIndex": 3, "endColumnIndex": 4}, red, FILL)
    repeat({"startRowIndex": 1, "startColumnIndex": 3, "endColumnIndex": 4}, percent, FORMAT)

    row_2 = [sheets_api.background(sid, "OKRs", f"{c}2") for c in "ABCDE"]
    assert row_2 == ["FFC7CE"] * 4 + [None]
    assert sheets_api.background(sid, "OKRs", "A4") is None
    assert sheets_api.value(sid, "OKRs", "D2") == 0  # the value stayed
    formats = [sheets_api.number_format(sid, "OKRs", f"D{r}") for r in (1, 2, 6)]
    assert formats == [None] + [{"type": "PERCENT", "pattern": "0%"}] * 2
    assert sheets_api.background(sid, "OKRs", "D2") == "FFC7CE"  # the fill stayed

    repeat({"startRowIndex": 1, "endRowIndex": 2, "endColumnIndex": 2}, {}, FILL)

    row_2 = [sheets_api.background(sid, "OKRs", f"{c}2") for c in "ABC"]
    assert row_2 == [None, None, "FFC7CE"]
    assert sheets_api.number_format(sid, "OKRs", "D2") == {"type": "PERCENT", "pattern": "0%"}


FILL = "userEnteredFormat.backgroundColor"
FORMAT = "userEnteredFormat.numberFormat"


def test_standin_update_cells_with_a_value_mask_keeps_the_look_and_an_empty_cell_clears(
    sheets_api: SheetsStandIn,
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    http = sheets_api.gspread_client().http_client
    http.batch_update(sid, {"requests": [WRITE_E2]})
    look = {
        "backgroundColor": {"red": 1, "green": 0.78, "blue": 0.808},
        "numberFormat": {"type": "NUMBER", "pattern": "0.00"},
    }
    area = {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 3}
    area |= {"startColumnIndex": 4, "endColumnIndex": 5}
    paint = {"range": area, "cell": {"userEnteredFormat": look}, "fields": "userEnteredFormat"}
    http.batch_update(sid, {"requests": [{"repeatCell": paint}]})
    score = {"values": [{"userEnteredValue": {"numberValue": 0.25}}]}
    start = {"sheetId": 0, "rowIndex": 1, "columnIndex": 4}
    write = {"start": start, "rows": [{"values": [{}]}, score], "fields": "userEnteredValue"}

    http.batch_update(sid, {"requests": [{"updateCells": write}]})

    assert sheets_api.value(sid, "OKRs", "E2") is None
    assert sheets_api.value(sid, "OKRs", "E3") == 0.25
    assert sheets_api.background(sid, "OKRs", "E2") == "FFC7CE"
    assert sheets_api.number_format(sid, "OKRs", "E3") == {"type": "NUMBER", "pattern": "0.00"}


def test_standin_takes_a_gzip_compressed_request_body_and_refuses_a_broken_one(
    sheets_api: SheetsStandIn,
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    session = sheets_api.session()
    url = f"{sheets_api.url}/v4/spreadsheets/{sid}:batchUpdate"
    headers = {"Content-Type": "application/json", "Content-Encoding": "gzip"}
    packed = gzip.compress(json.dumps({"requests": [WRITE_E2]}).encode())

    broken = session.post(url, data=packed[:-8], headers=headers)
    assert broken.status_code == 400
    assert sheets_api.value(sid, "OKRs", "E2") is None

    answer = session.post(url, data=packed, headers=headers)
    assert answer.status_code == 200
    assert sheets_api.value(sid, "OKRs", "E2") == 0.5
    assert sheets_api.requests_of("batchUpdate")[-1].bytes_up < 1000
