"""Loading Google credentials (`load_credentials`): service-account keys, authorised-user
tokens, and keeping the access token away from hosts other than the API and token endpoint.

Credentials are a fixed cost of the process, not of each workbook: a key file is read and its
credentials built once, and every workbook that uses it shares them, so one access token
serves the whole run (200 workbooks used to mean 200 key parses and 200 token requests).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from google.auth.credentials import Credentials

from sheetsync.backends.google.addresses import is_loopback
from sheetsync.core.errors import (
    ConfigError,
)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)


CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"


@dataclass(frozen=True)
class LoadedCredentials:
    credentials: Credentials
    path: str
    email: str | None
    """The service account's address (what to share the sheet with); None if unknown."""
    kind: str
    """"service_account" or "authorized_user"."""


_loaded: dict[tuple[str, int, int], LoadedCredentials] = {}
_loading = threading.Lock()


def load_credentials(path: str | os.PathLike[str] | None = None) -> LoadedCredentials:
    """Credentials from a service-account key or an authorised-user token file.

    Falls back to GOOGLE_APPLICATION_CREDENTIALS when `path` is None. Requests the spreadsheets
    scope only. Raises ConfigError naming the file and what is wrong with it; never echoes the
    file's content. The same file (same path, size and modification time) gives the same
    credentials object for the life of the process; a replaced key file is read again.
    """
    file, where = _credentials_file(path)
    stat = file.stat()
    key = (str(file.resolve()), stat.st_mtime_ns, stat.st_size)
    with _loading:
        if key not in _loaded:
            loaded = _read_credentials(file, where)
            _refresh_one_at_a_time(loaded.credentials)
            _loaded[key] = loaded
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
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

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
    raise ConfigError(
        f"unknown credentials type {kind!r}: expected a service-account key "
        '("type": "service_account") or an authorised-user token ("type": "authorized_user")',
        path=where,
    )


def keep_tokens_home(credentials: Credentials) -> None:
    """Stop google-auth from sending the access token anywhere but the API root and token_uri.

    Recent google-auth releases look up a "regional access boundary" on
    iamcredentials.googleapis.com after each token refresh. With a private API root or the
    local test bed that would send the token to a third host, so it is switched off there.
    """
    if hasattr(credentials, "_is_regional_access_boundary_lookup_required"):
        credentials._is_regional_access_boundary_lookup_required = lambda: False  # type: ignore[attr-defined]
