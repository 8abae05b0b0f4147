"""A GKE pod with Workload Identity runs `sheetsync run` with no key anywhere: google-auth finds
the metadata server (a stand-in on loopback, via GCE_METADATA_HOST and GCE_METADATA_IP, which
google-auth reads when it is first imported, hence a fresh process as in a pod)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import GoogleSheets, write_config
from tests.sheets_standin.identity import MetadataServer

ACCOUNT = "sheetsync@okr-project.iam.gserviceaccount.com"
CLEAN_OKRS = [row for row in OKRS if row[0] != "S3"]


@pytest.fixture
def metadata(sheets_api):
    with MetadataServer(sheets_api, ACCOUNT) as server:
        yield server


def run_in_pod(config, metadata) -> tuple[int, dict, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("GOOGLE_APPLICATION_CREDENTIALS", "SHEETSYNC_SHEETS_API_URL")
    }
    env.update(GCE_METADATA_HOST=metadata.host, GCE_METADATA_IP=metadata.host)
    argv = ["run", "--config", str(config), "--as-of", "2026-11-15", "--json", "-v"]
    done = subprocess.run(
        [sys.executable, "-m", "sheetsync.cli", *argv],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode, json.loads(done.stdout), done.stderr


@pytest.mark.parametrize("credentials", ['credentials = "default"\n', ""])
def test_workload_identity_syncs_with_the_metadata_servers_token(
    sheets_api, metadata, tmp_path, credentials
):
    sheets = GoogleSheets(sheets_api, tmp_path / "no-key.json")
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    sheets_api.restrict(sheets.ids["team"], [ACCOUNT])
    extra = f'[google]\napi_url = "{sheets_api.url}"\n{credentials}'
    code, out, log = run_in_pod(write_config(tmp_path, [entry], extra), metadata)

    assert code == 0, out["workbooks"][0]["error"]
    assert out["workbooks"][0]["wrote"]
    assert {"Score", "Status", "Note"} <= set(sheets.values("team", "OKRs")[0])
    assert metadata.tokens_issued == 1
    assert {r.email for r in sheets_api.requests_of("get")} == {ACCOUNT}
    assert "Google credentials: Application Default Credentials from the metadata server" in log


def test_a_sheet_not_shared_with_the_pods_account_names_the_address_to_share_with(
    sheets_api, metadata, tmp_path
):
    sheets = GoogleSheets(sheets_api, tmp_path / "no-key.json")
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    sheets_api.restrict(sheets.ids["team"], ["someone-else@example.com"])
    extra = f'[google]\napi_url = "{sheets_api.url}"\ncredentials = "default"\n'
    code, out, _ = run_in_pod(write_config(tmp_path, [entry], extra), metadata)

    assert code == 1 and out["failure"] == "job"
    assert out["workbooks"][0]["error"] == (
        f"The spreadsheet is not shared with {ACCOUNT}. Open it in Google Sheets, click Share "
        f"and add that address as an Editor. sheetsync signed in as {ACCOUNT}, from the "
        "metadata server (GKE Workload Identity, Cloud Run or Compute Engine)."
    )
