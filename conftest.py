"""Fixtures shared by every test folder: the local Google Sheets API stand-in, and no Google
identity from outside the test: no gcloud login, no metadata server but a closed loopback port."""

import pytest

pytest_plugins = ["tests.sheets_standin.fixtures"]

CLOSED_LOOPBACK_PORT = "127.0.0.1:9"


@pytest.fixture(autouse=True)
def _no_ambient_google_identity(monkeypatch, tmp_path_factory):
    """Application Default Credentials would otherwise read this machine's gcloud login and
    ping the link-local metadata address; tests that want them start their own stand-ins."""
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path_factory.mktemp("gcloud")))
    monkeypatch.setenv("GCE_METADATA_HOST", CLOSED_LOOPBACK_PORT)
    monkeypatch.setenv("GCE_METADATA_IP", CLOSED_LOOPBACK_PORT)
