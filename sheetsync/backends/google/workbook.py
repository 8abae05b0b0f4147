"""Google Sheets backend: the same sync on a live spreadsheet, in a constant number of API calls.

API calls per sync, whatever the number of rows (the quota is 60 requests a minute per user
and 300 per project):

- `read()` is ONE `spreadsheets.get`. It asks for every tab's grid data, trimmed by a `fields`
  mask to values, effective values, fills and number formats. Asking by `ranges` instead would
  need the exact tab names first (a range naming a missing tab fails the whole request, and tabs
  are matched case-insensitively), which costs a second request; one masked request is cheaper
  than two, at the price of also downloading the cells of tabs sheetsync does not use.
- `write(plan)` compares the plan with what `read()` saw (values, fills and number formats of
  the owned cells) and makes NO request when nothing differs. Otherwise it makes exactly two:
  one `spreadsheets.get` that re-reads the guarded key cells (and the grid size of each tab it
  will touch), refusing with `RowsMovedError` (a WorkbookBusyError, so the pipeline redoes the
  cycle) if any row moved; then ONE `spreadsheets.batchUpdate`, which the API applies
  atomically, carrying everything: `addSheet`
  for new owned tabs (with sheet IDs chosen here, so later requests in the batch can use them),
  `appendDimension` where a grid must grow, `updateDimensionProperties` for new tabs' column
  widths, and `updateCells` with exact `fields` masks for every changed cell. Owned tabs send
  only the rows that differ, so an append-only History costs only its new rows.

Text is always written as `stringValue`, so `=1+1` stays text and never becomes a formula.
Rows are written with `updateCells` at explicit positions rather than `appendCells`: a batch
retried after its answer was lost then rewrites the same cells instead of appending them twice.
After such an ambiguous failure (5xx, reset, timeout) the retry first re-reads the tabs' grid
sizes (one extra `spreadsheets.get`) so a tab the lost attempt already created is not added
twice. A 429 is known not to have been applied and is retried as is.

Transient errors (429, 408, 5xx, connection resets, timeouts) are retried with exponential
backoff and full jitter, honouring `Retry-After`, bounded by `RetryPolicy.max_attempts` and
`RetryPolicy.max_seconds`; every request has a timeout. Permanent errors fail at once with a
message that says what to do. `requests` counts HTTP attempts (retries included), `retries`
how many of them were retries. The optional `limiter` is called before every Sheets API request,
retries included (token refreshes go to the token endpoint and are not Sheets requests).
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import random
import re
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from email.utils import parsedate_to_datetime
from operator import attrgetter
from pathlib import Path
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit, urlunsplit

import gspread
import requests
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession
from gspread.exceptions import APIError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

from sheetsync.backends.base import (
    CellValue,
    CellWrite,
    Grid,
    OwnedTab,
    RowGuard,
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)
from sheetsync.backends.gcpause import cyclic_gc_paused
from sheetsync.core.errors import (
    BackendError,
    ConfigError,
    RowsMovedError,
    TransientBackendError,
    WorkbookBusyError,
    WorkbookError,
    WorkbookLayoutError,
)
from sheetsync.core.model import Colour

log = logging.getLogger(__name__)

SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
GOOGLE_API_ROOT = "https://sheets.googleapis.com"
API_URL_ENV = "SHEETSYNC_SHEETS_API_URL"
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
SHEETS_URL = "https://docs.google.com/spreadsheets/d/{}/edit"

_GRID = "gridProperties(rowCount,columnCount)"
READ_FIELDS = (
    "spreadsheetId,properties.title,spreadsheetUrl,"
    f"sheets(properties(sheetId,title,{_GRID}),"
    "data(startRow,startColumn,rowData(values(userEnteredValue,effectiveValue,"
    "userEnteredFormat(backgroundColor,numberFormat)))))"
)
VERIFY_FIELDS = (
    f"sheets(properties(sheetId,title,{_GRID}),"
    "data(startRow,startColumn,rowData(values(effectiveValue))))"
)
META_FIELDS = f"sheets.properties(sheetId,title,{_GRID})"

VALUE_MASK = "userEnteredValue,userEnteredFormat.backgroundColor"
FORMAT_MASK = VALUE_MASK + ",userEnteredFormat.numberFormat"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
ERROR_TEXT = {
    "NULL_VALUE": "#NULL!",
    "DIV_ZERO": "#DIV/0!",
    "VALUE": "#VALUE!",
    "REF": "#REF!",
    "NAME": "#NAME?",
    "NUM": "#NUM!",
    "N_A": "#N/A",
    "ERROR": "#ERROR!",
    "LOADING": "#LOADING",
}
_EPOCH = datetime(1899, 12, 30)
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{20,}$")
_URL_ID_RE = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")

T = TypeVar("T")


# --- configuration ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry transient failures: at most `max_attempts` tries within `max_seconds`.

    Waits grow as `base_delay * 2**n` capped at `max_delay`, with full jitter (a random wait
    between 0 and that), and never shorter than the server's `Retry-After`. A wait that would
    end past `max_seconds` is not taken: the error is raised at once instead.
    """

    max_attempts: int = 6
    max_seconds: float = 120.0
    base_delay: float = 1.0
    max_delay: float = 32.0


@dataclass(frozen=True)
class LoadedCredentials:
    credentials: Credentials
    path: str
    email: str | None
    """The service account's address (what to share the sheet with); None if unknown."""
    kind: str
    """"service_account" or "authorized_user"."""


def load_credentials(path: str | os.PathLike[str] | None = None) -> LoadedCredentials:
    """Credentials from a service-account key or an authorised-user token file.

    Falls back to GOOGLE_APPLICATION_CREDENTIALS when `path` is None. Requests the spreadsheets
    scope only. Raises ConfigError naming the file and what is wrong with it; never echoes the
    file's content.
    """
    from google.oauth2 import credentials as user_credentials
    from google.oauth2 import service_account

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
            if _is_loopback(urlsplit(token_uri).hostname or ""):
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


def _is_loopback(host: str) -> bool:
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
    if parts.scheme == "http" and not _is_loopback(parts.hostname):
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


def _keep_tokens_home(credentials: Credentials) -> None:
    """Stop google-auth from sending the access token anywhere but the API root and token_uri.

    Recent google-auth releases look up a "regional access boundary" on
    iamcredentials.googleapis.com after each token refresh. With a private API root or the
    local test bed that would send the token to a third host, so it is switched off there.
    """
    if hasattr(credentials, "_is_regional_access_boundary_lookup_required"):
        credentials._is_regional_access_boundary_lookup_required = lambda: False  # type: ignore[attr-defined]


# --- HTTP ------------------------------------------------------------------------------------


class _SheetsSession(AuthorizedSession):
    """An authorised session that sends Google Sheets URLs to `api_url`, counts every HTTP
    request, calls the rate limiter before each one and never sends one without a timeout."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str,
        timeout: float,
        limiter: Callable[[], object] | None,
        on_request: Callable[[], None],
    ) -> None:
        super().__init__(credentials, refresh_timeout=timeout)
        self._api_url = api_url
        self._timeout = timeout
        self._limiter = limiter
        self._on_request = on_request

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith(GOOGLE_API_ROOT):
            url = self._api_url + url[len(GOOGLE_API_ROOT) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        if self._limiter is not None:
            self._limiter()
        self._on_request()
        return super().request(method, url, *args, **kwargs)


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, APIError):
        return exc.response.status_code
    return None


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, APIError):
        return _status(exc) in TRANSIENT_STATUS
    return isinstance(
        exc,
        requests.ConnectionError
        | requests.Timeout
        | requests.exceptions.ChunkedEncodingError
        | auth_exceptions.TransportError,
    )


def _is_ambiguous(exc: BaseException) -> bool:
    """A failure after which the request may or may not have been applied."""
    return _is_transient(exc) and _status(exc) != 429


def _retry_after(exc: BaseException | None) -> float | None:
    if not isinstance(exc, APIError):
        return None
    value = exc.response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _error_info(exc: APIError) -> tuple[str, str, list[Mapping[str, Any]]]:
    error = exc.error if isinstance(exc.error, Mapping) else {}
    raw = error.get("details")
    details = [d for d in raw if isinstance(d, Mapping)] if isinstance(raw, list) else []
    return str(error.get("message", "")), str(error.get("status", "")), details


# --- cells -----------------------------------------------------------------------------------


ValueKey = tuple[str, Any] | None
"""A cell value reduced to what matters for comparing it: ("n", 1.0), ("s", "x"), ..."""


class _Cell(NamedTuple):
    value: ValueKey
    fill: str | None
    number_format: str | None


_EMPTY = _Cell(None, None, None)
_FILL_TEXT: dict[Colour, str] = {colour: colour.value for colour in Colour}


def _value_key(value: Mapping[str, Any] | None) -> ValueKey:
    if not value:
        return None
    if "numberValue" in value:
        return ("n", float(value["numberValue"]))
    if "stringValue" in value:
        return ("s", value["stringValue"]) if value["stringValue"] != "" else None
    if "boolValue" in value:
        return ("b", bool(value["boolValue"]))
    if "formulaValue" in value:
        return ("f", value["formulaValue"])
    if "errorValue" in value:
        return ("e", value["errorValue"].get("type"))
    return None


def _python_value(value: Mapping[str, Any] | None) -> CellValue:
    """An effective value as the core wants it: numbers as numbers, errors as `#DIV/0!`."""
    if not value:
        return None
    if "numberValue" in value:
        return value["numberValue"]
    if "stringValue" in value:
        return value["stringValue"]
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "errorValue" in value:
        return ERROR_TEXT.get(value["errorValue"].get("type", "ERROR"), "#ERROR!")
    return None


def _hex(colour: Mapping[str, Any] | None) -> str | None:
    if colour is None:
        return None
    text = "".join(
        f"{max(0, min(255, round(float(colour.get(k, 0)) * 255))):02X}"
        for k in ("red", "green", "blue")
    )
    return None if text == "FFFFFF" else text


def _api_colour(fill: Colour | str) -> dict[str, float]:
    text = fill.value if isinstance(fill, Colour) else fill
    return {k: int(text[i : i + 2], 16) / 255 for k, i in (("red", 0), ("green", 2), ("blue", 4))}


_FORMATS: dict[tuple[str | None, str | None], dict[str, Any] | None] = {}


def _cell_format(fill: str | None, number_format: str | None) -> dict[str, Any] | None:
    """The userEnteredFormat for a fill and number format, built once per pair (read-only)."""
    key = (fill, number_format)
    try:
        return _FORMATS[key]
    except KeyError:
        pass
    fmt: dict[str, Any] = {}
    if fill is not None:
        fmt["backgroundColor"] = _api_colour(fill)
    if number_format is not None:
        fmt["numberFormat"] = _number_format(number_format)
    result = fmt or None
    if len(_FORMATS) < 4096:
        _FORMATS[key] = result
    return result


def _serial(value: date | datetime) -> float:
    if isinstance(value, datetime):
        delta = value.replace(tzinfo=None) - _EPOCH
        return delta.days + delta.seconds / 86400 + delta.microseconds / 86_400_000_000
    return float((value - _EPOCH.date()).days)


def _number_format(pattern: str) -> dict[str, str]:
    lowered = pattern.lower()
    if "%" in pattern:
        kind = "PERCENT"
    elif "y" in lowered or "d" in lowered:
        kind = "DATE_TIME" if "h" in lowered else "DATE"
    else:
        kind = "NUMBER"
    return {"type": kind, "pattern": pattern}


def _payload(value: object) -> tuple[dict[str, Any] | None, str | None]:
    """A value as an ExtendedValue to write (never a formula), plus the format a date needs."""
    if value is None or value == "":
        return None, None
    if isinstance(value, bool):
        return {"boolValue": value}, None
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return None, None
        return {"numberValue": value}, None
    if isinstance(value, datetime):
        return {"numberValue": _serial(value)}, "yyyy-mm-dd hh:mm:ss"
    if isinstance(value, date):
        return {"numberValue": _serial(value)}, "yyyy-mm-dd"
    return {"stringValue": str(value)}, None


_NOTHING: tuple[None, None, None] = (None, None, None)


def _desired(value: object) -> tuple[dict[str, Any] | None, str | None, ValueKey]:
    """`_payload(value)` plus `_value_key` of that payload, with fast paths for common types."""
    kind = type(value)
    if kind is str:
        if value == "":
            return _NOTHING
        return {"stringValue": value}, None, ("s", value)
    if value is None:
        return _NOTHING
    if kind is float:
        if not math.isfinite(value):  # type: ignore[arg-type]
            return _NOTHING
        return {"numberValue": value}, None, ("n", value)
    if kind is int:
        return {"numberValue": value}, None, ("n", float(value))  # type: ignore[arg-type]
    payload, fmt = _payload(value)
    return payload, fmt, _value_key(payload)


@dataclass(slots=True)
class _Op:
    """One cell to write: its full value and fill, and its number format when it has one."""

    tab: str
    row: int
    col: int
    value: dict[str, Any] | None
    fill: str | None
    number_format: str | None
    key: ValueKey
    """`_value_key(value)`, computed once by the diff."""

    def cell_data(self) -> dict[str, Any]:
        fmt = _cell_format(self.fill, self.number_format)
        if self.value is not None:
            if fmt is None:
                return {"userEnteredValue": self.value}
            return {"userEnteredValue": self.value, "userEnteredFormat": fmt}
        if fmt is None:
            return {}
        return {"userEnteredFormat": fmt}


@dataclass
class _Tab:
    sheet_id: int
    title: str
    rows: int
    cols: int
    cells: dict[tuple[int, int], _Cell] = field(default_factory=dict)

    def cell(self, row: int, col: int) -> _Cell:
        return self.cells.get((row, col), _EMPTY)

    def row_widths(self) -> dict[int, int]:
        """Row -> columns up to its last cell holding anything (value or format)."""
        widths: dict[int, int] = {}
        for r, c in self.cells:
            widths[r] = max(widths.get(r, 0), c + 1)
        return widths


class _Grid(NamedTuple):
    sheet_id: int
    rows: int
    cols: int


def _quote(title: str) -> str:
    return "'" + title.replace("'", "''") + "'"


def _column(index: int) -> str:
    """0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _grid_props(sheet: Mapping[str, Any]) -> tuple[str, _Grid]:
    props = sheet.get("properties", {})
    grid = props.get("gridProperties", {})
    return props.get("title", ""), _Grid(
        int(props.get("sheetId", 0)), int(grid.get("rowCount", 0)), int(grid.get("columnCount", 0))
    )


def _cells_of(sheet: Mapping[str, Any]) -> Iterable[tuple[int, int, Mapping[str, Any]]]:
    for block in sheet.get("data", []) or []:
        top, left = int(block.get("startRow", 0)), int(block.get("startColumn", 0))
        for i, row in enumerate(block.get("rowData", []) or []):
            for j, cell in enumerate(row.get("values", []) or []):
                if cell:
                    yield top + i, left + j, cell


def _rectangles(ops: list[_Op]) -> list[tuple[int, int, list[list[_Op]]]]:
    """Group cells into as few rectangles as runs allow: (top row, left col, rows of ops)."""
    by_row: dict[int, list[_Op]] = defaultdict(list)
    for op in ops:
        by_row[op.row].append(op)
    rects: list[tuple[int, int, list[list[_Op]]]] = []
    open_rects: dict[tuple[int, int], int] = {}
    by_col = attrgetter("col")
    for row in sorted(by_row):
        line = by_row[row]
        if len(line) > 1:
            line.sort(key=by_col)
        runs: list[list[_Op]] = []
        run: list[_Op] = []
        last_col = -2
        for op in line:
            col = op.col
            if run and last_col == col - 1:
                run.append(op)
            else:
                run = [op]
                runs.append(run)
            last_col = col
        for run in runs:
            key = (run[0].col, len(run))
            index = open_rects.get(key)
            if index is not None:
                top, _, body = rects[index]
                if top + len(body) == row:
                    body.append(run)
                    continue
            open_rects[key] = len(rects)
            rects.append((row, run[0].col, [run]))
    return rects


# --- the backend -----------------------------------------------------------------------------


class GoogleSheetsWorkbook(WorkbookBackend):
    """One Google spreadsheet, read and written through the Sheets API v4 with gspread.

    Example:
        book = GoogleSheetsWorkbook("https://docs.google.com/spreadsheets/d/1AbC.../edit",
                                    credentials="~/.config/sheetsync/service-account.json")
        snapshot = book.read(["OKRs", "KPIs", "Summary"])
        result = book.write(plan)
    """

    def __init__(
        self,
        spreadsheet: str,
        *,
        credentials: str | os.PathLike[str] | None = None,
        api_url: str | None = None,
        label: str | None = None,
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        limiter: Callable[[], object] | None = None,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id_from(spreadsheet)
        self.api_url = resolve_api_url(api_url)
        self._creds = load_credentials(credentials)
        if self.api_url != GOOGLE_API_ROOT:
            _keep_tokens_home(self._creds.credentials)
        self.account = self._creds.email
        self._fixed_label = label
        self.label = label or self.spreadsheet_id
        self.location = SHEETS_URL.format(self.spreadsheet_id)
        self.title: str | None = None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._requests = 0
        self._retries = 0
        self._session = _SheetsSession(
            self._creds.credentials,
            api_url=self.api_url,
            timeout=timeout,
            limiter=limiter,
            on_request=self._count_request,
        )
        self._client = gspread.Client(auth=self._creds.credentials, session=self._session)
        self._client.set_timeout(timeout)
        self._tabs: dict[str, _Tab] | None = None
        self._read_ok = False

    # --- the port -----------------------------------------------------------------------

    @property
    def requests(self) -> int:
        """HTTP requests sent to the Sheets API, retries included (what the quota counts)."""
        return self._requests

    @property
    def retries(self) -> int:
        """How many of `requests` were retries of a failed attempt."""
        return self._retries

    def read(self, tabs: Sequence[str]) -> Snapshot:
        """Values of the named tabs (case-insensitive) in one `spreadsheets.get`."""
        doc = self._call("read", self._get_all)
        with cyclic_gc_paused():
            grids = self._load(doc)
        snapshot = Snapshot(grids)
        wanted = {name for name in (snapshot.find_tab(t) for t in tabs) if name}
        return Snapshot({name: grid for name, grid in grids.items() if name in wanted})

    def write(self, plan: WritePlan) -> WriteResult:
        """Write what differs from the last read in one batch, after checking the guards.

        Makes no request when nothing differs, else one verifying `spreadsheets.get` and one
        `spreadsheets.batchUpdate` (plus one `spreadsheets.get` first if `read` was never
        called). Raises RowsMovedError, having written nothing, when a guarded row moved since
        `read`. When one cell is planned twice, the last write wins.
        """
        if self._tabs is None:
            doc = self._call("read", self._get_all)
            with cyclic_gc_paused():
                self._load(doc)
        assert self._tabs is not None
        with cyclic_gc_paused():
            ops, creates = self._diff(plan)
        if not ops and not creates:
            return WriteResult(cells_changed=0, wrote=False)
        touched = {op.tab for op in ops if op.tab in self._tabs}
        grid = self._verify(plan.guards, touched, [t.name for t in creates])
        sizes = self._send(ops, creates, grid)
        with cyclic_gc_paused():
            self._remember(ops, sizes)
        return WriteResult(
            cells_changed=len(ops), tabs_created=[t.name for t in creates], wrote=True
        )

    def close(self) -> None:
        self._session.close()

    # --- reading --------------------------------------------------------------------------

    def _get_all(self) -> dict[str, Any]:
        with cyclic_gc_paused():  # decoding the answer builds one object per cell
            return self._client.http_client.spreadsheets_get(
                self.spreadsheet_id, params={"includeGridData": "true", "fields": READ_FIELDS}
            )

    def _load(self, doc: Mapping[str, Any]) -> dict[str, Grid]:
        """Remember every tab's cells for diffing; return each tab's values, rows padded."""
        self._read_ok = True
        self.title = doc.get("properties", {}).get("title") or self.title
        if self.title and not self._fixed_label:
            self.label = self.title
        self.location = doc.get("spreadsheetUrl") or self.location
        tabs: dict[str, _Tab] = {}
        grids: dict[str, Grid] = {}
        for sheet in doc.get("sheets", []) or []:
            title, size = _grid_props(sheet)
            tab = _Tab(size.sheet_id, title, size.rows, size.cols)
            values: dict[tuple[int, int], CellValue] = {}
            cells = tab.cells
            for r, c, cell in _cells_of(sheet):
                fmt = cell.get("userEnteredFormat")
                key = _value_key(cell.get("userEnteredValue"))
                if fmt:
                    cells[(r, c)] = _Cell(
                        key,
                        _hex(fmt.get("backgroundColor")),
                        (fmt.get("numberFormat") or {}).get("pattern"),
                    )
                else:
                    cells[(r, c)] = _Cell(key, None, None)
                value = _python_value(cell.get("effectiveValue"))
                if value is not None:
                    values[(r, c)] = value
            height = max((r for r, _ in values), default=-1) + 1
            width = max((c for _, c in values), default=-1) + 1
            grid: Grid = [[None] * width for _ in range(height)]
            for (r, c), value in values.items():
                grid[r][c] = value
            tabs[title] = tab
            grids[title] = grid
        self._tabs = tabs
        return grids

    def _find(self, name: str) -> str | None:
        assert self._tabs is not None
        if name in self._tabs:
            return name
        wanted = name.strip().casefold()
        return next((t for t in self._tabs if t.strip().casefold() == wanted), None)

    # --- diffing --------------------------------------------------------------------------

    def _diff(self, plan: WritePlan) -> tuple[list[_Op], list[OwnedTab]]:
        assert self._tabs is not None
        ops: list[_Op] = []
        creates: list[OwnedTab] = []
        found: dict[str, str | None] = {}
        for w in plan.cells:
            if w.tab not in found:
                found[w.tab] = self._find(w.tab)
        last = {(found[w.tab] or w.tab, w.row, w.col): w for w in plan.cells}
        for write in last.values():
            op = self._diff_cell(write, found[write.tab])
            if op is not None:
                ops.append(op)
        for owned in plan.owned_tabs:
            actual = self._find(owned.name)
            if actual is None:
                creates.append(owned)
                ops.extend(self._owned_ops(owned, owned.name, None))
            else:
                ops.extend(self._owned_ops(owned, actual, self._tabs[actual]))
        return ops, creates

    def _diff_cell(self, write: CellWrite, actual: str | None) -> _Op | None:
        """The op `write` needs on tab `actual` (its real name), or None when it is there."""
        assert self._tabs is not None
        if actual is None:
            raise WorkbookLayoutError(
                f"tab '{write.tab}' is not in the spreadsheet any more", workbook=self.label
            )
        payload, _, key = _desired(write.value)
        colour = write.fill
        fill = _FILL_TEXT.get(colour) if colour is not None else None
        if colour is not None and fill is None:
            fill = colour.value
        row, col = write.row - 1, write.col - 1
        have = self._tabs[actual].cells.get((row, col), _EMPTY)
        number_format = write.number_format
        if (
            have.value == key
            and have.fill == fill
            and (number_format is None or have.number_format == number_format)
        ):
            return None
        return _Op(actual, row, col, payload, fill, number_format, key)

    def _owned_ops(self, owned: OwnedTab, title: str, tab: _Tab | None) -> list[_Op]:
        ops: list[_Op] = []
        append = ops.append
        widths = tab.row_widths() if tab else {}
        cells = tab.cells if tab is not None else {}
        fills: dict[tuple[int, int], str] = {
            (r - 1, c - 1): colour.value for (r, c), colour in owned.fills.items()
        }
        fills_get = fills.get
        cells_get = cells.get
        rows = owned.rows
        n_rows = len(rows)
        height = max(n_rows, max(widths, default=-1) + 1)
        empty: list[Any] = []
        for r in range(height):
            want = rows[r] if r < n_rows else empty
            n_want = len(want)
            width = max(n_want, widths.get(r, 0))
            for c in range(width):
                payload, fmt, key = _desired(want[c] if c < n_want else None)
                fill = fills_get((r, c)) if fills else None
                if tab is None:
                    if payload is None and fill is None:
                        continue
                else:
                    have = cells_get((r, c), _EMPTY)
                    if (
                        have.value == key
                        and have.fill == fill
                        and (fmt is None or have.number_format == fmt)
                    ):
                        continue
                append(_Op(title, r, c, payload, fill, fmt, key))
        return ops

    # --- verifying ------------------------------------------------------------------------

    def _busy(self, message: str) -> WorkbookBusyError:
        """The sheet changed under us: RowsMovedError, which makes the pipeline redo the cycle."""
        return RowsMovedError(
            f"{message}; nothing was written. Run the sync again once nobody is editing.",
            workbook=self.label,
        )

    def _verify(
        self, guards: Sequence[RowGuard], touched: set[str], creating: list[str]
    ) -> dict[str, _Grid]:
        """Re-read the guarded cells and the touched tabs' grid sizes in one request."""
        assert self._tabs is not None
        columns: dict[str, dict[int, list[int]]] = defaultdict(lambda: defaultdict(list))
        for guard in guards:
            actual = self._find(guard.tab)
            if actual is None:
                raise self._busy(f"tab '{guard.tab}' was not there when the sync read the sheet")
            columns[actual][guard.col - 1].append(guard.row)
        names = sorted(set(columns) | touched)
        ranges = []
        for name in names:
            if name in columns:
                for col, rows in sorted(columns[name].items()):
                    letter = _column(col)
                    ranges.append(f"{_quote(name)}!{letter}{min(rows)}:{letter}{max(rows)}")
            else:
                ranges.append(f"{_quote(name)}!A1")
        if ranges:
            params: dict[str, Any] = {"ranges": ranges, "fields": VERIFY_FIELDS}
        else:
            params = {"fields": META_FIELDS}
        doc = self._call(
            "verify", lambda: self._client.http_client.spreadsheets_get(self.spreadsheet_id, params)
        )
        found: dict[str, _Grid] = {}
        values: dict[tuple[str, int, int], CellValue] = {}
        for sheet in doc.get("sheets", []) or []:
            title, size = _grid_props(sheet)
            found[title] = size
            for r, c, cell in _cells_of(sheet):
                values[(title, r, c)] = _python_value(cell.get("effectiveValue"))
        for name in names:
            if name not in found or found[name].sheet_id != self._tabs[name].sheet_id:
                raise self._busy(f"tab '{name}' was renamed, deleted or replaced while syncing")
        for guard in guards:
            actual = self._find(guard.tab)
            assert actual is not None
            now = values.get((actual, guard.row - 1, guard.col - 1))
            if not _same(now, guard.expected):
                where = f"{_column(guard.col - 1)}{guard.row}"
                raise self._busy(
                    f"rows on tab '{actual}' changed while sheetsync was working "
                    f"({where} was {guard.expected!r} and is now {now!r})"
                )
        if not ranges:
            folded = {t.casefold() for t in found}
            for name in creating:
                if name.casefold() in folded:
                    raise self._busy(f"a tab named '{name}' was added while syncing")
        grid = {name: _Grid(tab.sheet_id, tab.rows, tab.cols) for name, tab in self._tabs.items()}
        grid.update({name: size for name, size in found.items() if name in grid})
        return grid

    # --- writing ----------------------------------------------------------------------------

    def _send(
        self, ops: list[_Op], creates: list[OwnedTab], grid: dict[str, _Grid]
    ) -> dict[str, _Grid]:
        """Send the one batch; retry it safely. Returns every tab's grid size afterwards."""
        taken = {size.sheet_id for size in grid.values()}
        new_ids: dict[str, int] = {}
        for owned in creates:
            sheet_id = random.randint(1, 2**31 - 1)
            while sheet_id in taken:
                sheet_id = random.randint(1, 2**31 - 1)
            taken.add(sheet_id)
            new_ids[owned.name] = sheet_id
        current = grid
        ambiguous = False
        result = dict(grid)

        def attempt() -> None:
            nonlocal current, ambiguous, result
            if ambiguous:
                current = self._fetch_grid()
            with cyclic_gc_paused():
                body, sizes = self._build(ops, creates, new_ids, current)
            try:
                self._client.http_client.batch_update(self.spreadsheet_id, body)
            except Exception as exc:
                if _is_ambiguous(exc):
                    ambiguous = True
                raise
            result = sizes

        self._call("write", attempt)
        return result

    def _fetch_grid(self) -> dict[str, _Grid]:
        doc = self._client.http_client.spreadsheets_get(
            self.spreadsheet_id, params={"fields": META_FIELDS}
        )
        return dict(_grid_props(sheet) for sheet in doc.get("sheets", []) or [])

    def _build(
        self,
        ops: list[_Op],
        creates: list[OwnedTab],
        new_ids: dict[str, int],
        grid: dict[str, _Grid],
    ) -> tuple[dict[str, Any], dict[str, _Grid]]:
        sizes = dict(grid)
        requests_: list[dict[str, Any]] = []
        groups: dict[tuple[str, bool], list[_Op]] = defaultdict(list)
        for op in ops:
            groups[(op.tab, op.number_format is not None)].append(op)
        need: dict[str, tuple[int, int]] = {}
        for (title, _), group in groups.items():
            rows, cols = need.get(title, (0, 0))
            need[title] = (
                max(rows, max(op.row for op in group) + 1),
                max(cols, max(op.col for op in group) + 1),
            )
        for owned in creates:
            if owned.name in sizes:
                if sizes[owned.name].sheet_id != new_ids[owned.name]:
                    raise self._busy(f"a tab named '{owned.name}' was added while syncing")
                continue  # an earlier attempt whose answer was lost created it
            rows, cols = need.get(owned.name, (1, 1))
            sheet_id = new_ids[owned.name]
            requests_.append(
                {
                    "addSheet": {
                        "properties": {
                            "sheetId": sheet_id,
                            "title": owned.name,
                            "gridProperties": {
                                "rowCount": max(rows, 1),
                                "columnCount": max(cols, 1),
                            },
                        }
                    }
                }
            )
            sizes[owned.name] = _Grid(sheet_id, max(rows, 1), max(cols, 1))
            for col, width in sorted(owned.widths.items()):
                requests_.append(
                    {
                        "updateDimensionProperties": {
                            "range": {
                                "sheetId": sheet_id,
                                "dimension": "COLUMNS",
                                "startIndex": col - 1,
                                "endIndex": col,
                            },
                            "properties": {"pixelSize": round(width * 7 + 5)},
                            "fields": "pixelSize",
                        }
                    }
                )
        for title, (rows, cols) in sorted(need.items()):
            if title not in sizes:
                raise self._busy(f"tab '{title}' was deleted while syncing")
            size = sizes[title]
            for dimension, have, want in (("ROWS", size.rows, rows), ("COLUMNS", size.cols, cols)):
                if want > have:
                    requests_.append(
                        {
                            "appendDimension": {
                                "sheetId": size.sheet_id,
                                "dimension": dimension,
                                "length": want - have,
                            }
                        }
                    )
            sizes[title] = _Grid(size.sheet_id, max(size.rows, rows), max(size.cols, cols))
        for (title, with_format), group in sorted(groups.items()):
            for top, left, body in _rectangles(group):
                requests_.append(
                    {
                        "updateCells": {
                            "start": {
                                "sheetId": sizes[title].sheet_id,
                                "rowIndex": top,
                                "columnIndex": left,
                            },
                            "rows": [{"values": [op.cell_data() for op in run]} for run in body],
                            "fields": FORMAT_MASK if with_format else VALUE_MASK,
                        }
                    }
                )
        return {"requests": requests_, "includeSpreadsheetInResponse": False}, sizes

    def _remember(self, ops: list[_Op], sizes: dict[str, _Grid]) -> None:
        """Make the remembered sheet what it now is, so a second write diffs correctly."""
        assert self._tabs is not None
        for title, size in sizes.items():
            tab = self._tabs.get(title)
            if tab is None:
                self._tabs[title] = _Tab(size.sheet_id, title, size.rows, size.cols)
            else:
                tab.sheet_id, tab.rows, tab.cols = size
        tabs = self._tabs
        for op in ops:
            cells = tabs[op.tab].cells
            where = (op.row, op.col)
            number_format = op.number_format
            if number_format is None:
                number_format = cells.get(where, _EMPTY).number_format
            if op.key is None and op.fill is None and number_format is None:
                cells.pop(where, None)
            else:
                cells[where] = _Cell(op.key, op.fill, number_format)

    # --- requests, retries and errors ---------------------------------------------------------

    def _count_request(self) -> None:
        self._requests += 1

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (state.attempt_number - 1))
        wait = random.uniform(0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        after = _retry_after(exc)
        return max(wait, after) if after is not None else wait

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call with retries; map failures to sheetsync errors."""
        policy = self.retry
        attempts = 0
        started = time.monotonic()

        def before_sleep(state: RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            log.warning(
                "%s: Google Sheets %s failed (%s); retrying in %.1fs",
                self.label,
                what,
                _describe(exc),
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(_is_transient),
            stop=stop_after_attempt(max(1, policy.max_attempts))
            | stop_before_delay(policy.max_seconds),
            wait=self._wait,
            before_sleep=before_sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    attempts += 1
                    if attempts > 1:
                        self._retries += 1
                    return fn()
        except WorkbookError:
            raise
        except Exception as exc:
            raise self._translate(exc, what, attempts, time.monotonic() - started) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    def _translate(self, exc: Exception, what: str, attempts: int, elapsed: float) -> WorkbookError:
        label = self.label
        tries = f"after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.0f}s"
        if isinstance(exc, APIError):
            code = exc.response.status_code
            message, status, details = _error_info(exc)
            if code == 429:
                return TransientBackendError(
                    f"Google Sheets API quota exceeded: still rate-limited {tries}. The Sheets "
                    "API allows 60 requests/min per user and 300 per project; wait a minute and "
                    "run again, or sync fewer spreadsheets at a time.",
                    workbook=label,
                )
            if code in TRANSIENT_STATUS:
                return TransientBackendError(
                    f"Google Sheets API kept failing (HTTP {code} {status}: {message}) {tries}; "
                    "try again later.",
                    workbook=label,
                )
            if code == 403:
                return BackendError(self._forbidden(message, details, what), workbook=label)
            if code == 404:
                return BackendError(
                    f"No spreadsheet with ID {self.spreadsheet_id} (check the ID/URL in the "
                    "config).",
                    workbook=label,
                )
            if code == 401:
                return BackendError(
                    f"Google rejected the credentials in {self._creds.path} (HTTP 401: "
                    f"{message}). Create a new key or token and point `credentials` at it.",
                    workbook=label,
                )
            if code == 400 and what == "verify":
                return self._busy(f"a tab sheetsync writes to was renamed or deleted ({message})")
            if code == 400 and "already exists" in message:
                return self._busy(f"the spreadsheet changed while syncing ({message})")
            return BackendError(
                f"Google Sheets API refused the {what} request (HTTP {code} {status}: {message})",
                workbook=label,
            )
        if isinstance(exc, auth_exceptions.RefreshError):
            reason = str(exc.args[0]) if exc.args else type(exc).__name__
            who = f" for {self.account}" if self.account else ""
            return BackendError(
                f"Google refused the credentials in {self._creds.path}: {reason}. The key or "
                f"token may have been deleted or revoked: create a new one{who} and point "
                "`credentials` at it (a wrong system clock also causes this).",
                workbook=label,
            )
        if isinstance(exc, requests.Timeout):
            return TransientBackendError(
                f"Google Sheets API did not answer within {self.timeout:g}s ({tries}); try "
                "again later.",
                workbook=label,
            )
        if _is_transient(exc):
            return TransientBackendError(
                f"Could not reach the Google Sheets API at {self.api_url} ({_describe(exc)}) "
                f"{tries}; check the network and try again.",
                workbook=label,
            )
        return BackendError(
            f"unexpected failure talking to the Google Sheets API ({_describe(exc)})",
            workbook=label,
        )

    def _forbidden(self, message: str, details: list[Mapping[str, Any]], what: str) -> str:
        reasons = {d.get("reason") for d in details if isinstance(d, Mapping)}
        if "SERVICE_DISABLED" in reasons or "has not been used in project" in message:
            project = _disabled_project(message, details)
            return (
                f"The Google Sheets API is disabled: enable the Google Sheets API for project "
                f"{project} at https://console.developers.google.com/apis/api/"
                f"sheets.googleapis.com/overview?project={project} (APIs & Services > Library > "
                "Google Sheets API > Enable), wait a few minutes and run again."
            )
        if "insufficient authentication scopes" in message.lower():
            return (
                f"The credentials in {self._creds.path} were not granted access to Google Sheets "
                f"(scope {SCOPES[0]}); create the token again with that scope."
            )
        if self.account:
            if what == "write" and self._read_ok:
                return (
                    f"The spreadsheet is shared with {self.account} as a viewer only. Open it in "
                    "Google Sheets, click Share and make that address an Editor."
                )
            return (
                f"The spreadsheet is not shared with {self.account}. Open it in Google Sheets, "
                "click Share and add that address as an Editor."
            )
        return (
            f"The Google account whose token is in {self._creds.path} cannot edit this "
            "spreadsheet. Open it in Google Sheets, click Share and add that account as an Editor."
        )


def _same(now: CellValue, expected: CellValue) -> bool:
    if now is None or now == "":
        return expected is None or expected == ""
    if isinstance(now, bool) or isinstance(expected, bool):
        return now == expected
    if isinstance(now, int | float) and isinstance(expected, int | float):
        return math.isclose(now, expected, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(expected, datetime | date) and isinstance(now, int | float):
        return math.isclose(now, _serial(expected), abs_tol=1e-9)
    return now == expected


def _disabled_project(message: str, details: list[Mapping[str, Any]]) -> str:
    for detail in details:
        consumer = (detail.get("metadata") or {}).get("consumer", "")
        if consumer.startswith("projects/"):
            return consumer[len("projects/") :]
    match = re.search(r"project (\S+?) before", message) or re.search(
        r"project=(\w[\w-]*)", message
    )
    return match.group(1) if match else "(see the Google Cloud console)"


def _describe(exc: BaseException | None) -> str:
    """A short description of a failure, without URLs' queries, headers or tokens."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, APIError):
        message, status, _ = _error_info(exc)
        return f"HTTP {exc.response.status_code} {status}: {message}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        for marker in (
            "Connection aborted",
            "Connection refused",
            "Connection reset",
            "RemoteDisconnected",
        ):
            if marker in text:
                return marker.lower().replace(
                    "remotedisconnected", "connection closed by the server"
                )
        return "connection failed"
    return type(exc).__name__
