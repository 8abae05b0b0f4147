"""Loading Google credentials and getting tokens with them: service-account keys and
authorised-user token files, against the stand-in's /token, and every way a credentials file
can be wrong."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sheetsync.backends.google import (
    load_credentials,
)
from sheetsync.core.errors import (
    ConfigError,
)
from tests.integration.google.workbooks import HEADER, okr_rows, open_book, score_plan
from tests.sheets_standin import SERVICE_ACCOUNT_EMAIL, SheetsStandIn


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


def test_an_expired_token_is_refreshed_transparently(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.revoke_tokens()

    assert book.write(score_plan(1)).wrote
    assert sheets_api.counts["token"] == 2


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "does not exist"),
        ("{not json", "not valid JSON (line 1, column 2)"),
        ('{"type": "service_account", "client_email": "a@b.c"}', "lacks private_key, token_uri"),
        ('{"installed": {"client_id": "x"}}', "OAuth client ID file, not a token"),
        ('{"type": "external_account"}', "the workload identity federation file cannot be used"),
        ('{"type": "gdch_service_account"}', "unknown credentials type 'gdch_service_account'"),
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


def test_a_key_file_is_loaded_once_and_again_only_when_it_is_replaced(
    service_account_file: Path,
) -> None:
    first = load_credentials(service_account_file)

    assert load_credentials(str(service_account_file)) is first

    info = json.loads(service_account_file.read_text(encoding="utf-8"))
    service_account_file.write_text(json.dumps(info, indent=2), encoding="utf-8")
    replaced = load_credentials(service_account_file)

    assert replaced is not first
    assert replaced.email == first.email
