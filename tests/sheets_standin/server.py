"""A local stand-in for the Google Sheets API v4, over real HTTP on 127.0.0.1.

It serves the endpoints gspread and sheetsync's backend use, checks OAuth bearer tokens that
its own `/token` endpoint issued (google-auth's service-account JWT flow and the authorised-user
refresh-token flow), and lets a test steer it:

- count requests by kind (`counts`, `reset_counts`) and keep a log of them (`log`);
- inject faults: `fail_next(429, retry_after=1)`, `fail_next(503, times=2)`, `drop_next()`,
  `delay_next(2.0)`, or a fixed `latency` for every API request;
- enforce a per-window quota as Google does (`set_quota(60, per_seconds=60)`): requests are
  counted when they arrive, after their latency or delay, and those over it get a 429;
- play a person editing the sheet between two requests: `after_next("get", fn)` runs `fn`
  after the next successful spreadsheets.get is computed and before it is sent, so the edit is
  in place before the client can send anything else;
  (`before_next("batchUpdate", fn)` edits after every check the client made and before its
  write is applied);
- permissions (`restrict`, `share`) and a disabled API (`disable_api`);
- measure traffic: every request records the bytes it sent up and received down
  (`bytes_up`, `bytes_down`, per record and in total); a response is gzip-compressed, as
  Google's performance guide says, only when the request has `Accept-Encoding: gzip` AND a
  `User-Agent` containing "gzip"; a request body sent with `Content-Encoding: gzip` is
  decompressed, as Google's front end does for its own Java and .NET API clients, which
  compress every request body by default (`bytes_up` counts it compressed), or refused with
  `refuse_gzip_bodies` (400 or 415), as a gateway that does not decompress them would;
- build and inspect spreadsheets from plain python lists (`create_spreadsheet`, `values`,
  `background`, `formula`, `insert_rows`, `insert_columns`, `sort_rows`...).

`spreadsheets.batchUpdate` answers with the spreadsheet as updated when asked, as the real API
documents it: `includeSpreadsheetInResponse`, `responseRanges`, `responseIncludeGridData`, and a
`fields` mask over the response.

Request kinds, as counted: get, batchUpdate, create, values.get, values.batchGet,
values.update, values.batchUpdate, values.append, values.clear, values.batchClear, token,
unknown.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import secrets
import socket
import threading
import time
from collections import Counter, deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from tests.sheets_standin import model
from tests.sheets_standin.model import ApiError, Area, Formula, Spreadsheet

API_ROOT = "https://sheets.googleapis.com"
SERVICE_ACCOUNT_EMAIL = "sheetsync-test@demo-project.iam.gserviceaccount.com"
"""The service account the fixtures make a key for."""
PROJECT_ID = "demo-project"
OAUTH_USER_EMAIL = "okr-owner@example.com"
"""The person whose authorised-user token file the fixtures write."""
SCOPE = "https://www.googleapis.com/auth/spreadsheets"
READ_SCOPES = {
    SCOPE,
    "https://www.googleapis.com/auth/spreadsheets.readonly",
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.readonly",
    "https://www.googleapis.com/auth/drive.file",
}
WRITE_SCOPES = {
    SCOPE,
    "https://www.googleapis.com/auth/drive",
    "https://www.googleapis.com/auth/drive.file",
}
WRITE_KINDS = {
    "batchUpdate",
    "create",
    "values.update",
    "values.batchUpdate",
    "values.append",
    "values.clear",
    "values.batchClear",
}
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
GOOGLE_TOKEN_URI = "https://oauth2.googleapis.com/token"
"""The audience google-auth puts in service-account assertions, whatever the token_uri."""

Hook = Callable[["RequestRecord"], Any]


@dataclass
class RequestRecord:
    """One request the stand-in received."""

    kind: str
    method: str
    path: str
    params: dict[str, list[str]]
    body: Any
    email: str | None = None
    status: int | None = None
    """The status answered; None while in flight or when the connection was dropped."""
    over_quota: bool = False
    """Refused because of the quota set with `set_quota`."""
    headers: dict[str, str] = field(default_factory=dict)
    """The request's HTTP headers (names as sent)."""
    bytes_up: int = 0
    """Bytes of the request line, headers and body as received."""
    bytes_down: int = 0
    """Bytes of the response headers and body as sent (compressed when gzip was asked for)."""
    gzipped: bool = False
    """The response body was sent gzip-compressed."""


@dataclass
class Fault:
    action: str
    """"status" (answer with an error), "drop" (close the connection), "drop_after" (carry the
    request out, then close the connection) or "delay" (wait, then answer)."""
    kind: str | None = None
    """Request kind it applies to; None means any Sheets API request (not the token endpoint)."""
    times: int = 1
    status: int = 0
    retry_after: str | None = None
    seconds: float = 0.0
    message: str | None = None


@dataclass
class _Token:
    email: str
    scopes: frozenset[str]
    expires: float


@dataclass
class _Hook:
    when: str
    kind: str
    fn: Hook
    once: bool = True


@dataclass
class _AuthorizedUser:
    email: str
    client_id: str
    client_secret: str


@dataclass
class _Route:
    kind: str
    spreadsheet_id: str | None = None
    range: str | None = None


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _new_spreadsheet_id() -> str:
    return "1" + secrets.token_urlsafe(32)[:43]


class SheetsStandIn:
    """The stand-in server and its in-memory spreadsheets. Use `start()`/`stop()` or `with`."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.log: list[RequestRecord] = []
        self.latency = 0.0
        """Seconds every Sheets API request waits before it is handled (benchmarks)."""
        self._quota: tuple[int, float] | None = None
        self._arrivals: deque[float] = deque()
        self.disabled_project: str | None = None
        self.refuse_gzip_bodies: int | None = None
        """The status a request body sent gzip-compressed is answered with (400 or 415: a proxy
        or gateway in front of the API that does not decompress bodies); None: accepted."""
        self._lock = threading.RLock()
        self._counts: Counter[str] = Counter()
        self._faults: deque[Fault] = deque()
        self._hooks: list[_Hook] = []
        self._accounts: dict[str, rsa.RSAPublicKey] = {}
        self._users: dict[str, _AuthorizedUser] = {}
        self._tokens: dict[str, _Token] = {}
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ----------------------------------------------------------------------------

    def start(self) -> SheetsStandIn:
        standin = self

        class Handler(_Handler):
            pass

        Handler.standin = standin
        server = _Server((self.host, 0), Handler)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="sheets-standin", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> SheetsStandIn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """The API root to use instead of https://sheets.googleapis.com."""
        if self._server is None:
            raise RuntimeError("the stand-in is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def token_url(self) -> str:
        return f"{self.url}/token"

    # --- counting ------------------------------------------------------------------------------

    @property
    def counts(self) -> dict[str, int]:
        """Requests received by kind since the last `reset_counts`, faulted ones included."""
        with self._lock:
            return dict(self._counts)

    @property
    def api_requests(self) -> int:
        """Sheets API requests received (everything but the token endpoint)."""
        with self._lock:
            return sum(n for kind, n in self._counts.items() if kind != "token")

    @property
    def bytes_down(self) -> int:
        """Bytes of Sheets API responses sent (headers and body, compressed if they were)."""
        with self._lock:
            return sum(r.bytes_down for r in self.log if r.kind != "token")

    @property
    def bytes_up(self) -> int:
        """Bytes of Sheets API requests received (request line, headers and body)."""
        with self._lock:
            return sum(r.bytes_up for r in self.log if r.kind != "token")

    def reset_counts(self) -> None:
        with self._lock:
            self._counts.clear()
            self.log.clear()

    def requests_of(self, kind: str) -> list[RequestRecord]:
        with self._lock:
            return [r for r in self.log if r.kind == kind]

    # --- faults and hooks -----------------------------------------------------------------

    def fail_next(
        self,
        status: int,
        *,
        times: int = 1,
        kind: str | None = None,
        retry_after: float | str | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next `times` matching requests with `status` (Google's error body)."""
        ra = None if retry_after is None else str(retry_after)
        self._queue(Fault("status", kind, times, status, ra, message=message))

    def drop_next(
        self, *, times: int = 1, kind: str | None = None, after_applying: bool = False
    ) -> None:
        """Close the connection of the next `times` matching requests without answering.

        With `after_applying` the request is carried out first and only its answer is lost,
        which is what makes blind retries of non-idempotent requests dangerous.
        """
        self._queue(Fault("drop_after" if after_applying else "drop", kind, times))

    def set_quota(self, requests: int, *, per_seconds: float) -> None:
        """Answer 429 to Sheets API requests beyond `requests` in any `per_seconds` window.

        Like Google, a request counts when it arrives (after its latency or delay), and a
        refused request counts too.
        """
        with self._lock:
            self._quota = (requests, per_seconds)
            self._arrivals.clear()

    @property
    def refused_for_quota(self) -> int:
        """Requests answered 429 by the quota set with `set_quota` (not injected faults)."""
        with self._lock:
            return sum(1 for r in self.log if r.status == 429 and r.over_quota)

    def _over_quota(self) -> bool:
        with self._lock:
            if self._quota is None:
                return False
            limit, window = self._quota
            now = time.monotonic()
            while self._arrivals and self._arrivals[0] <= now - window:
                self._arrivals.popleft()
            self._arrivals.append(now)
            return len(self._arrivals) > limit

    def delay_next(self, seconds: float, *, times: int = 1, kind: str | None = None) -> None:
        """Wait `seconds` before answering the next `times` matching requests."""
        self._queue(Fault("delay", kind, times, seconds=seconds))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _queue(self, fault: Fault) -> None:
        with self._lock:
            self._faults.append(fault)

    def _take_fault(self, kind: str) -> Fault | None:
        with self._lock:
            for fault in self._faults:
                matches = fault.kind == kind or (
                    fault.kind is None and kind not in ("token", "unknown")
                )
                if matches:
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def before_next(self, kind: str, fn: Hook) -> None:
        """Run `fn(record)` once, when the next request of `kind` arrives, before handling it."""
        with self._lock:
            self._hooks.append(_Hook("before", kind, fn))

    def after_next(self, kind: str, fn: Hook) -> None:
        """Run `fn(record)` once, after the next successful `kind` is computed (before sending)."""
        with self._lock:
            self._hooks.append(_Hook("after", kind, fn))

    def on_request(self, kind: str, fn: Hook) -> None:
        """Run `fn(record)` after every successful request of `kind` ("*" for all)."""
        with self._lock:
            self._hooks.append(_Hook("after", kind, fn, once=False))

    def clear_hooks(self) -> None:
        with self._lock:
            self._hooks.clear()

    def _run_hooks(self, when: str, record: RequestRecord) -> None:
        with self._lock:
            due = [h for h in self._hooks if h.when == when and h.kind in (record.kind, "*")]
            for hook in due:
                if hook.once:
                    self._hooks.remove(hook)
        for hook in due:
            hook.fn(record)

    # --- accounts and permissions ---------------------------------------------------------

    def register_service_account(self, email: str, public_key: rsa.RSAPublicKey) -> None:
        """Accept JWT assertions signed by the private half of `public_key` for `email`."""
        with self._lock:
            self._accounts[email] = public_key

    def register_authorized_user(
        self, email: str, *, client_id: str, client_secret: str, refresh_token: str
    ) -> None:
        """Accept the OAuth refresh-token grant for `refresh_token` (an authorised-user file)."""
        with self._lock:
            self._users[refresh_token] = _AuthorizedUser(email, client_id, client_secret)

    def issue_token(self, email: str, scopes: Iterable[str] = (SCOPE,)) -> str:
        """An access token for `email`, as if it had come from the token endpoint."""
        token = "ya29.standin-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Token(email, frozenset(scopes), time.time() + 3600)
        return token

    def token_email(self, token: str) -> str | None:
        """Whose unexpired access token this is (for stand-ins of other Google endpoints)."""
        with self._lock:
            found = self._tokens.get(token)
        return found.email if found and found.expires >= time.time() else None

    def revoke_tokens(self) -> None:
        """Forget every issued access token (the next API call answers 401)."""
        with self._lock:
            self._tokens.clear()

    def restrict(self, spreadsheet_id: str, emails: Iterable[str]) -> None:
        """Only `emails` may open the spreadsheet; everyone else gets 403."""
        with self._lock:
            self.spreadsheets[spreadsheet_id].shared_with = set(emails)

    def share(self, spreadsheet_id: str, *emails: str) -> None:
        with self._lock:
            ss = self.spreadsheets[spreadsheet_id]
            if ss.shared_with is not None:
                ss.shared_with.update(emails)

    def disable_api(self, project: str = "123456789012") -> None:
        """Answer every API call like a project where the Sheets API is not enabled."""
        self.disabled_project = project

    def enable_api(self) -> None:
        self.disabled_project = None

    # --- building and inspecting spreadsheets -------------------------------------------

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        tabs: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        spreadsheet_id: str | None = None,
        shared_with: Iterable[str] | None = None,
        rows: int = 1000,
        cols: int = 26,
        locale: str = "en_US",
    ) -> str:
        """A spreadsheet with one tab per entry of `tabs` (values as python values, dates as
        dates, `Formula(...)` for formulas); returns its ID. Grids are at least `rows` x `cols`.
        `locale` is the spreadsheet's (File > Settings), as `properties.locale` reports it."""
        ss = Spreadsheet(
            spreadsheet_id or _new_spreadsheet_id(),
            title,
            shared_with=None if shared_with is None else set(shared_with),
            locale=locale,
        )
        for index, (name, grid) in enumerate((tabs or {"Sheet1": []}).items()):
            width = max((len(r) for r in grid), default=0)
            sheet = model.Sheet(index, name, max(rows, len(grid)), max(cols, width))
            _put_grid(sheet, 0, 0, grid)
            ss.sheets.append(sheet)
        with self._lock:
            self.spreadsheets[ss.spreadsheet_id] = ss
        return ss.spreadsheet_id

    def spreadsheet(self, spreadsheet_id: str) -> Spreadsheet:
        with self._lock:
            return self.spreadsheets[spreadsheet_id]

    def add_tab(self, spreadsheet_id: str, title: str, grid: Sequence[Sequence[Any]] = ()) -> int:
        with self._lock:
            ss = self.spreadsheets[spreadsheet_id]
            sheet_id = max((s.sheet_id for s in ss.sheets), default=-1) + 1
            width = max((len(r) for r in grid), default=0)
            sheet = model.Sheet(sheet_id, title, max(1000, len(grid)), max(26, width))
            _put_grid(sheet, 0, 0, grid)
            ss.sheets.append(sheet)
            return sheet_id

    def set_values(
        self, spreadsheet_id: str, tab: str, a1: str, grid: Sequence[Sequence[Any]]
    ) -> None:
        """Write python values from `a1` (top-left cell) on, as entered RAW; grows the grid."""
        with self._lock:
            sheet, area = self._locate(spreadsheet_id, tab, a1)
            width = max((len(r) for r in grid), default=0)
            sheet.row_count = max(sheet.row_count, area.start_row + len(grid))
            sheet.col_count = max(sheet.col_count, area.start_col + width)
            _put_grid(sheet, area.start_row, area.start_col, grid)

    def set_formula(
        self, spreadsheet_id: str, tab: str, a1: str, formula: str, *, effective: Any = None
    ) -> None:
        """Put a formula in a cell, with the value it is taken to compute (no formula engine)."""
        self.set_values(spreadsheet_id, tab, a1, [[Formula(formula, effective)]])

    def set_format(
        self,
        spreadsheet_id: str,
        tab: str,
        a1: str,
        *,
        background: str | None = None,
        number_format: Mapping[str, str] | None = None,
        bold: bool | None = None,
    ) -> None:
        """Format every cell of an A1 range like a person would (background as RRGGBB)."""
        with self._lock:
            sheet, area = self._locate(spreadsheet_id, tab, a1)
            area = area.clamp(sheet)
            assert area.end_row is not None and area.end_col is not None
            for r in range(area.start_row, area.end_row):
                for c in range(area.start_col, area.end_col):
                    cell = dict(sheet.get(r, c) or {})
                    fmt = dict(cell.get("userEnteredFormat", {}))
                    if background is not None:
                        fmt["backgroundColor"] = model.api_colour(background)
                    if number_format is not None:
                        fmt["numberFormat"] = dict(number_format)
                    if bold is not None:
                        fmt["textFormat"] = {**fmt.get("textFormat", {}), "bold": bold}
                    cell["userEnteredFormat"] = fmt
                    sheet.put(r, c, cell)

    def insert_rows(
        self, spreadsheet_id: str, tab: str, before: int, grid: Sequence[Sequence[Any]] = ((),)
    ) -> None:
        """Insert `len(grid)` rows above sheet row `before` (1-based) and fill them in."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            sheet.insert("ROWS", before - 1, max(1, len(grid)))
            _put_grid(sheet, before - 1, 0, grid)

    def insert_columns(self, spreadsheet_id: str, tab: str, before: int, count: int = 1) -> None:
        """Insert empty columns before 1-based column `before`, as a person does in the UI:
        cells, sizes and developer metadata to the right move along."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            sheet.insert("COLUMNS", before - 1, count)
            sheet.column_sizes = {
                c + count if c >= before - 1 else c: size for c, size in sheet.column_sizes.items()
            }

    def developer_metadata(self, spreadsheet_id: str, tab: str) -> dict[tuple[str, int], list]:
        """("ROWS" | "COLUMNS", 0-based index) -> developer metadata there."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            return {key: sheet.metadata_at(*key) for key in sheet.dimension_metadata}

    def delete_rows(self, spreadsheet_id: str, tab: str, first: int, count: int = 1) -> None:
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            sheet.delete("ROWS", first - 1, first - 1 + count)

    def reorder_rows(self, spreadsheet_id: str, tab: str, first: int, order: Sequence[int]) -> None:
        """Move whole rows like a sort does: row `first + i` gets what row `order[i]` held
        (1-based rows; every row from `first` to `first + len(order) - 1` must appear once)."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            rows = range(first - 1, first - 1 + len(order))
            if sorted(r - 1 for r in order) != list(rows):
                raise ValueError(f"not a reordering of rows {first}..{first + len(order) - 1}")
            source = {r - 1: new for new, r in zip(rows, order, strict=True)}
            moved = {}
            for (r, c), cell in sheet.cells.items():
                moved[(source.get(r, r), c)] = cell
            sheet.cells = moved

    def sort_rows(
        self, spreadsheet_id: str, tab: str, first: int, last: int, column: int, *, descending=False
    ) -> None:
        """Sort rows `first`..`last` by the values of 1-based `column` (Data > Sort range)."""
        with self._lock:
            grid = self.values(spreadsheet_id, tab)

            def key(row: int) -> tuple[bool, Any]:
                line = grid[row - 1] if row <= len(grid) else []
                value = line[column - 1] if column <= len(line) else None
                return value is None, value if not descending or value is None else -value

            self.reorder_rows(spreadsheet_id, tab, first, sorted(range(first, last + 1), key=key))

    def tabs(self, spreadsheet_id: str) -> list[str]:
        with self._lock:
            return [s.title for s in self.spreadsheets[spreadsheet_id].sheets]

    def grid_size(self, spreadsheet_id: str, tab: str) -> tuple[int, int]:
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            return sheet.row_count, sheet.col_count

    def values(
        self, spreadsheet_id: str, tab: str, render: str = "UNFORMATTED_VALUE"
    ) -> list[list[Any]]:
        """A tab's values as python values: None for empty cells, trailing empties left out."""
        with self._lock:
            sheet = self.spreadsheets[spreadsheet_id].sheet(tab)
            rows, cols = sheet.extent()
            grid = [
                [model.render(sheet.get(r, c), render) for c in range(cols)] for r in range(rows)
            ]
        for row in grid:
            while row and row[-1] is None:
                row.pop()
        while grid and not grid[-1]:
            grid.pop()
        return grid

    def cell(self, spreadsheet_id: str, tab: str, a1: str) -> dict[str, Any]:
        """A copy of the stored `CellData` ({} when the cell is empty)."""
        with self._lock:
            sheet, area = self._locate(spreadsheet_id, tab, a1)
            return json.loads(json.dumps(sheet.get(area.start_row, area.start_col) or {}))

    def value(self, spreadsheet_id: str, tab: str, a1: str) -> Any:
        return model.python_value(self.cell(spreadsheet_id, tab, a1).get("effectiveValue"))

    def formula(self, spreadsheet_id: str, tab: str, a1: str) -> str | None:
        return self.cell(spreadsheet_id, tab, a1).get("userEnteredValue", {}).get("formulaValue")

    def background(self, spreadsheet_id: str, tab: str, a1: str) -> str | None:
        fmt = self.cell(spreadsheet_id, tab, a1).get("userEnteredFormat", {})
        return model.hex_colour(fmt.get("backgroundColor"))

    def number_format(self, spreadsheet_id: str, tab: str, a1: str) -> dict[str, str] | None:
        return self.cell(spreadsheet_id, tab, a1).get("userEnteredFormat", {}).get("numberFormat")

    def column_width(self, spreadsheet_id: str, tab: str, column: int) -> int | None:
        """Pixel width set on a 1-based column, if any."""
        with self._lock:
            return self.spreadsheets[spreadsheet_id].sheet(tab).column_sizes.get(column - 1)

    def _locate(self, spreadsheet_id: str, tab: str, a1: str) -> tuple[model.Sheet, Area]:
        ss = self.spreadsheets[spreadsheet_id]
        sheet = ss.sheet(tab)
        area = model.parse_cells(a1, sheet.sheet_id)
        if area is None:
            raise ValueError(f"not an A1 cell range: {a1!r}")
        return sheet, area

    # --- clients for test setup -----------------------------------------------------------

    def session(self, email: str = "owner@example.com") -> requests.Session:
        """A requests session that talks to the stand-in as `email` (for gspread in tests)."""
        return _StandInSession(self.url, self.issue_token(email))

    def gspread_client(self, email: str = "owner@example.com") -> Any:
        """A real gspread client whose requests reach the stand-in, signed in as `email`."""
        import gspread

        return gspread.Client(None, session=self.session(email))  # type: ignore[arg-type]

    # --- serving ----------------------------------------------------------------------------

    def _serve(self, handler: _Handler, method: str, raw: bytes) -> None:
        parts = urlsplit(handler.path)
        params = parse_qs(parts.query, keep_blank_values=True)
        route = _route(method, parts.path)
        content_type = handler.headers.get("Content-Type", "")
        body: Any = None
        body_error = None
        text = raw
        gzipped = handler.headers.get("Content-Encoding", "").strip().lower() == "gzip"
        if raw and gzipped and self.refuse_gzip_bodies is not None:
            text, body_error = b"", _gzip_refused(self.refuse_gzip_bodies)
        elif raw and gzipped:
            try:
                text = gzip.decompress(raw)
            except (OSError, EOFError):
                text, body_error = b"", ApiError(400, "Invalid JSON payload received.")
        if text:
            if "application/x-www-form-urlencoded" in content_type:
                body = {k: v[-1] for k, v in parse_qs(text.decode()).items()}
            else:
                try:
                    body = json.loads(text)
                except ValueError:
                    body_error = ApiError(400, "Invalid JSON payload received.")
        headers_in = dict(handler.headers.items())
        record = RequestRecord(route.kind, method, parts.path, params, body, headers=headers_in)
        head = sum(len(k) + len(v) + 4 for k, v in headers_in.items())
        record.bytes_up = len(handler.requestline) + 4 + head + len(raw)
        with self._lock:
            self._counts[route.kind] += 1
            self.log.append(record)
        self._run_hooks("before", record)
        if route.kind not in ("token", "unknown") and self.latency:
            time.sleep(self.latency)
        fault = self._take_fault(route.kind)
        headers: dict[str, str] = {}
        if fault is not None and fault.action == "delay":
            time.sleep(fault.seconds)
            fault = None
        if fault is not None and fault.action == "drop":
            handler.drop()
            return
        if route.kind not in ("token", "unknown") and self._over_quota() and fault is None:
            record.over_quota = True
            fault = Fault("status", status=429)
        try:
            if fault is not None and fault.action == "status":
                extra = (
                    {"Retry-After": fault.retry_after} if fault.retry_after is not None else None
                )
                raise ApiError(fault.status, fault.message, headers=extra)
            if body_error is not None:
                raise body_error
            if route.kind == "token":
                status, payload = self._token(body or {})
            else:
                auth = handler.headers.get("Authorization")
                status, payload = 200, self._api(route, record, params, body or {}, auth)
        except ApiError as exc:
            status, payload, headers = exc.code, exc.body(), exc.headers
        if fault is not None and fault.action == "drop_after":
            handler.drop()
            return
        record.status = status
        if 200 <= status < 300:
            self._run_hooks("after", record)
        handler.respond(status, payload, headers, record)

    def _token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        grant = form.get("grant_type")
        if grant == JWT_BEARER:
            return self._jwt_grant(form.get("assertion", ""))
        if grant == "refresh_token":
            user = self._users.get(form.get("refresh_token", ""))
            if user is None or (user.client_id, user.client_secret) != (
                form.get("client_id"),
                form.get("client_secret"),
            ):
                return 400, {"error": "invalid_grant", "error_description": "Bad Request"}
            scopes = (form.get("scope") or SCOPE).split()
            token = self.issue_token(user.email, scopes)
            return 200, {
                "access_token": token,
                "expires_in": 3599,
                "scope": " ".join(scopes),
                "token_type": "Bearer",
            }
        return 400, {
            "error": "unsupported_grant_type",
            "error_description": f"Invalid grant_type: {grant}",
        }

    def _jwt_grant(self, assertion: str) -> tuple[int, dict[str, Any]]:
        def invalid(description: str) -> tuple[int, dict[str, Any]]:
            return 400, {"error": "invalid_grant", "error_description": description}

        try:
            head_b64, claims_b64, sig_b64 = assertion.split(".")
            header = json.loads(_b64decode(head_b64))
            claims = json.loads(_b64decode(claims_b64))
            signature = _b64decode(sig_b64)
        except ValueError:
            return invalid(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
            )
        if header.get("alg") != "RS256":
            return invalid("Invalid JWT: unsupported algorithm")
        key = self._accounts.get(claims.get("iss", ""))
        if key is None:
            return invalid("Invalid grant: account not found")
        try:
            key.verify(
                signature, f"{head_b64}.{claims_b64}".encode(), padding.PKCS1v15(), hashes.SHA256()
            )
        except InvalidSignature:
            return invalid("Invalid JWT Signature.")
        now = time.time()
        if claims.get("aud") not in (self.token_url, GOOGLE_TOKEN_URI):
            return invalid("Invalid JWT: Failed audience check.")
        if not (claims.get("iat", 0) - 300 <= now <= claims.get("exp", 0) + 300):
            return invalid(
                "Invalid JWT: Token must be a short-lived token and in a reasonable timeframe"
            )
        scopes = str(claims.get("scope", "")).split()
        if not scopes:
            return 400, {
                "error": "invalid_scope",
                "error_description": "Empty or missing scope not allowed.",
            }
        token = self.issue_token(claims["iss"], scopes)
        return 200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}

    def _authenticate(self, record: RequestRecord, header: str | None) -> _Token:
        token = None
        if header and header.startswith("Bearer "):
            with self._lock:
                token = self._tokens.get(header[len("Bearer ") :].strip())
        if token is None or token.expires < time.time():
            raise ApiError(401)
        record.email = token.email
        return token

    def _open(self, route: _Route, token: _Token) -> Spreadsheet:
        if self.disabled_project is not None:
            raise _service_disabled(self.disabled_project)
        scopes = WRITE_SCOPES if route.kind in WRITE_KINDS else READ_SCOPES
        if not token.scopes & scopes:
            raise ApiError(403, "Request had insufficient authentication scopes.")
        ss = self.spreadsheets.get(route.spreadsheet_id or "")
        if ss is None:
            raise ApiError(404)
        if ss.shared_with is not None and token.email not in ss.shared_with:
            raise ApiError(403)
        return ss

    def _api(
        self,
        route: _Route,
        record: RequestRecord,
        params: dict[str, list[str]],
        body: Any,
        auth: str | None,
    ) -> dict[str, Any]:
        if route.kind == "unknown":
            raise ApiError(404, f"Method not found: {record.method} {record.path}")
        token = self._authenticate(record, auth)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON payload received. Expected an object.")

        def one(name: str, default: str) -> str:
            return params.get(name, [default])[-1]

        with self._lock:
            if route.kind == "create":
                if self.disabled_project is not None:
                    raise _service_disabled(self.disabled_project)
                title = body.get("properties", {}).get("title", "Untitled spreadsheet")
                new_id = self.create_spreadsheet(title, shared_with=[token.email])
                return self.spreadsheets[new_id].resource(include_grid=False)
            ss = self._open(route, token)
            sid = ss.spreadsheet_id
            if route.kind == "get":
                fields = one("fields", "")
                include = bool(fields) or one("includeGridData", "false").lower() == "true"
                resource = ss.resource(include_grid=include, ranges=params.get("ranges", []))
                return model.apply_mask(resource, _field_mask(fields, model.SPREADSHEET_FIELDS))
            if route.kind == "batchUpdate":
                fields = one("fields", "")
                tree = _field_mask(fields, model.BATCH_UPDATE_FIELDS)
                new, reply = model.batch_update(ss, body, include_grid=bool(fields))
                self.spreadsheets[sid] = new
                return model.apply_mask(reply, tree)
            render = one("valueRenderOption", "FORMATTED_VALUE")
            major = one("majorDimension", "ROWS")
            if route.kind == "values.get":
                return _value_range(ss, route.range or "", render, major)
            if route.kind == "values.batchGet":
                ranges = params.get("ranges", [])
                return {
                    "spreadsheetId": sid,
                    "valueRanges": [_value_range(ss, r, render, major) for r in ranges],
                }
            work = ss.clone()
            if route.kind == "values.update":
                option = _input_option(one("valueInputOption", ""))
                reply = _update_values(work, route.range or "", body, option)
            elif route.kind == "values.batchUpdate":
                option = _input_option(body.get("valueInputOption", ""))
                replies = [
                    _update_values(work, d.get("range", ""), d, option)
                    for d in body.get("data", [])
                ]
                reply = {
                    "spreadsheetId": sid,
                    "totalUpdatedRows": sum(r.get("updatedRows", 0) for r in replies),
                    "totalUpdatedColumns": max(
                        (r.get("updatedColumns", 0) for r in replies), default=0
                    ),
                    "totalUpdatedCells": sum(r.get("updatedCells", 0) for r in replies),
                    "totalUpdatedSheets": len({r["updatedRange"].split("!")[0] for r in replies}),
                    "responses": replies,
                }
            elif route.kind == "values.append":
                option = _input_option(one("valueInputOption", ""))
                reply = _append_values(
                    work, route.range or "", body, option, one("insertDataOption", "OVERWRITE")
                )
            elif route.kind == "values.clear":
                sheet, area = work.parse_range(route.range or "")
                reply = {"spreadsheetId": sid, "clearedRange": model.clear_values(sheet, area)}
            elif route.kind == "values.batchClear":
                cleared = []
                for text in body.get("ranges", []):
                    sheet, area = work.parse_range(text)
                    cleared.append(model.clear_values(sheet, area))
                reply = {"spreadsheetId": sid, "clearedRanges": cleared}
            else:  # pragma: no cover - every routed kind is handled above
                raise ApiError(404)
            self.spreadsheets[sid] = work
            return reply


def _field_mask(fields: str, known: set[str]) -> dict[str, Any] | None:
    """The parsed `fields` parameter; a field the answer does not have is a 400, as in the API."""
    tree = model.parse_mask(fields)
    unknown = set(tree or {}) - known - {"*"}
    if unknown:
        raise ApiError(400, f"Request contains an invalid argument: no field {sorted(unknown)[0]}")
    return tree


def _put_grid(sheet: model.Sheet, row: int, col: int, grid: Sequence[Sequence[Any]]) -> None:
    for i, line in enumerate(grid):
        for j, value in enumerate(line):
            r, c = row + i, col + j
            sheet.put(r, c, model.make_cell(value, base=sheet.get(r, c)))


def _input_option(option: str) -> str:
    if option not in ("RAW", "USER_ENTERED"):
        raise ApiError(400, "'valueInputOption' is required but not specified")
    return option


def _value_range(ss: Spreadsheet, text: str, render: str, major: str) -> dict[str, Any]:
    sheet, area = ss.parse_range(text)
    result: dict[str, Any] = {"range": area.a1(sheet), "majorDimension": major}
    values = model.read_values(sheet, area, render, major)
    if values:
        result["values"] = values
    return result


def _update_values(
    ss: Spreadsheet, text: str, body: Mapping[str, Any], option: str
) -> dict[str, Any]:
    sheet, area = ss.parse_range(text)
    reply = model.write_values(
        sheet, area, body.get("values", []), option, body.get("majorDimension", "ROWS")
    )
    return {"spreadsheetId": ss.spreadsheet_id, **reply}


def _append_values(
    ss: Spreadsheet, text: str, body: Mapping[str, Any], option: str, insert: str
) -> dict[str, Any]:
    sheet, area = ss.parse_range(text)
    values = body.get("values", [])
    top, start = _find_table(sheet, area)
    if insert == "INSERT_ROWS" and start < sheet.row_count:
        sheet.insert("ROWS", start, len(values))
    target = Area(sheet.sheet_id, start, None, area.start_col, None)
    updates = model.write_values(
        sheet, target, values, option, body.get("majorDimension", "ROWS"), grow=True
    )
    table = Area(sheet.sheet_id, top, max(start, top + 1), area.start_col, area.end_col)
    return {
        "spreadsheetId": ss.spreadsheet_id,
        "tableRange": table.a1(sheet),
        "updates": {"spreadsheetId": ss.spreadsheet_id, **updates},
    }


def _find_table(sheet: model.Sheet, area: Area) -> tuple[int, int]:
    """Where values.append writes: (first row of the table in `area`, the row after it).

    The table is the first run of rows holding values (in the range's columns) at or below the
    range's top row and within its rows; an empty range appends at its top.
    """
    filled = {
        r
        for (r, c), cell in sheet.cells.items()
        if cell.get("userEnteredValue")
        and c >= area.start_col
        and (area.end_col is None or c < area.end_col)
    }
    last = area.end_row if area.end_row is not None else sheet.row_count
    top = min((r for r in filled if area.start_row <= r < last), default=None)
    if top is None:
        return area.start_row, area.start_row
    end = top
    while end in filled:
        end += 1
    return top, end


def _service_disabled(project: str) -> ApiError:
    url = f"https://console.developers.google.com/apis/api/sheets.googleapis.com/overview?project={project}"
    return ApiError(
        403,
        f"Google Sheets API has not been used in project {project} before or it is disabled. "
        f"Enable it by visiting {url} then retry. If you enabled this API recently, wait a few "
        "minutes for the action to propagate to our systems and retry.",
        status="PERMISSION_DENIED",
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {
                    "consumer": f"projects/{project}",
                    "service": "sheets.googleapis.com",
                    "activationUrl": url,
                },
            }
        ],
    )


def _route(method: str, path: str) -> _Route:
    if path == "/token":
        return _Route("token" if method == "POST" else "unknown")
    prefix = "/v4/spreadsheets"
    if not path.startswith(prefix):
        return _Route("unknown")
    rest = path[len(prefix) :]
    if rest == "" and method == "POST":
        return _Route("create")
    if not rest.startswith("/"):
        return _Route("unknown")
    rest = rest[1:]
    if "/values" in rest:
        sid, _, tail = rest.partition("/values")
        sid = unquote(sid)
        if tail == ":batchGet" and method == "GET":
            return _Route("values.batchGet", sid)
        if tail == ":batchUpdate" and method == "POST":
            return _Route("values.batchUpdate", sid)
        if tail == ":batchClear" and method == "POST":
            return _Route("values.batchClear", sid)
        if tail.startswith("/"):
            raw = tail[1:]
            for suffix, kind in ((":append", "values.append"), (":clear", "values.clear")):
                if raw.endswith(suffix) and method == "POST":
                    return _Route(kind, sid, unquote(raw[: -len(suffix)]))
            if method == "GET":
                return _Route("values.get", sid, unquote(raw))
            if method == "PUT":
                return _Route("values.update", sid, unquote(raw))
        return _Route("unknown")
    if rest.endswith(":batchUpdate") and method == "POST":
        return _Route("batchUpdate", unquote(rest[: -len(":batchUpdate")]))
    if method == "GET" and "/" not in rest and ":" not in rest:
        return _Route("get", unquote(rest))
    return _Route("unknown")


def _gzip_refused(status: int) -> ApiError:
    """What a front end that does not decompress request bodies answers: 415, or a 400 about
    the JSON it could not read (the compressed bytes)."""
    if status == 415:
        return ApiError(415, "Unsupported Media Type: Content-Encoding gzip")
    return ApiError(status, "Invalid JSON payload received. Unexpected token.")


def wants_gzip(accept_encoding: str | None, user_agent: str | None) -> bool:
    """Google compresses a response only when the client accepts gzip and says so in its
    User-Agent too ("Accept-Encoding: gzip" and "User-Agent: my program (gzip)")."""
    accepted = {part.split(";")[0].strip().lower() for part in (accept_encoding or "").split(",")}
    return "gzip" in accepted and "gzip" in (user_agent or "").lower()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that gave up (timeout, dropped connection) is part of the tests, not news."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    standin: SheetsStandIn

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def _handle(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        self.standin._serve(self, method, raw)

    def respond(
        self,
        status: int,
        payload: Any,
        headers: Mapping[str, str],
        record: RequestRecord | None = None,
    ) -> None:
        data = json.dumps(payload, separators=(",", ":")).encode()
        compress = wants_gzip(self.headers.get("Accept-Encoding"), self.headers.get("User-Agent"))
        if compress:
            data = gzip.compress(data, compresslevel=6)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            if compress:
                self.send_header("Content-Encoding", "gzip")
                self.send_header("Vary", "Origin, X-Origin, Referer")
            self.send_header("Content-Length", str(len(data)))
            for name, value in headers.items():
                self.send_header(name, value)
            if record is not None:  # before sending: the client may look as soon as it has it
                head = b"".join(getattr(self, "_headers_buffer", []))
                record.bytes_down = len(head) + 2 + len(data)
                record.gzipped = compress
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


class _StandInSession(requests.Session):
    """Sends requests meant for https://sheets.googleapis.com to the stand-in, with a token."""

    def __init__(self, root: str, token: str) -> None:
        super().__init__()
        self._root = root
        self.headers["Authorization"] = f"Bearer {token}"

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        url = url.decode() if isinstance(url, bytes) else url
        if url.startswith(API_ROOT):
            url = self._root + url[len(API_ROOT) :]
        return super().request(str(method), url, *args, **kwargs)
