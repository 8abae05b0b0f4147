"""The Sheets stand-in understands chart requests as the API documents them, and refuses
malformed ones with nothing applied (real HTTP, real gspread)."""

from __future__ import annotations

import copy

import pytest

from sheetsync.backends.google.charts import chart_position, chart_spec
from sheetsync.core.charts import objectives_chart
from sheetsync.core.model import Status
from tests.integration.google.workbooks import okr_rows
from tests.sheets_standin import SheetsStandIn


def _chart(sheet_id: int, chart_id: int = 7) -> dict:
    chart = objectives_chart(2, [Status.ON_TRACK, Status.OFF_TRACK], col=10)
    return {
        "chartId": chart_id,
        "spec": chart_spec(chart, sheet_id),
        "position": chart_position(chart, sheet_id),
    }


@pytest.fixture
def sheet(sheets_api: SheetsStandIn):
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    sheet_id = sheets_api.spreadsheet(sid).sheet("OKRs").sheet_id
    return sid, sheet_id, sheets_api.gspread_client().http_client


def test_a_chart_is_added_read_back_updated_moved_and_deleted(sheets_api, sheet):
    sid, sheet_id, http = sheet
    http.batch_update(sid, {"requests": [{"addChart": {"chart": _chart(sheet_id)}}]})
    doc = http.spreadsheets_get(sid, params={"fields": "sheets(charts(chartId,spec,position))"})
    (found,) = doc["sheets"][0]["charts"]
    assert found == _chart(sheet_id)

    spec = copy.deepcopy(found["spec"])
    spec["title"] = "Scores"
    moved = copy.deepcopy(found["position"])
    moved["overlayPosition"]["anchorCell"]["rowIndex"] = 9
    http.batch_update(
        sid,
        {
            "requests": [
                {"updateChartSpec": {"chartId": 7, "spec": spec}},
                {
                    "updateEmbeddedObjectPosition": {
                        "objectId": 7,
                        "newPosition": moved,
                        "fields": "overlayPosition",
                    }
                },
            ]
        },
    )
    chart = sheets_api.spreadsheet(sid).sheet("OKRs").charts[7]
    assert chart["spec"]["title"] == "Scores" and chart["position"] == moved
    http.batch_update(sid, {"requests": [{"deleteEmbeddedObject": {"objectId": 7}}]})
    assert sheets_api.spreadsheet(sid).sheet("OKRs").charts == {}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["spec"].update(colour="red"), 'Unknown name "colour"'),
        (lambda c: c["spec"]["basicChart"].update(chartType="PIE"), "TYPE_ENUM"),
        (lambda c: c.update(chartId="seven"), "TYPE_INTEGER"),
        (lambda c: c["spec"]["basicChart"].update(series=[]), "at least one series"),
        (
            lambda c: c["position"]["overlayPosition"]["anchorCell"].update(sheetId=999),
            "No grid with id: 999",
        ),
    ],
)
def test_a_malformed_add_chart_is_refused_and_nothing_is_applied(
    sheets_api, sheet, change, message
):
    sid, sheet_id, http = sheet
    chart = _chart(sheet_id)
    change(chart)
    with pytest.raises(Exception, match=message):
        http.batch_update(
            sid,
            {
                "requests": [
                    {"addChart": {"chart": _chart(sheet_id, 8)}},
                    {"addChart": {"chart": chart}},
                ]
            },
        )
    assert sheets_api.spreadsheet(sid).sheet("OKRs").charts == {}


def test_chart_ids_are_unique_and_only_existing_charts_can_change(sheet):
    sid, sheet_id, http = sheet
    http.batch_update(sid, {"requests": [{"addChart": {"chart": _chart(sheet_id)}}]})
    with pytest.raises(Exception, match="already exists"):
        http.batch_update(sid, {"requests": [{"addChart": {"chart": _chart(sheet_id)}}]})
    with pytest.raises(Exception, match="No object with id 99"):
        http.batch_update(sid, {"requests": [{"deleteEmbeddedObject": {"objectId": 99}}]})
