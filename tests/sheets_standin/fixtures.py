"""pytest fixtures for the Sheets API stand-in; import them from a conftest.

    from tests.sheets_standin.fixtures import sheets_api, service_account_file  # noqa: F401

`sheets_api` is a started `SheetsStandIn`, fresh for each test. `service_account_file` is a
service-account JSON key made for the test: its `token_uri` is the stand-in's `/token`, and the
stand-in knows its public key, so google-auth's real JWT flow gets a token from it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.sheets_standin.server import (
    OAUTH_USER_EMAIL,
    PROJECT_ID,
    SCOPE,
    SERVICE_ACCOUNT_EMAIL,
    SheetsStandIn,
)


@lru_cache(maxsize=1)
def test_private_key() -> rsa.RSAPrivateKey:
    """One RSA key per test session: generating a key costs more than a whole stand-in test."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def write_service_account_file(
    path: Path, standin: SheetsStandIn, email: str = SERVICE_ACCOUNT_EMAIL
) -> Path:
    """Write a service-account key whose tokens come from `standin`, and register it there."""
    key = test_private_key()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    standin.register_service_account(email, key.public_key())
    info = {
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": "0123456789abcdef0123456789abcdef01234567",
        "private_key": pem,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": standin.token_url,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    path.write_text(json.dumps(info, indent=2))
    return path


def write_authorized_user_file(
    path: Path, standin: SheetsStandIn, email: str = OAUTH_USER_EMAIL
) -> Path:
    """Write an OAuth authorised-user token file (what `gcloud auth` or gspread's flow saves)."""
    client_id = "12345-standin.apps.googleusercontent.com"
    client_secret = "standin-client-secret"
    refresh_token = "1//standin-refresh-token"
    standin.register_authorized_user(
        email, client_id=client_id, client_secret=client_secret, refresh_token=refresh_token
    )
    info = {
        "type": "authorized_user",
        "client_id": client_id,
        "client_secret": client_secret,
        "refresh_token": refresh_token,
        "token_uri": standin.token_url,
        "scopes": [SCOPE],
    }
    path.write_text(json.dumps(info, indent=2))
    return path


@pytest.fixture
def sheets_api() -> Iterator[SheetsStandIn]:
    """A running Sheets API stand-in on 127.0.0.1; `.url` is its API root."""
    with SheetsStandIn() as standin:
        yield standin


@pytest.fixture
def service_account_file(tmp_path: Path, sheets_api: SheetsStandIn) -> Path:
    """A service-account JSON key for SERVICE_ACCOUNT_EMAIL whose token_uri is the stand-in."""
    return write_service_account_file(tmp_path / "service-account.json", sheets_api)


@pytest.fixture
def authorized_user_file(tmp_path: Path, sheets_api: SheetsStandIn) -> Path:
    """An authorised-user token file for OAUTH_USER_EMAIL whose token_uri is the stand-in."""
    return write_authorized_user_file(tmp_path / "authorized-user.json", sheets_api)
