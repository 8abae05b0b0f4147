"""Permanent failures fail at once with a message that says what to do, and no secret
reaches a log or an error."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from sheetsync.core.errors import (
    BackendError,
    TransientBackendError,
)
from tests.integration.google.workbooks import okr_rows, open_book
from tests.sheets_standin import SERVICE_ACCOUNT_EMAIL, SheetsStandIn


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
