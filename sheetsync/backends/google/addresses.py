"""Where things are: the Sheets API root to call, and the spreadsheet ID in an ID or URL."""

from __future__ import annotations

import ipaddress
import os
import re
from urllib.parse import urlsplit, urlunsplit

from sheetsync.core.errors import (
    ConfigError,
)

GOOGLE_API_ROOT = "https://sheets.googleapis.com"
API_URL_ENV = "SHEETSYNC_SHEETS_API_URL"


SHEETS_URL = "https://docs.google.com/spreadsheets/d/{}/edit"


_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")
_URL_ID_RE = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def is_loopback(host: str) -> bool:
    if host.casefold() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def resolve_api_url(api_url: str | None = None) -> str:
    """The Sheets API root: `api_url`, else SHEETSYNC_SHEETS_API_URL, else Google's.

    https is required, except plain http for loopback hosts (a local test server).
    """
    raw = (api_url or os.environ.get(API_URL_ENV) or GOOGLE_API_ROOT).strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(
            f"api_url must be an https:// URL such as {GOOGLE_API_ROOT}, not {raw!r}",
            key="api_url",
        )
    if parts.username or parts.password:
        raise ConfigError("api_url must not contain a user name or password", key="api_url")
    if parts.scheme == "http" and not is_loopback(parts.hostname):
        raise ConfigError(
            f"api_url {raw!r} uses plain http:// to a host that is not this machine; use "
            "https:// (http:// is accepted only for 127.0.0.1, ::1 and localhost)",
            key="api_url",
        )
    path = parts.path.rstrip("/")
    if path.endswith("/v4"):
        path = path[: -len("/v4")]
    return urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def spreadsheet_id_from(spreadsheet: str) -> str:
    """The spreadsheet ID in an ID or a full https://docs.google.com/spreadsheets/d/<id>/... URL."""
    text = spreadsheet.strip()
    match = _URL_ID_RE.search(text)
    if match:
        return match.group(1)
    if _ID_RE.match(text):
        return text
    raise ConfigError(
        f"{spreadsheet!r} is neither a spreadsheet ID nor a Google Sheets URL; copy the URL "
        "from the browser's address bar (https://docs.google.com/spreadsheets/d/<ID>/edit)",
        key="spreadsheet",
    )
