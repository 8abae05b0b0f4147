"""The Google Sheets backend against the local Sheets API stand-in, over real HTTP.

Real gspread and google-auth (the service-account JWT flow against the stand-in's /token), no
mocks: faults, permissions and concurrent edits are played by the stand-in.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sheetsync.backends.base import CellWrite, OwnedTab, RowGuard, WritePlan
from sheetsync.backends.google import (
    GoogleSheetsWorkbook,
    RetryPolicy,
    load_credentials,
    resolve_api_url,
)
from sheetsync.core.errors import (
    BackendError,
    ConfigError,
    RowsMovedError,
    TransientBackendError,
)
from sheetsync.core.model import Colour
from tests.sheets_standin import SERVICE_ACCOUNT_EMAIL, Formula, SheetsStandIn

pytest_plugins = ["tests.sheets_standin.fixtures"]

FAST = RetryPolicy(max_attempts=4, max_seconds=10, base_delay=0.01, max_delay=0.05)
HEADER = ["Objective", "Key result", "Target", "Current", "Score", "Status", "Note"]


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that tries to resolve a host other than this machine."""
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in ("localhost", "::1") and not name.startswith("127."):
            raise OSError(f"test tried to reach {name}")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)


def okr_rows(n: int) -> list[list[Any]]:
    return [HEADER] + [[f"Objective {i // 4}", f"KR {i}", 100, i] for i in range(n)]


def open_book(
    api: SheetsStandIn, sid: str, credentials: Path, **kwargs: Any
) -> GoogleSheetsWorkbook:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("timeout", 5.0)
    return GoogleSheetsWorkbook(sid, credentials=credentials, api_url=api.url, **kwargs)


def score_plan(n: int, *, history: int = 0) -> WritePlan:
    """Score, Status and Note for n key results, plus an owned History tab of `history` rows."""
    cells = []
    guards = []
    for i in range(n):
        row = i + 2
        colour = Colour.GREEN if i % 2 else Colour.RED
        cells += [
            CellWrite("OKRs", row, 5, round(i / max(n, 1), 4), colour, "0.00"),
            CellWrite("OKRs", row, 6, "On track" if i % 2 else "Off track", colour),
            CellWrite("OKRs", row, 7, f"note {i}"),
        ]
        guards.append(RowGuard("OKRs", row, 2, f"KR {i}"))
    owned = []
    if history:
        rows: list[list[Any]] = [["Date", "Key result", "Score"]]
        rows += [[date(2024, 1, 1 + i % 28), f"KR {i}", i / 10] for i in range(history)]
        owned.append(OwnedTab("History", rows, widths={1: 12, 2: 30}))
    return WritePlan(cells=cells, owned_tabs=owned, guards=guards)


# --- auth and reading ------------------------------------------------------------------------


def test_service_account_token_flow_gets_a_token_from_the_token_uri(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    sheets_api.restrict(sid, [SERVICE_ACCOUNT_EMAIL])

    book = open_book(sheets_api, sid, service_account_file)
    snapshot = book.read(["OKRs"])

    assert snapshot.tabs["OKRs"][1][:2] == ["Objective 0", "KR 0"]
    assert sheets_api.counts == {"token": 1, "get": 1}
    token_request = sheets_api.requests_of("token")[0]
    assert token_request.body["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer"
    assert sheets_api.requests_of("get")[0].email == SERVICE_ACCOUNT_EMAIL


def test_authorised_user_token_file_works_too(
    sheets_api: SheetsStandIn, authorized_user_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})

    snapshot = open_book(sheets_api, sid, authorized_user_file).read(["OKRs"])

    assert snapshot.tabs["OKRs"][0] == HEADER
    assert sheets_api.requests_of("token")[0].body["grant_type"] == "refresh_token"


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


def test_a_full_spreadsheet_url_is_accepted(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    url = f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"

    book = GoogleSheetsWorkbook(url, credentials=service_account_file, api_url=sheets_api.url)

    assert book.spreadsheet_id == sid
    assert "OKRs" in book.read(["OKRs"]).tabs


# --- writing -----------------------------------------------------------------------------------


def test_write_costs_one_verify_get_and_one_batch_update(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.reset_counts()

    result = book.write(score_plan(3, history=2))

    assert sheets_api.counts == {"get": 1, "batchUpdate": 1}
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
    assert sheets_api.counts == {"token": 1, "get": 1}


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

    assert costs[10] == costs[2000] == (3, 2, 1)


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
    assert sheets_api.counts == {"get": 1, "batchUpdate": 1}


def test_output_columns_beyond_the_grid_grow_it(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)}, rows=3, cols=4)
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])

    book.write(score_plan(2))

    assert sheets_api.grid_size(sid, "OKRs") == (3, 7)
    assert sheets_api.value(sid, "OKRs", "G3") == "note 1"


# --- concurrent edits --------------------------------------------------------------------------


def test_a_row_inserted_between_read_and_write_stops_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.after_next(
        "get", lambda _: sheets_api.insert_rows(sid, "OKRs", 3, [["Objective 0", "New KR", 5, 1]])
    )
    book.read(["OKRs"])

    with pytest.raises(RowsMovedError, match=r"rows on tab 'OKRs' changed.*B3 was 'KR 1'"):
        book.write(score_plan(3))

    assert "batchUpdate" not in sheets_api.counts
    assert all(len(row) <= 4 for row in sheets_api.values(sid, "OKRs")[1:])


def test_a_tab_renamed_between_read_and_write_stops_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.spreadsheet(sid).sheet("OKRs").title = "OKRs (old)"

    with pytest.raises(RowsMovedError, match="renamed or deleted"):
        book.write(score_plan(2))

    assert "batchUpdate" not in sheets_api.counts


# --- retries ---------------------------------------------------------------------------------


def test_429_with_retry_after_is_waited_out_then_succeeds(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.fail_next(429, retry_after=1, kind="get")

    started = time.monotonic()
    snapshot = book.read(["OKRs"])

    assert time.monotonic() - started >= 1.0
    assert "OKRs" in snapshot.tabs
    assert (book.requests, book.retries) == (2, 1)


def test_503_twice_then_the_batch_goes_through_once(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.fail_next(503, times=2, kind="batchUpdate")

    result = book.write(score_plan(2, history=1))

    assert result.wrote
    assert sheets_api.counts["batchUpdate"] == 3
    assert sheets_api.tabs(sid) == ["OKRs", "History"]
    assert sheets_api.value(sid, "OKRs", "G3") == "note 1"


def test_a_lost_answer_to_the_batch_does_not_create_the_tab_twice(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.drop_next(kind="batchUpdate", after_applying=True)

    result = book.write(score_plan(2, history=3))

    assert result.tabs_created == ["History"]
    assert sheets_api.tabs(sid) == ["OKRs", "History"]
    assert len(sheets_api.values(sid, "History")) == 4
    assert sheets_api.grid_size(sid, "History") == (4, 3)
    assert not book.write(score_plan(2, history=3)).wrote


def test_a_dropped_connection_is_retried(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.drop_next(kind="get")

    assert "OKRs" in book.read(["OKRs"]).tabs
    assert sheets_api.counts["get"] == 2


def test_a_slow_answer_times_out_and_is_retried(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, timeout=1.0)
    book.read(["OKRs"])
    sheets_api.delay_next(2.5, kind="get")

    book.write(score_plan(1))

    assert sheets_api.counts["get"] == 3
    assert sheets_api.value(sid, "OKRs", "G2") == "note 0"


def test_retries_give_up_after_the_attempt_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, retry=RetryPolicy(3, 10, 0.01, 0.02))
    sheets_api.fail_next(503, times=10)

    with pytest.raises(TransientBackendError, match=r"kept failing .*HTTP 503.* after 3 attempts"):
        book.read(["OKRs"])

    assert book.requests == 3


def test_retries_give_up_rather_than_wait_past_the_time_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, retry=RetryPolicy(10, 2, 0.01, 0.02))
    sheets_api.fail_next(429, times=10, retry_after=30)

    started = time.monotonic()
    with pytest.raises(TransientBackendError, match=r"quota exceeded.*60 requests/min per user"):
        book.read(["OKRs"])

    assert time.monotonic() - started < 2
    assert book.requests == 1


# --- permanent errors -------------------------------------------------------------------------


def test_a_sheet_not_shared_with_the_service_account_says_whom_to_share_with(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet(
        "Team OKRs", {"OKRs": okr_rows(1)}, shared_with=["boss@example.com"]
    )
    book = open_book(sheets_api, sid, service_account_file)

    with pytest.raises(BackendError) as caught:
        book.read(["OKRs"])

    assert not isinstance(caught.value, TransientBackendError)
    assert caught.value.detail == (
        f"The spreadsheet is not shared with {SERVICE_ACCOUNT_EMAIL}. Open it in Google Sheets, "
        "click Share and add that address as an Editor."
    )
    assert book.requests == 1


def test_an_unknown_spreadsheet_id_fails_at_once(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    book = open_book(sheets_api, "1NoSuchSpreadsheetXXXXXXXXXXXXXXX", service_account_file)

    with pytest.raises(
        BackendError,
        match=r"No spreadsheet with ID 1NoSuchSpreadsheetX+ \(check the ID/URL in the config\)",
    ):
        book.read(["OKRs"])

    assert book.requests == 1


def test_a_disabled_sheets_api_names_the_project_to_enable_it_for(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    sheets_api.disable_api("123456789012")
    book = open_book(sheets_api, sid, service_account_file)

    with pytest.raises(BackendError, match="enable the Google Sheets API for project 123456789012"):
        book.read(["OKRs"])

    assert book.requests == 1


def test_an_expired_token_is_refreshed_transparently(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.revoke_tokens()

    assert book.write(score_plan(1)).wrote
    assert sheets_api.counts["token"] == 2


def test_a_key_google_no_longer_accepts_says_to_make_a_new_one(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    other = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    sheets_api.register_service_account(SERVICE_ACCOUNT_EMAIL, other.public_key())
    book = open_book(sheets_api, sid, service_account_file)

    with pytest.raises(BackendError, match=r"invalid_grant.*create a new one for sheetsync-test@"):
        book.read(["OKRs"])

    assert sheets_api.api_requests == 0


def test_secrets_stay_out_of_logs_and_errors(
    sheets_api: SheetsStandIn, service_account_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)}, shared_with=["x@y.z"])
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.fail_next(500)

    with pytest.raises(BackendError) as caught:
        book.read(["OKRs"])

    key = json.loads(service_account_file.read_text())["private_key"]
    assert [r.status for r in sheets_api.requests_of("get")] == [500, 403]
    assert "retrying" in caplog.text
    for text in (caplog.text, str(caught.value), repr(caught.value)):
        assert "ya29." not in text and "PRIVATE KEY" not in text and key[40:80] not in text


# --- configuration ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "not valid JSON (line 1, column 2)"),
        ('{"type": "service_account", "client_email": "a@b.c"}', "lacks private_key, token_uri"),
        ('{"installed": {"client_id": "x"}}', "OAuth client ID file, not a token"),
        ('{"type": "external_account"}', "unknown credentials type 'external_account'"),
    ],
)
def test_bad_credentials_files_name_the_file_and_the_problem(
    tmp_path: Path, content: str | None, expected: str
) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(ConfigError, match=re.escape(expected)) as caught:
        load_credentials(path)

    assert str(path) in str(caught.value)


def test_an_unreadable_private_key_is_reported_without_its_content(
    tmp_path: Path, service_account_file: Path
) -> None:
    info = json.loads(service_account_file.read_text())
    info["private_key"] = info["private_key"][:200] + "garbage-----END PRIVATE KEY-----\n"
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(info))

    with pytest.raises(ConfigError, match=r"private_key .* cannot be read") as caught:
        load_credentials(path)

    assert info["private_key"][40:80] not in str(caught.value)


def test_credentials_fall_back_to_google_application_credentials(
    monkeypatch: pytest.MonkeyPatch, service_account_file: Path
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(service_account_file))

    assert load_credentials().email == SERVICE_ACCOUNT_EMAIL


def test_no_credentials_at_all_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)

    with pytest.raises(ConfigError, match="no Google credentials"):
        load_credentials()


@pytest.mark.parametrize("url", ["http://example.com", "http://10.0.0.5:8080", "ftp://127.0.0.1"])
def test_plain_http_to_another_host_is_refused(url: str, service_account_file: Path) -> None:
    with pytest.raises(ConfigError, match="api_url"):
        resolve_api_url(url)
    with pytest.raises(ConfigError, match="api_url"):
        GoogleSheetsWorkbook("1" + "a" * 43, credentials=service_account_file, api_url=url)


def test_api_url_comes_from_the_environment_and_loopback_http_is_fine(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEETSYNC_SHEETS_API_URL", "http://127.0.0.1:8123/v4/")

    assert resolve_api_url() == "http://127.0.0.1:8123"
    assert resolve_api_url("https://sheets.example.internal") == "https://sheets.example.internal"
    assert resolve_api_url("http://[::1]:9") == "http://[::1]:9"


def test_the_limiter_runs_before_every_request(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    calls = []
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file, limiter=lambda: calls.append(1))
    sheets_api.fail_next(429, kind="batchUpdate")

    book.read(["OKRs"])
    book.write(score_plan(2))

    assert len(calls) == book.requests == sheets_api.api_requests == 4


# --- the stand-in itself -----------------------------------------------------------------------


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
