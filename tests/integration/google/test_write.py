"""Writing a plan: one batchUpdate carrying only what differs (checked in its own answer),
text that stays text, and everything sheetsync does not own left alone."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from sheetsync.backends.base import CellWrite, OwnedTab, RowGuard, WritePlan
from sheetsync.backends.google import GoogleSheetsWorkbook
from sheetsync.core.model import Colour
from tests.integration.google.workbooks import HEADER, okr_rows, open_book, score_plan
from tests.sheets_standin import Formula, SheetsStandIn


def test_write_costs_one_batch_update_checked_in_its_own_answer(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.reset_counts()

    result = book.write(score_plan(3, history=2))

    assert sheets_api.counts == {"batchUpdate": 1}
    body = sheets_api.requests_of("batchUpdate")[0].body
    assert body["includeSpreadsheetInResponse"] is True
    assert body["responseRanges"] == ["'OKRs'!1:4"]
    assert result.wrote and result.tabs_created == ["History"]
    assert sheets_api.values(sid, "OKRs")[2][4:] == [0.3333, "On track", "note 1"]
    assert sheets_api.background(sid, "OKRs", "E2") == Colour.RED.value
    assert sheets_api.background(sid, "OKRs", "F3") == Colour.GREEN.value
    assert sheets_api.number_format(sid, "OKRs", "E2") == {"type": "NUMBER", "pattern": "0.00"}
    assert sheets_api.values(sid, "History") == [
        ["Date", "Key result", "Score"],
        [45292, "KR 0", 0],
        [45293, "KR 1", 0.1],
    ]
    assert sheets_api.number_format(sid, "History", "A2") == {
        "type": "DATE",
        "pattern": "yyyy-mm-dd",
    }
    assert sheets_api.column_width(sid, "History", 2) == 215


def test_a_plan_that_changes_nothing_makes_no_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    first = open_book(sheets_api, sid, service_account_file)
    first.read(["OKRs"])
    first.write(score_plan(3, history=2))
    sheets_api.reset_counts()

    again = first.write(score_plan(3, history=2))
    second = open_book(sheets_api, sid, service_account_file)
    second.read(["OKRs"])
    fresh = second.write(score_plan(3, history=2))

    assert not again.wrote and not fresh.wrote
    assert sheets_api.counts == {"get": 1}, "the second book reuses the first one's token"


def test_request_count_is_the_same_for_10_and_2000_rows(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    costs = {}
    for n in (10, 2000):
        sid = sheets_api.create_spreadsheet(f"{n} rows", {"OKRs": okr_rows(n)})
        book = open_book(sheets_api, sid, service_account_file)
        sheets_api.reset_counts()
        book.read(["OKRs"])
        book.write(score_plan(n, history=n))
        costs[n] = (
            book.requests,
            sheets_api.counts.get("get"),
            sheets_api.counts.get("batchUpdate"),
        )
        assert sheets_api.values(sid, "OKRs")[n][6] == f"note {n - 1}"
        assert len(sheets_api.values(sid, "History")) == n + 1

    assert costs[10] == costs[2000] == (2, 1, 1)


def test_text_that_looks_like_a_formula_stays_text(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])

    book.write(WritePlan(cells=[CellWrite("OKRs", 2, 7, "=1+1"), CellWrite("OKRs", 2, 6, "+A1")]))

    assert sheets_api.cell(sid, "OKRs", "G2")["userEnteredValue"] == {"stringValue": "=1+1"}
    assert sheets_api.formula(sid, "OKRs", "G2") is None
    assert sheets_api.value(sid, "OKRs", "F2") == "+A1"


def test_formulas_formats_and_other_tabs_are_left_alone(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet(
        "Team OKRs",
        {
            "OKRs": [
                HEADER,
                ["Grow", "Leads", 100, Formula("=Data!B2*2", 40), None, None, None, "mine"],
            ],
            "Data": [["raw"], [1, 20]],
        },
    )
    sheets_api.set_format(sid, "OKRs", "A1:H1", background="D9E1F2", bold=True)
    sheets_api.set_format(sid, "OKRs", "C2", number_format={"type": "NUMBER", "pattern": "#,##0"})
    sheets_api.set_format(sid, "OKRs", "F2", bold=True)
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    data_before = sheets_api.cell(sid, "Data", "B2")

    book.write(
        WritePlan(
            cells=[
                CellWrite("OKRs", 2, 5, 0.4, Colour.AMBER, "0.00"),
                CellWrite("OKRs", 2, 6, "At risk", Colour.AMBER),
            ],
            guards=[RowGuard("OKRs", 2, 2, "Leads")],
        )
    )

    assert sheets_api.formula(sid, "OKRs", "D2") == "=Data!B2*2"
    assert sheets_api.value(sid, "OKRs", "D2") == 40
    assert sheets_api.background(sid, "OKRs", "A1") == "D9E1F2"
    assert sheets_api.cell(sid, "OKRs", "A1")["userEnteredFormat"]["textFormat"] == {"bold": True}
    assert sheets_api.number_format(sid, "OKRs", "C2") == {"type": "NUMBER", "pattern": "#,##0"}
    assert sheets_api.value(sid, "OKRs", "H2") == "mine"
    assert sheets_api.cell(sid, "OKRs", "F2")["userEnteredFormat"]["textFormat"] == {"bold": True}
    assert sheets_api.background(sid, "OKRs", "F2") == Colour.AMBER.value
    assert sheets_api.cell(sid, "Data", "B2") == data_before


def test_an_owned_tab_sends_only_the_rows_that_changed(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    history: list[list[Any]] = [
        ["Date", "Key result", "Score"],
        ["2024-01-01", "KR 0", 0.5],
        ["2024-01-01", "KR 1", 0.7],
    ]
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2), "History": history})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs", "History"])
    sheets_api.reset_counts()

    rows = [*history, ["2024-01-08", "KR 0", 0.6], ["2024-01-08", "KR 1", 0.8]]
    result = book.write(WritePlan(owned_tabs=[OwnedTab("history", rows)]))

    body = sheets_api.requests_of("batchUpdate")[0].body
    updates = [r["updateCells"] for r in body["requests"] if "updateCells" in r]
    assert [(u["start"]["rowIndex"], len(u["rows"])) for u in updates] == [(3, 2)]
    assert result.cells_changed == 6 and result.tabs_created == []
    assert sheets_api.values(sid, "History")[-1] == ["2024-01-08", "KR 1", 0.8]


def test_a_second_write_sends_only_what_the_first_did_not(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    plan = score_plan(3)
    book.write(plan)
    sheets_api.reset_counts()

    alerts = OwnedTab("Alerts", [["Sent", "Key result"], ["2024-01-08", "KR 0"]])
    result = book.write(WritePlan(cells=plan.cells, owned_tabs=[alerts], guards=plan.guards))

    body = sheets_api.requests_of("batchUpdate")[0].body
    assert [next(iter(r)) for r in body["requests"]] == ["addSheet", "updateCells"]
    assert result.cells_changed == 4
    assert sheets_api.counts == {"batchUpdate": 1}


def test_output_columns_beyond_the_grid_grow_it(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)}, rows=3, cols=4)
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])

    book.write(score_plan(2))

    assert sheets_api.grid_size(sid, "OKRs") == (3, 7)
    assert sheets_api.value(sid, "OKRs", "G3") == "note 1"


def test_text_longer_than_a_google_cell_holds_is_cut_with_a_marker_and_written_once(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    long_note = "x" * 60_000
    plan = WritePlan(
        cells=[CellWrite("OKRs", 2, 7, long_note)],
        owned_tabs=[OwnedTab("Alerts", [["Message"], ["y" * 123_456]])],
    )

    assert book.write(plan).wrote
    again = open_book(sheets_api, sid, service_account_file)
    again.read(["OKRs", "Alerts"])
    repeat = again.write(plan)

    note = sheets_api.value(sid, "OKRs", "G2")
    message = sheets_api.value(sid, "Alerts", "A2")
    assert len(note) == len(message) == 50_000
    assert note.startswith("x" * 49_000) and note.endswith(
        "[cut by sheetsync: 60,000 characters; a Google Sheets cell holds 50,000]"
    )
    assert message.endswith(
        "[cut by sheetsync: 123,456 characters; a Google Sheets cell holds 50,000]"
    )
    assert not repeat.wrote, "the cut text is what the next run plans too"


def _batch(api: SheetsStandIn) -> list[tuple[str, dict[str, Any]]]:
    """The last batchUpdate's requests as (kind, body) pairs."""
    body = api.requests_of("batchUpdate")[-1].body
    return [next(iter(r.items())) for r in body["requests"]]


def _scored(
    api: SheetsStandIn, service_account_file: Path, n: int
) -> tuple[str, GoogleSheetsWorkbook, WritePlan]:
    """A spreadsheet of n key results, read and then written with `score_plan(n)`."""
    sid = api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(n)})
    book = open_book(api, sid, service_account_file)
    book.read(["OKRs"])
    plan = score_plan(n)
    book.write(plan)
    return sid, book, plan


def test_a_first_write_sends_the_output_columns_as_one_block_and_each_format_once(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid, _, _ = _scored(sheets_api, service_account_file, 6)

    (values, formats) = _batch(sheets_api)
    assert values[0] == "updateCells"
    assert values[1]["start"] == {"sheetId": 0, "rowIndex": 1, "columnIndex": 4}
    assert [len(row["values"]) for row in values[1]["rows"]] == [3] * 6  # E2:G7, one request
    assert values[1]["fields"] == "userEnteredValue,userEnteredFormat.backgroundColor"
    assert formats == (
        "repeatCell",
        {
            "range": {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 7}
            | {"startColumnIndex": 4, "endColumnIndex": 5},
            "cell": {"userEnteredFormat": {"numberFormat": {"type": "NUMBER", "pattern": "0.00"}}},
            "fields": "userEnteredFormat.numberFormat",
        },
    )
    assert sheets_api.number_format(sid, "OKRs", "E7") == {"type": "NUMBER", "pattern": "0.00"}
    assert [sheets_api.background(sid, "OKRs", f"{c}3") for c in "EFG"] == [
        Colour.GREEN.value,
        Colour.GREEN.value,
        None,
    ]


def test_new_scores_in_the_same_colours_go_as_values_alone(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid, book, plan = _scored(sheets_api, service_account_file, 6)
    moved = [
        replace(w, value=w.value + 0.01) if isinstance(w.value, float) and w.row > 4 else w
        for w in plan.cells
    ]

    book.write(WritePlan(cells=moved, guards=plan.guards))

    ((kind, update),) = _batch(sheets_api)
    assert kind == "updateCells" and update["fields"] == "userEnteredValue"
    assert update["start"] == {"sheetId": 0, "rowIndex": 4, "columnIndex": 4}
    assert [row["values"] for row in update["rows"]] == [
        [{"userEnteredValue": {"numberValue": w.value}}] for w in moved if w.col == 5 and w.row > 4
    ]
    assert sheets_api.background(sid, "OKRs", "E5") == Colour.GREEN.value
    assert sheets_api.number_format(sid, "OKRs", "E5") == {"type": "NUMBER", "pattern": "0.00"}


def test_a_colour_that_changed_alone_goes_as_one_fill_for_the_run(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid, book, plan = _scored(sheets_api, service_account_file, 6)
    amber = [replace(w, fill=Colour.AMBER) if w.fill else w for w in plan.cells]

    book.write(WritePlan(cells=amber, guards=plan.guards))

    ((kind, repeat),) = _batch(sheets_api)
    assert kind == "repeatCell" and repeat["fields"] == "userEnteredFormat.backgroundColor"
    assert repeat["range"] == {"sheetId": 0, "startRowIndex": 1, "endRowIndex": 7} | {
        "startColumnIndex": 4,
        "endColumnIndex": 6,
    }
    assert sheets_api.background(sid, "OKRs", "F7") == Colour.AMBER.value
    assert sheets_api.values(sid, "OKRs")[6][4:] == [0.8333, "On track", "note 5"]


def test_the_write_goes_as_compact_gzip_compressed_json(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid, _, _ = _scored(sheets_api, service_account_file, 300)

    (request,) = sheets_api.requests_of("batchUpdate")
    assert request.headers["Content-Encoding"] == "gzip"
    assert request.bytes_up * 5 < len(json.dumps(request.body, separators=(",", ":")))
    assert sheets_api.value(sid, "OKRs", "G301") == "note 299"


def test_an_output_header_keeps_the_persons_look_exactly_beside_inline_fills(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    rows: list[list[Any]] = [HEADER[:4], *okr_rows(6)[1:]]
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": rows})
    sheets_api.set_format(sid, "OKRs", "A1:G1", background="4A86E8", bold=True)
    header = sheets_api.cell(sid, "OKRs", "E1")["userEnteredFormat"]
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    plan = score_plan(6)
    scores = [w for w in plan.cells if w.col == 5]  # one column: the header tops its block
    title = CellWrite("OKRs", 1, 5, "Score", keep_format=True)

    book.write(WritePlan(cells=[title, *scores], guards=plan.guards))

    assert sheets_api.value(sid, "OKRs", "E1") == "Score"
    assert sheets_api.cell(sid, "OKRs", "E1")["userEnteredFormat"] == header
    assert sheets_api.background(sid, "OKRs", "E2") == Colour.RED.value
