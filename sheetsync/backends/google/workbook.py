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

import logging
import os
import random
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

import gspread
import requests
from google.auth import exceptions as auth_exceptions
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
from sheetsync.backends.google.addresses import (
    GOOGLE_API_ROOT,
    SHEETS_URL,
    resolve_api_url,
    spreadsheet_id_from,
)
from sheetsync.backends.google.auth import SCOPES, keep_tokens_home, load_credentials
from sheetsync.backends.google.batch import cell_rectangles
from sheetsync.backends.google.cells import (
    FILL_TEXT,
    desired_value,
    hex_colour,
    python_value,
    value_key,
)
from sheetsync.backends.google.diff import CellOp
from sheetsync.backends.google.errors import api_error_info, describe_failure, disabled_project
from sheetsync.backends.google.guards import column_letter, quoted_title, same_value
from sheetsync.backends.google.retries import (
    TRANSIENT_STATUS,
    RetryPolicy,
    is_ambiguous,
    is_transient,
    retry_after_seconds,
)
from sheetsync.backends.google.session import SheetsSession
from sheetsync.backends.google.tabs import (
    EMPTY_CELL,
    CellState,
    GridSize,
    TabState,
    cells_of,
    title_and_grid,
)
from sheetsync.core.errors import (
    BackendError,
    RowsMovedError,
    TransientBackendError,
    WorkbookBusyError,
    WorkbookError,
    WorkbookLayoutError,
)

log = logging.getLogger(__name__)


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

T = TypeVar("T")


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
            keep_tokens_home(self._creds.credentials)
        self.account = self._creds.email
        self._fixed_label = label
        self.label = label or self.spreadsheet_id
        self.location = SHEETS_URL.format(self.spreadsheet_id)
        self.title: str | None = None
        self.timeout = timeout
        self.retry = retry or RetryPolicy()
        self._requests = 0
        self._retries = 0
        self._session = SheetsSession(
            self._creds.credentials,
            api_url=self.api_url,
            timeout=timeout,
            limiter=limiter,
            on_request=self._count_request,
        )
        self._client = gspread.Client(auth=self._creds.credentials, session=self._session)
        self._client.set_timeout(timeout)
        self._tabs: dict[str, TabState] | None = None
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
        tabs: dict[str, TabState] = {}
        grids: dict[str, Grid] = {}
        for sheet in doc.get("sheets", []) or []:
            title, size = title_and_grid(sheet)
            tab = TabState(size.sheet_id, title, size.rows, size.cols)
            values: dict[tuple[int, int], CellValue] = {}
            cells = tab.cells
            for r, c, cell in cells_of(sheet):
                fmt = cell.get("userEnteredFormat")
                key = value_key(cell.get("userEnteredValue"))
                if fmt:
                    cells[(r, c)] = CellState(
                        key,
                        hex_colour(fmt.get("backgroundColor")),
                        (fmt.get("numberFormat") or {}).get("pattern"),
                    )
                else:
                    cells[(r, c)] = CellState(key, None, None)
                value = python_value(cell.get("effectiveValue"))
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

    def _diff(self, plan: WritePlan) -> tuple[list[CellOp], list[OwnedTab]]:
        assert self._tabs is not None
        ops: list[CellOp] = []
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

    def _diff_cell(self, write: CellWrite, actual: str | None) -> CellOp | None:
        """The op `write` needs on tab `actual` (its real name), or None when it is there."""
        assert self._tabs is not None
        if actual is None:
            raise WorkbookLayoutError(
                f"tab '{write.tab}' is not in the spreadsheet any more", workbook=self.label
            )
        payload, _, key = desired_value(write.value)
        colour = write.fill
        fill = FILL_TEXT.get(colour) if colour is not None else None
        if colour is not None and fill is None:
            fill = colour.value
        row, col = write.row - 1, write.col - 1
        have = self._tabs[actual].cells.get((row, col), EMPTY_CELL)
        number_format = write.number_format
        if (
            have.value == key
            and have.fill == fill
            and (number_format is None or have.number_format == number_format)
        ):
            return None
        return CellOp(actual, row, col, payload, fill, number_format, key)

    def _owned_ops(self, owned: OwnedTab, title: str, tab: TabState | None) -> list[CellOp]:
        ops: list[CellOp] = []
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
                payload, fmt, key = desired_value(want[c] if c < n_want else None)
                fill = fills_get((r, c)) if fills else None
                if tab is None:
                    if payload is None and fill is None:
                        continue
                else:
                    have = cells_get((r, c), EMPTY_CELL)
                    if (
                        have.value == key
                        and have.fill == fill
                        and (fmt is None or have.number_format == fmt)
                    ):
                        continue
                append(CellOp(title, r, c, payload, fill, fmt, key))
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
    ) -> dict[str, GridSize]:
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
                    letter = column_letter(col)
                    ranges.append(f"{quoted_title(name)}!{letter}{min(rows)}:{letter}{max(rows)}")
            else:
                ranges.append(f"{quoted_title(name)}!A1")
        if ranges:
            params: dict[str, Any] = {"ranges": ranges, "fields": VERIFY_FIELDS}
        else:
            params = {"fields": META_FIELDS}
        doc = self._call(
            "verify", lambda: self._client.http_client.spreadsheets_get(self.spreadsheet_id, params)
        )
        found: dict[str, GridSize] = {}
        values: dict[tuple[str, int, int], CellValue] = {}
        for sheet in doc.get("sheets", []) or []:
            title, size = title_and_grid(sheet)
            found[title] = size
            for r, c, cell in cells_of(sheet):
                values[(title, r, c)] = python_value(cell.get("effectiveValue"))
        for name in names:
            if name not in found or found[name].sheet_id != self._tabs[name].sheet_id:
                raise self._busy(f"tab '{name}' was renamed, deleted or replaced while syncing")
        for guard in guards:
            actual = self._find(guard.tab)
            assert actual is not None
            now = values.get((actual, guard.row - 1, guard.col - 1))
            if not same_value(now, guard.expected):
                where = f"{column_letter(guard.col - 1)}{guard.row}"
                raise self._busy(
                    f"rows on tab '{actual}' changed while sheetsync was working "
                    f"({where} was {guard.expected!r} and is now {now!r})"
                )
        if not ranges:
            folded = {t.casefold() for t in found}
            for name in creating:
                if name.casefold() in folded:
                    raise self._busy(f"a tab named '{name}' was added while syncing")
        grid = {
            name: GridSize(tab.sheet_id, tab.rows, tab.cols) for name, tab in self._tabs.items()
        }
        grid.update({name: size for name, size in found.items() if name in grid})
        return grid

    # --- writing ----------------------------------------------------------------------------

    def _send(
        self, ops: list[CellOp], creates: list[OwnedTab], grid: dict[str, GridSize]
    ) -> dict[str, GridSize]:
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
                if is_ambiguous(exc):
                    ambiguous = True
                raise
            result = sizes

        self._call("write", attempt)
        return result

    def _fetch_grid(self) -> dict[str, GridSize]:
        doc = self._client.http_client.spreadsheets_get(
            self.spreadsheet_id, params={"fields": META_FIELDS}
        )
        return dict(title_and_grid(sheet) for sheet in doc.get("sheets", []) or [])

    def _build(
        self,
        ops: list[CellOp],
        creates: list[OwnedTab],
        new_ids: dict[str, int],
        grid: dict[str, GridSize],
    ) -> tuple[dict[str, Any], dict[str, GridSize]]:
        sizes = dict(grid)
        requests_: list[dict[str, Any]] = []
        groups: dict[tuple[str, bool], list[CellOp]] = defaultdict(list)
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
            sizes[owned.name] = GridSize(sheet_id, max(rows, 1), max(cols, 1))
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
            sizes[title] = GridSize(size.sheet_id, max(size.rows, rows), max(size.cols, cols))
        for (title, with_format), group in sorted(groups.items()):
            for top, left, body in cell_rectangles(group):
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

    def _remember(self, ops: list[CellOp], sizes: dict[str, GridSize]) -> None:
        """Make the remembered sheet what it now is, so a second write diffs correctly."""
        assert self._tabs is not None
        for title, size in sizes.items():
            tab = self._tabs.get(title)
            if tab is None:
                self._tabs[title] = TabState(size.sheet_id, title, size.rows, size.cols)
            else:
                tab.sheet_id, tab.rows, tab.cols = size
        tabs = self._tabs
        for op in ops:
            cells = tabs[op.tab].cells
            where = (op.row, op.col)
            number_format = op.number_format
            if number_format is None:
                number_format = cells.get(where, EMPTY_CELL).number_format
            if op.key is None and op.fill is None and number_format is None:
                cells.pop(where, None)
            else:
                cells[where] = CellState(op.key, op.fill, number_format)

    # --- requests, retries and errors ---------------------------------------------------------

    def _count_request(self) -> None:
        self._requests += 1

    def _wait(self, state: RetryCallState) -> float:
        policy = self.retry
        ceiling = min(policy.max_delay, policy.base_delay * 2 ** (state.attempt_number - 1))
        wait = random.uniform(0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        after = retry_after_seconds(exc)
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
                describe_failure(exc),
                state.upcoming_sleep,
            )

        retrying = Retrying(
            retry=retry_if_exception(is_transient),
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
            message, status, details = api_error_info(exc)
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
        if is_transient(exc):
            return TransientBackendError(
                f"Could not reach the Google Sheets API at {self.api_url} "
                f"({describe_failure(exc)}) {tries}; check the network and try again.",
                workbook=label,
            )
        return BackendError(
            f"unexpected failure talking to the Google Sheets API ({describe_failure(exc)})",
            workbook=label,
        )

    def _forbidden(self, message: str, details: list[Mapping[str, Any]], what: str) -> str:
        reasons = {d.get("reason") for d in details if isinstance(d, Mapping)}
        if "SERVICE_DISABLED" in reasons or "has not been used in project" in message:
            project = disabled_project(message, details)
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
