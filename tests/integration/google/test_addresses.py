"""Where the backend goes: the spreadsheet from its ID or URL, and the Sheets API root
(https only, except plain http to this machine)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.backends.google import (
    GoogleSheetsWorkbook,
    resolve_api_url,
)
from sheetsync.core.errors import (
    ConfigError,
)
from tests.integration.google.workbooks import okr_rows
from tests.sheets_standin import SheetsStandIn


def test_a_full_spreadsheet_url_is_accepted(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    url = f"https://docs.google.com/spreadsheets/d/{sid}/edit#gid=0"

    book = GoogleSheetsWorkbook(url, credentials=service_account_file, api_url=sheets_api.url)

    assert book.spreadsheet_id == sid
    assert "OKRs" in book.read(["OKRs"]).tabs


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
