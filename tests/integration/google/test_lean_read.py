"""Reading only what the sync needs: the configured tabs by `ranges` once their titles are
known from an earlier answer, compressed answers, and a mask without duplicated values."""

from __future__ import annotations

import gzip
import json
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from sheetsync.backends.google.known_tabs import KnownTabs
from sheetsync.config import parse_config
from sheetsync.runner import run_all
from tests.integration.google.workbooks import okr_rows, open_book, score_plan
from tests.sheets_standin import Formula, SheetsStandIn
from tests.sheets_standin.server import wants_gzip

WANTED = ["OKRs", "KPIs", "Summary", "History"]


def _spreadsheet(api: SheetsStandIn) -> str:
    return api.create_spreadsheet(
        "Team OKRs",
        {
            "OKRs": okr_rows(3),
            "KPIs": [["KPI", "Actual"], ["Churn", 0.05]],
            "Dashboard": [[f"chart data {i}"] * 20 for i in range(200)],
        },
    )


def test_an_unchanged_sync_asks_only_for_the_configured_tabs_by_range(
    sheets_api: SheetsStandIn, service_account_file: Path, tmp_path: Path
) -> None:
    sid = _spreadsheet(sheets_api)
    known = tmp_path / "google-tabs"
    first = open_book(sheets_api, sid, service_account_file, known_tabs=KnownTabs(known))
    first.read(WANTED)
    first.write(score_plan(3, history=2))
    first.close()
    sheets_api.reset_counts()

    night = open_book(sheets_api, sid, service_account_file, known_tabs=KnownTabs(known))
    snapshot = night.read(["okrs", "KPIs", "History"])
    result = night.write(score_plan(3, history=2))

    assert not result.wrote
    assert night.requests == 1
    (request,) = sheets_api.requests_of("get")
    assert request.params["ranges"] == ["'OKRs'", "'KPIs'", "'History'"]
    assert "Dashboard" not in snapshot.tabs
    assert snapshot.tabs["KPIs"] == [["KPI", "Actual"], ["Churn", 0.05]]


def test_the_first_read_of_a_spreadsheet_reads_every_tab_in_one_request(
    sheets_api: SheetsStandIn, service_account_file: Path, tmp_path: Path
) -> None:
    sid = _spreadsheet(sheets_api)
    book = open_book(
        sheets_api, sid, service_account_file, known_tabs=KnownTabs(tmp_path / "google-tabs")
    )

    snapshot = book.read(WANTED)

    assert book.requests == 1
    (request,) = sheets_api.requests_of("get")
    assert "ranges" not in request.params
    assert set(snapshot.tabs) == {"OKRs", "KPIs"}
    saved = json.loads((tmp_path / "google-tabs" / f"{sid}.json").read_text())
    assert saved == {"tabs": ["Dashboard", "KPIs", "OKRs"]}


def test_a_remembered_tab_that_was_deleted_costs_one_more_read_and_nothing_else(
    sheets_api: SheetsStandIn, service_account_file: Path, tmp_path: Path
) -> None:
    sid = _spreadsheet(sheets_api)
    known = KnownTabs(tmp_path / "google-tabs")
    known.put(sid, ["OKRs", "KPIs", "Old tab"])
    book = open_book(sheets_api, sid, service_account_file, known_tabs=known)

    snapshot = book.read(["OKRs", "KPIs", "Old tab"])

    assert set(snapshot.tabs) == {"OKRs", "KPIs"}
    assert [r.status for r in sheets_api.requests_of("get")] == [400, 200]
    assert known.get(sid) == ["Dashboard", "KPIs", "OKRs"]


def test_the_read_is_answered_gzip_compressed(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = _spreadsheet(sheets_api)
    book = open_book(sheets_api, sid, service_account_file)

    book.read(WANTED)

    (request,) = sheets_api.requests_of("get")
    assert request.gzipped
    assert "gzip" in request.headers["User-Agent"]
    plain = len(json.dumps(sheets_api.spreadsheet(sid).resource(include_grid=True)))
    assert request.bytes_down < plain / 4


def test_the_stand_in_compresses_only_for_a_user_agent_that_says_gzip(
    sheets_api: SheetsStandIn,
) -> None:
    sid = _spreadsheet(sheets_api)
    session = sheets_api.session()
    url = f"{sheets_api.url}/v4/spreadsheets/{sid}/values/OKRs"

    session.headers["Accept-Encoding"] = "gzip"
    plain = session.get(url, stream=True)
    session.headers["User-Agent"] = "my program (gzip)"
    packed = session.get(url, stream=True)

    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert json.loads(gzip.decompress(packed.raw.read())) == json.loads(plain.raw.read())
    assert wants_gzip("gzip, deflate", "x (gzip)") and not wants_gzip("deflate", "x (gzip)")


def test_a_cell_without_a_formula_comes_once_and_a_formula_cell_with_its_formula(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet(
        "Team OKRs", {"OKRs": [["Target", "Current"], [100, Formula("=SUM(C1:C9)", 42.5)]]}
    )
    book = open_book(sheets_api, sid, service_account_file)

    snapshot = book.read(["OKRs"])

    assert snapshot.tabs["OKRs"] == [["Target", "Current"], [100, 42.5]]
    (request,) = sheets_api.requests_of("get")
    answer = sheets_api.session().get(
        f"{sheets_api.url}/v4/spreadsheets/{sid}", params=request.params
    )
    plain, formula = answer.json()["sheets"][0]["data"][0]["rowData"][1]["values"]
    assert plain == {"effectiveValue": {"numberValue": 100}}
    assert formula["userEnteredValue"] == {"formulaValue": "=SUM(C1:C9)"}


@pytest.mark.parametrize(
    "settings",
    [{"alerts": {"enabled": False}, "tabs": {"alerts": ""}}, {"alerts": {"enabled": False}}],
    ids=["no Alerts tab configured", "alerts off, so the Alerts tab is not asked for"],
)
def test_sheetsync_run_remembers_the_tabs_beside_its_config_and_reads_by_range_next_night(
    sheets_api: SheetsStandIn, service_account_file: Path, tmp_path: Path, settings: dict[str, Any]
) -> None:
    sid = sheets_api.create_spreadsheet(
        "Team OKRs",
        {
            "OKRs": [
                ["Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period"],
                ["Grow", "Leads", "ana@example.com", 0, 100, 42, "2026-Q4"],
            ],
            "KPIs": [
                ["KPI", "Owner", "Direction", "Target", "Actual"],
                ["Churn", "ana@example.com", "lower", 0.05, 0.04],
            ],
            "Dashboard": [[f"chart data {i}"] * 20 for i in range(200)],
        },
    )
    config_file = tmp_path / "sheetsync.toml"
    config_file.write_text("# written by the test; the settings are below\n")
    config = parse_config(
        {
            "workbooks": [{"name": "team", "spreadsheet": sid}],
            "google": {"api_url": sheets_api.url, "credentials": str(service_account_file)},
            **settings,
        },
        source=str(config_file),
    )
    first = run_all(config, as_of=date(2026, 11, 15), now=datetime(2026, 11, 15, 2))
    sheets_api.reset_counts()

    night = run_all(config, as_of=date(2026, 11, 15), now=datetime(2026, 11, 15, 2))

    assert first.workbooks[0].error is None and night.workbooks[0].error is None
    assert sheets_api.api_requests == 1
    (request,) = sheets_api.requests_of("get")
    assert request.params["ranges"] == [
        "'OKRs'",
        "'KPIs'",
        "'Summary'",
        "'History'!1:2",  # its header only: History's state tab exists, the log is not read
        "'History state'",
    ]
    assert (tmp_path / ".sheetsync" / "google-tabs" / f"{sid}.json").is_file()
    assert "Alerts" not in [s.title for s in sheets_api.spreadsheet(sid).sheets]
