"""Keyless Google credentials (Application Default Credentials): a person's gcloud login
impersonating the sheetsync service account through a local IAM credentials stand-in, and what
sheetsync says when the identity it used cannot open the spreadsheet."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sheetsync.backends.google import load_credentials
from sheetsync.core.errors import BackendError, ConfigError
from tests.integration.google.workbooks import okr_rows, open_book
from tests.sheets_standin import OAUTH_USER_EMAIL, SheetsStandIn
from tests.sheets_standin.fixtures import write_authorized_user_file
from tests.sheets_standin.identity import IamCredentialsServer

SHEETSYNC_ACCOUNT = "sheetsync@okr-project.iam.gserviceaccount.com"


def gcloud_adc_file(iam: IamCredentialsServer, sheets_api: SheetsStandIn, tmp_path: Path) -> Path:
    """What `gcloud auth application-default login --impersonate-service-account=...` writes,
    in gcloud's own folder (CLOUDSDK_CONFIG)."""
    person = json.loads(
        write_authorized_user_file(tmp_path / "person.json", sheets_api).read_text()
    )
    adc = Path(os.environ["CLOUDSDK_CONFIG"]) / "application_default_credentials.json"
    adc.write_text(
        json.dumps(
            {
                "type": "impersonated_service_account",
                "service_account_impersonation_url": iam.url_for(SHEETSYNC_ACCOUNT),
                "source_credentials": person,
                "delegates": [],
            }
        )
    )
    return adc


@pytest.fixture
def iam(sheets_api: SheetsStandIn):
    with IamCredentialsServer(sheets_api, {SHEETSYNC_ACCOUNT: {OAUTH_USER_EMAIL}}) as server:
        yield server


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)


def test_a_person_impersonating_the_sheetsync_account_needs_no_key(
    sheets_api: SheetsStandIn, iam: IamCredentialsServer, tmp_path: Path
) -> None:
    gcloud_adc_file(iam, sheets_api, tmp_path)
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    sheets_api.restrict(sid, [SHEETSYNC_ACCOUNT])

    book = open_book(sheets_api, sid, "default")  # type: ignore[arg-type]
    snapshot = book.read(["OKRs"])

    assert snapshot.tabs["OKRs"][1][:2] == ["Objective 0", "KR 0"]
    assert iam.callers == [OAUTH_USER_EMAIL], "the person's token asked IAM, once"
    assert {r.email for r in sheets_api.requests_of("get")} == {SHEETSYNC_ACCOUNT}
    assert book.account == SHEETSYNC_ACCOUNT


def test_no_credentials_setting_at_all_uses_application_default_credentials_too(
    sheets_api: SheetsStandIn, iam: IamCredentialsServer, tmp_path: Path
) -> None:
    gcloud_adc_file(iam, sheets_api, tmp_path)

    loaded = load_credentials(None)

    assert loaded.email == SHEETSYNC_ACCOUNT
    assert loaded.kind == (
        "impersonated_service_account (impersonated by the Google account of "
        "`gcloud auth application-default login`)"
    )


def test_a_sheet_not_shared_with_the_impersonated_account_names_it_and_who_signed_in(
    sheets_api: SheetsStandIn, iam: IamCredentialsServer, tmp_path: Path
) -> None:
    adc = gcloud_adc_file(iam, sheets_api, tmp_path)
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)}, shared_with=["x@y.z"])

    with pytest.raises(BackendError) as caught:
        open_book(sheets_api, sid, "default").read(["OKRs"])  # type: ignore[arg-type]

    assert caught.value.detail == (
        f"The spreadsheet is not shared with {SHEETSYNC_ACCOUNT}. Open it in Google Sheets, "
        "click Share and add that address as an Editor. sheetsync signed in as "
        f"{SHEETSYNC_ACCOUNT}, impersonated by the Google account of `gcloud auth "
        f"application-default login` (Application Default Credentials in {adc})."
    )


def test_a_person_without_token_creator_on_the_account_is_told_so(
    sheets_api: SheetsStandIn, tmp_path: Path
) -> None:
    with IamCredentialsServer(sheets_api, {}) as iam:
        gcloud_adc_file(iam, sheets_api, tmp_path)
        sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})

        with pytest.raises(BackendError) as caught:
            open_book(sheets_api, sid, "default").read(["OKRs"])  # type: ignore[arg-type]

    assert iam.callers == [OAUTH_USER_EMAIL]
    assert caught.value.detail.startswith(
        f"Google refused to let the signed-in account act as {SHEETSYNC_ACCOUNT} "
    )
    assert "Service Account Token Creator role" in caught.value.detail


def test_workload_identity_federation_from_github_actions_needs_no_key(
    sheets_api: SheetsStandIn, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The external_account file `gcloud iam workload-identity-pools create-cred-config`
    writes: GitHub's OIDC token, exchanged at STS, then used to act as the sheetsync account."""
    principal = "principal://iam.googleapis.com/projects/123/locations/global/workloadIdentityPools/github/subject/repo:acme/okrs:ref:refs/heads/main"
    with IamCredentialsServer(sheets_api, {SHEETSYNC_ACCOUNT: {principal}}) as iam:
        iam.federated["github-oidc-token"] = principal
        oidc = tmp_path / "oidc-token"
        oidc.write_text("github-oidc-token")
        config = tmp_path / "federation.json"
        config.write_text(
            json.dumps(
                {
                    "type": "external_account",
                    "audience": "//iam.googleapis.com/projects/123/locations/global/"
                    "workloadIdentityPools/github/providers/github",
                    "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
                    "token_url": iam.sts_url,
                    "service_account_impersonation_url": iam.url_for(SHEETSYNC_ACCOUNT),
                    "credential_source": {"file": str(oidc)},
                }
            )
        )
        monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(config))
        sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
        sheets_api.restrict(sid, [SHEETSYNC_ACCOUNT])

        book = open_book(sheets_api, sid, None)  # type: ignore[arg-type]
        book.read(["OKRs"])

    assert iam.callers == [principal]
    assert {r.email for r in sheets_api.requests_of("get")} == {SHEETSYNC_ACCOUNT}
    assert book.account == SHEETSYNC_ACCOUNT


def test_with_no_key_no_login_and_no_metadata_server_the_message_lists_the_ways() -> None:
    with pytest.raises(ConfigError) as caught:
        load_credentials("default")

    message = str(caught.value)
    assert "no Google credentials found" in message
    assert "Workload Identity" in message
    assert "gcloud auth application-default login --scopes=" in message
