"""Loading Google credentials (`load_credentials`): service-account keys, authorised-user
tokens, and keeping the access token away from hosts other than the API and token endpoint.

Credentials are a fixed cost of the process, not of each workbook: a key file is read and its
credentials built once, and every workbook that uses it shares them, so one access token
serves the whole run (200 workbooks used to mean 200 key parses and 200 token requests).

A run with worker processes (`--workers N`) still asks for one token per credentials: the
parent gets it (`fetch_token`) and hands the tokens it holds (`held_tokens`) to each worker,
which gives them to the credentials it builds from the same file (`adopt_tokens`). A worker
asks for a token of its own only when that one expires during the run.
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from google.auth.credentials import Credentials

from sheetsync.backends.google.addresses import is_loopback
from sheetsync.core.errors import (
    ConfigError,
)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
log = logging.getLogger(__name__)


CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
APPLICATION_DEFAULT = "default"
"""`credentials = "default"`: Application Default Credentials, no key file."""


@dataclass(frozen=True)
class LoadedCredentials:
    credentials: Credentials
    path: str
    email: str | None
    """The service account's address (what to share the sheet with); None if unknown."""
    kind: str
    """"service_account", "authorized_user", "impersonated_service_account (...)",
    "external_account" or "metadata server"."""


KEY_FILE_KINDS = ("service_account", "authorized_user")
"""Credentials whose file in the config already says who sheetsync is."""
ADC_METADATA = ("metadata server", 0, 0)
"""The cache key of the credentials the metadata server gives (one per process)."""
CacheKey = tuple[str, int, int]
"""A credentials file as it is now: its resolved path, modification time and size."""
_loaded: dict[CacheKey, LoadedCredentials] = {}
_loading = threading.Lock()
Token = tuple[str, datetime | None]
"""An access token and when it expires (naive UTC, as google-auth keeps it)."""
_adopted: dict[CacheKey, Token] = {}
"""Tokens a parent process handed over, for the credentials built here from the same file."""


def load_credentials(path: str | os.PathLike[str] | None = None) -> LoadedCredentials:
    """Credentials from a service-account key, an authorised-user token file, or (`"default"`,
    or no path and no GOOGLE_APPLICATION_CREDENTIALS) Application Default Credentials.

    Falls back to GOOGLE_APPLICATION_CREDENTIALS when `path` is None. Requests the spreadsheets
    scope only. Raises ConfigError naming the file and what is wrong with it; never echoes the
    file's content. The same file (same path, size and modification time) gives the same
    credentials object for the life of the process; a replaced key file is read again.
    """
    if os.fspath(path or "") == APPLICATION_DEFAULT or (
        path is None and not os.environ.get(CREDENTIALS_ENV)
    ):
        return application_default()
    file, where = _credentials_file(path)
    stat = file.stat()
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    with _loading:
        if key not in _loaded:
            loaded = _read_credentials(file, where)
            _refresh_one_at_a_time(loaded.credentials)
            _give_adopted_token(key, loaded.credentials)
            _loaded[key] = loaded
            log.info("Google credentials: %s", describe(loaded))
        return _loaded[key]


def _refresh_one_at_a_time(credentials: Credentials) -> None:
    """Let only one thread fetch a token; the others wait and then use the one it got.

    google-auth refreshes in `before_request` whenever the token is missing or expiring, with
    no lock, so workbooks synced in parallel with shared credentials would each ask for one.
    A caller that wanted a new token (expired, or rejected with a 401) and finds that another
    thread replaced it while it waited takes that one instead of asking again.
    """
    refresh: Callable[[object], None] = credentials.refresh
    lock = threading.Lock()

    def refresh_once(request: object) -> None:
        wanted_new = credentials.token
        with lock:
            if credentials.token == wanted_new or not credentials.valid:
                refresh(request)

    credentials.refresh = refresh_once  # type: ignore[method-assign]


def fetch_token(path: str | os.PathLike[str] | None, *, api_url: str | None) -> None:
    """Load the credentials and get their access token now, unless they hold a valid one,
    so that worker processes can be given it (`held_tokens`). Raises what loading raises, or
    google-auth's error when the token endpoint refuses."""
    from google.auth.transport.requests import Request

    from sheetsync.backends.google.addresses import GOOGLE_API_ROOT, resolve_api_url

    credentials = load_credentials(path).credentials
    if resolve_api_url(api_url) != GOOGLE_API_ROOT:
        keep_tokens_home(credentials)
    if not credentials.valid:
        credentials.refresh(Request())


def held_tokens() -> dict[CacheKey, Token]:
    """The valid access tokens this process holds, by credentials file, for worker processes.

    They are secrets: they go to our own worker processes only, never to a log."""
    with _loading:
        return {
            key: (loaded.credentials.token, loaded.credentials.expiry)
            for key, loaded in _loaded.items()
            if loaded.credentials.valid and loaded.credentials.token
        }


def adopt_tokens(tokens: dict[CacheKey, Token]) -> None:
    """Use the tokens a parent process got (`held_tokens`) for the same credentials files
    (same path, modification time and size), until they expire."""
    with _loading:
        _adopted.update(tokens)
        for key, loaded in _loaded.items():
            _give_adopted_token(key, loaded.credentials)


def _give_adopted_token(key: CacheKey, credentials: Credentials) -> None:
    if key in _adopted and not credentials.valid:
        credentials.token, credentials.expiry = _adopted[key]


def _credentials_file(path: str | os.PathLike[str] | None) -> tuple[Path, str]:
    source = os.fspath(path) if path is not None else os.environ.get(CREDENTIALS_ENV)
    if not source:
        raise ConfigError(
            "no Google credentials: set `credentials` to a service-account JSON key "
            f"(or an authorised-user token file), or set {CREDENTIALS_ENV}",
            key="credentials",
        )
    file = Path(source).expanduser()
    where = str(file)
    if not file.is_file():
        raise ConfigError(
            "the Google credentials file does not exist (download a JSON key for the service "
            "account in Google Cloud: IAM & Admin > Service accounts > Keys > Add key)",
            path=where,
        )
    return file, where


def _read_credentials(file: Path, where: str) -> LoadedCredentials:
    try:
        info = json.loads(file.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(
            "the Google credentials file is not a JSON text file", path=where
        ) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(
            f"the Google credentials file is not valid JSON (line {exc.lineno}, column "
            f"{exc.colno}); expected a service-account key or an authorised-user token file",
            path=where,
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the Google credentials file: {exc.strerror}", path=where
        ) from None
    if not isinstance(info, dict):
        raise ConfigError("the Google credentials file must hold a JSON object", path=where)
    return _from_info(info, where)


def _from_info(info: dict[str, Any], where: str) -> LoadedCredentials:
    """Credentials from a parsed credentials file of any type `google.auth.default()` reads."""
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

    kind = info.get("type")
    if kind is None and ("installed" in info or "web" in info):
        raise ConfigError(
            "this is an OAuth client ID file, not a token: use a service-account key, or run "
            "the OAuth consent flow once and point `credentials` at the authorised-user token "
            "file it saves",
            path=where,
        )
    if kind == "service_account":
        missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
        if missing:
            raise ConfigError(
                f"the service-account key lacks {', '.join(missing)}; download a new JSON key",
                path=where,
            )
        try:
            creds = service_account.Credentials.from_service_account_info(info, scopes=SCOPES)
        except (ValueError, TypeError, IndexError) as exc:
            raise ConfigError(
                "the private_key in the service-account key cannot be read "
                f"({type(exc).__name__}); download a new JSON key",
                path=where,
            ) from None
        return LoadedCredentials(creds, where, info["client_email"], "service_account")
    if kind == "authorized_user":
        missing = [k for k in ("client_id", "client_secret", "refresh_token") if not info.get(k)]
        if missing:
            raise ConfigError(
                f"the authorised-user token file lacks {', '.join(missing)}; sign in again to "
                "create a new one",
                path=where,
            )
        try:
            creds = user_credentials.Credentials.from_authorized_user_info(info, scopes=SCOPES)
            token_uri = str(info.get("token_uri") or "")
            if is_loopback(urlsplit(token_uri).hostname or ""):
                # google-auth always refreshes user tokens at Google's endpoint and ignores the
                # file's token_uri; one on this machine (the test bed) is honoured.
                creds = user_credentials.Credentials(
                    token=None,
                    refresh_token=info["refresh_token"],
                    token_uri=token_uri,
                    client_id=info["client_id"],
                    client_secret=info["client_secret"],
                    scopes=SCOPES,
                    quota_project_id=info.get("quota_project_id"),
                    account=info.get("account", ""),
                )
        except ValueError as exc:
            raise ConfigError(
                f"the authorised-user token file cannot be used ({type(exc).__name__})",
                path=where,
            ) from None
        return LoadedCredentials(creds, where, info.get("account") or None, "authorized_user")
    if kind == "impersonated_service_account":
        return _impersonated(info, where)
    if kind in ("external_account", "external_account_authorized_user"):
        return _external_account(info, where)
    raise ConfigError(
        f"unknown credentials type {kind!r}: expected a service-account key "
        '("type": "service_account"), an authorised-user token ("type": "authorized_user"), '
        "or an Application Default Credentials file (impersonated_service_account, "
        "external_account)",
        path=where,
    )


def _impersonated(info: dict[str, Any], where: str) -> LoadedCredentials:
    """A person's (or a key's) credentials acting as the sheetsync service account, as
    `gcloud auth application-default login --impersonate-service-account=...` writes them."""
    from google.auth import impersonated_credentials

    url = str(info.get("service_account_impersonation_url") or "")
    target = url.rpartition("/")[2].partition(":generateAccessToken")[0]
    source_info = info.get("source_credentials")
    if not target or not isinstance(source_info, dict):
        raise ConfigError(
            "the impersonation file lacks service_account_impersonation_url or "
            "source_credentials; create it again with gcloud auth application-default login "
            "--impersonate-service-account=SERVICE_ACCOUNT_EMAIL",
            path=where,
        )
    source = _from_info(source_info, where)
    # google-auth calls Google's IAM endpoint whatever the file says; an impersonation URL on
    # this machine (the test bed) is honoured, like a loopback token_uri above.
    override = url if is_loopback(urlsplit(url).hostname or "") else None
    creds = impersonated_credentials.Credentials(
        source_credentials=source.credentials,
        target_principal=target,
        target_scopes=list(SCOPES),
        delegates=info.get("delegates") or [],
        quota_project_id=info.get("quota_project_id"),
        iam_endpoint_override=override,
    )
    via = "impersonated by " + (
        source.email or "the Google account of `gcloud auth application-default login`"
    )
    return LoadedCredentials(creds, where, target, f"impersonated_service_account ({via})")


def _external_account(info: dict[str, Any], where: str) -> LoadedCredentials:
    """Workload identity federation (AWS, Azure, GitHub Actions OIDC ...): no key at all."""
    from google.auth import aws, external_account_authorized_user, identity_pool, pluggable

    source = info.get("credential_source") or {}
    if info.get("type") == "external_account_authorized_user":
        loader: Any = external_account_authorized_user.Credentials
    elif str(source.get("environment_id", "")).startswith("aws"):
        loader = aws.Credentials
    elif "executable" in source:
        loader = pluggable.Credentials
    else:
        loader = identity_pool.Credentials
    try:
        creds = loader.from_info(info, scopes=list(SCOPES))
    except (ValueError, TypeError, KeyError) as exc:
        raise ConfigError(
            f"the workload identity federation file cannot be used: {exc}", path=where
        ) from None
    url = str(info.get("service_account_impersonation_url") or "")
    target = url.rpartition("/")[2].partition(":generateAccessToken")[0] or None
    return LoadedCredentials(creds, where, target, "external_account")


def application_default() -> LoadedCredentials:
    """Application Default Credentials, as `google.auth.default()` finds them, without a key.

    In order: the file GOOGLE_APPLICATION_CREDENTIALS names; the one `gcloud auth
    application-default login` wrote; the metadata server of GKE (Workload Identity), Cloud
    Run and Compute Engine. Files go through the same checks as a configured `credentials`
    file; the metadata server's account is known after its first token.
    """
    import google.auth
    from google.auth import _cloud_sdk
    from google.auth.exceptions import DefaultCredentialsError

    named = os.environ.get(CREDENTIALS_ENV)
    if named:
        return load_credentials(named)
    gcloud_file = Path(_cloud_sdk.get_application_default_credentials_path())
    if gcloud_file.is_file():
        return load_credentials(gcloud_file)
    with _loading:
        if ADC_METADATA not in _loaded:
            try:
                creds, _ = google.auth.default(scopes=list(SCOPES))
            except DefaultCredentialsError:
                raise ConfigError(
                    "no Google credentials found: set `credentials` to a service-account key "
                    f"file or set {CREDENTIALS_ENV}; or, without a key, run on GKE with "
                    "Workload Identity, Cloud Run or Compute Engine (the metadata server), or "
                    "run `gcloud auth application-default login --scopes="
                    "https://www.googleapis.com/auth/spreadsheets,"
                    "https://www.googleapis.com/auth/cloud-platform` on your laptop",
                    key="credentials",
                ) from None
            _refresh_one_at_a_time(creds)
            _give_adopted_token(ADC_METADATA, creds)
            _loaded[ADC_METADATA] = LoadedCredentials(
                creds, "the metadata server", None, "metadata server"
            )
            log.info("Google credentials: Application Default Credentials from the metadata server")
        return _loaded[ADC_METADATA]


def identity_of(loaded: LoadedCredentials) -> str | None:
    """The address to share a spreadsheet with: the configured one, or the one the metadata
    server reported with its first token ("default" until then)."""
    if loaded.email:
        return loaded.email
    email = getattr(loaded.credentials, "service_account_email", None)
    return email if isinstance(email, str) and "@" in email else None


def describe(loaded: LoadedCredentials) -> str:
    """Which identity sheetsync uses, in words: for logs and for "not shared" messages."""
    who = identity_of(loaded) or "an unknown account"
    if loaded.kind == "metadata server":
        return (
            f"{who}, from the metadata server (GKE Workload Identity, Cloud Run or Compute Engine)"
        )
    if loaded.kind.startswith("impersonated_service_account"):
        how = loaded.kind.partition("(")[2].rstrip(")")
        return f"{who}, {how} (Application Default Credentials in {loaded.path})"
    if loaded.kind == "external_account":
        return f"{who}, through workload identity federation ({loaded.path})"
    if loaded.kind == "authorized_user":
        return f"the Google account signed in for {loaded.path}" + (
            f" ({loaded.email})" if loaded.email else ""
        )
    return f"{who} (key file {loaded.path})"


def keep_tokens_home(credentials: Credentials) -> None:
    """Stop google-auth from sending the access token anywhere but the API root and token_uri.

    Recent google-auth releases look up a "regional access boundary" on
    iamcredentials.googleapis.com after each token refresh. With a private API root or the
    local test bed that would send the token to a third host, so it is switched off there.
    """
    for creds in (credentials, getattr(credentials, "_source_credentials", None)):
        if hasattr(creds, "_is_regional_access_boundary_lookup_required"):
            creds._is_regional_access_boundary_lookup_required = lambda: False  # type: ignore[union-attr]
