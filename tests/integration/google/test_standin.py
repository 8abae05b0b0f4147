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
