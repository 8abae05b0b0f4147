"""Google Sheets backend: the same sync on a live spreadsheet, in a constant number of API calls.

API calls per sync, whatever the number of rows (the quota is 60 requests a minute per user
and 300 per project):

- `read()` is ONE `spreadsheets.get`, answered gzip-compressed, trimmed by a `fields` mask to
  effective values, formulas, fills and number formats. It asks by `ranges` for only the tabs
  the sync uses when it knows their exact titles from an earlier answer (`known_tabs`, kept
  between runs), because a range naming a missing tab fails the whole request; otherwise (the
  first run, a tab not seen before) it reads every tab. A remembered tab deleted or renamed
  since costs one more read that run. `read_only()` (a parent reading a child's Summary, no
  write to follow) always asks by `ranges`: a tab that is not there comes back as a 400.
- `write(plan)` compares the plan with what `read()` saw (values, fills and number formats of
  the owned cells) and makes NO request when nothing differs. Otherwise it makes exactly one:
  ONE `spreadsheets.batchUpdate`, which the API applies atomically, carrying everything:
  `addSheet` for new owned tabs (with sheet IDs chosen here, so later requests in the batch can
  use them), `appendDimension` where a grid must grow, `updateDimensionProperties` for new
  tabs' column widths, and the changed parts of the changed cells (`payload`): values as
  `updateCells` blocks with a value-only mask, fills and number formats as one `repeatCell`
  per run of equal ones, nothing for a part that is already right. Owned tabs send only the
  rows that differ, so an append-only History costs only its new rows. The body goes as
  compact, gzip-compressed JSON.
  The batch asks for the guarded tabs' rows in its own answer (`includeSpreadsheetInResponse`,
  `responseRanges`), so the check that no row or column moved since `read` sees exactly what
  the write hit. When one moved, a second batchUpdate puts back what the write replaced and
  `RowsMovedError` (a WorkbookBusyError) makes the pipeline redo the cycle.

Text is always written as `stringValue`, so `=1+1` stays text and never becomes a formula.
Rows are written with `updateCells` at explicit positions rather than `appendCells`: a batch
retried after its answer was lost then rewrites the same cells instead of appending them twice.
The one exception: History's new rows when its grid has rows its state does not count (a
person typed below it or inserted a row inside it) go by `appendCells`, below the last row
holding anything, so no person's cell is written over (`diff.appended_ops`).
After such an ambiguous failure (5xx, reset, timeout) the retry first re-reads the tabs' grid
sizes (one extra `spreadsheets.get`) so a tab the lost attempt already created is not added
twice; when the batch appends History rows, it also reads one cell the batch changes (one more
`spreadsheets.get`): holding the new value, it shows the lost attempt was applied, and the
retry leaves the appended rows out instead of adding them twice. A 429 is known not to have
been applied and is retried as is.

Transient errors (429, 408, 5xx, connection resets, timeouts) are retried with exponential
backoff and full jitter, honouring `Retry-After`, bounded by `RetryPolicy.max_attempts` and
`RetryPolicy.max_seconds`; every request has a timeout. Permanent errors fail at once with a
message that says what to do. `requests` counts HTTP attempts (retries included), `retries`
how many of them were retries. The optional `limiter` is asked before every Sheets API request
and told how long it took, retries included (token refreshes go to the token endpoint and are
not Sheets requests).

This module holds only `GoogleSheetsWorkbook`, which wires the modules beside it: `addresses`
(API root, spreadsheet ID), `auth` (credentials), `session` (HTTP), `retries`, `errors` (failures
into sheetsync's exceptions), `cells` (value and format conversion), `tabs` (what was read),
`diff` (what to write), `payload` (the changed cells as lean requests), `guards` (the check in
the write's answer), `undo` (putting back what a misplaced write replaced) and `batch` (the
batchUpdate body).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar

import gspread
from gspread.urls import SPREADSHEET_BATCH_UPDATE_URL
from tenacity import RetryCallState

from sheetsync.backends.base import (
    Grid,
    OutputColumn,
    OwnedTab,
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
from sheetsync.backends.google.auth import (
    KEY_FILE_KINDS,
    describe,
    identity_of,
    keep_tokens_home,
    load_credentials,
)
from sheetsync.backends.google.batch import build_batch, new_sheet_ids, undo_batch
from sheetsync.backends.google.charts import TabCharts, chart_requests
from sheetsync.backends.google.diff import (
    CellOp,
    applied_witness,
    columns_to_mark,
    diff_plan,
    record_written,
)
from sheetsync.backends.google.errors import (
    FailureContext,
    describe_failure,
    rows_moved,
    translate_failure,
)
from sheetsync.backends.google.guards import (
    TabCheck,
    Values,
    answered_values,
    batch_options,
    column_letter,
    created_marks,
    first_mismatch,
    same_value,
    tab_checks,
    written_values,
)
from sheetsync.backends.google.known_tabs import KnownTabs
from sheetsync.backends.google.retries import RetryPolicy, is_ambiguous, retrying
from sheetsync.backends.google.session import (
    JSON_HEADERS,
    RequestLimiter,
    SheetsSession,
    packed_json,
)
from sheetsync.backends.google.tabs import (
    CELL_FIELDS,
    META_FIELDS,
    READ_FIELDS,
    GridSize,
    TabState,
    comma_locale,
    find_tab,
    grid_sizes,
    is_unknown_range,
    load_tabs,
    quoted_title,
    read_params,
)
from sheetsync.backends.google.undo import undo_ops
from sheetsync.core.errors import BackendError, WorkbookError
from sheetsync.core.plan import NumberFormats

log = logging.getLogger(__name__)

T = TypeVar("T")


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
        limiter: RequestLimiter | None = None,
        known_tabs: KnownTabs | None = None,
    ) -> None:
        self.spreadsheet_id = spreadsheet_id_from(spreadsheet)
        self.api_url = resolve_api_url(api_url)
        self._creds = load_credentials(credentials)
        if self.api_url != GOOGLE_API_ROOT:
            keep_tokens_home(self._creds.credentials)
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
        self._grids: dict[str, Grid] = {}
        self._read_ok = False
        self._known = known_tabs or KnownTabs()
        self._every_tab = True
        """The last read answered with every tab (not by `ranges`)."""
        self._short: set[str] = set()
        """The tabs the last read asked for only to their header (`heads`): their rows below
        are not known, so a guarded cell there is read before a write (`_read_guarded_rows`)."""

    # --- the port -----------------------------------------------------------------------

    @property
    def account(self) -> str | None:
        """The address to share the spreadsheet with (for keyless credentials, known once the
        first token was fetched)."""
        return identity_of(self._creds)

    @property
    def requests(self) -> int:
        """HTTP requests sent to the Sheets API, retries included (what the quota counts)."""
        return self._requests

    @property
    def retries(self) -> int:
        """How many of `requests` were retries of a failed attempt."""
        return self._retries

    def read(self, tabs: Sequence[str], heads: Mapping[str, str] | None = None) -> Snapshot:
        """Values of the named tabs (case-insensitive) in one `spreadsheets.get`: by `ranges`
        when their titles are remembered, else every tab (to learn their titles). A tab of
        `heads` only to its header when its other tab is known to exist (see the port)."""
        ranged = self._known_titles(tabs)
        short = self._short_titles(heads or {}) if ranged is not None else set()
        doc = self._call("read", lambda: self._get(ranged, short=short))
        assert doc is not None
        snapshot = self._snapshot(doc, tabs)
        self._short = short if not self._every_tab else set()
        return snapshot

    def read_only(self, tabs: Sequence[str]) -> Snapshot:
        """`read`, with no write to follow (a parent reading a child's Summary): the tabs are
        always asked for by `ranges`, still in one request. When their titles are not
        remembered and one of them is not there, Google's 400 says so and the snapshot is empty
        (the only caller reads one tab)."""
        ranged = self._known_titles(tabs) or list(dict.fromkeys(tabs))
        doc = self._call("read", lambda: self._get(ranged, guessed=True))
        return Snapshot({}) if doc is None else self._snapshot(doc, tabs)

    def _snapshot(self, doc: Mapping[str, Any], tabs: Sequence[str]) -> Snapshot:
        """The named tabs of a `spreadsheets.get` answer; remembers every tab's cells and the
        titles for the next run."""
        formats: dict[str, NumberFormats] = {}
        with cyclic_gc_paused():
            grids = self._load(doc, formats)
        snapshot = Snapshot(grids)
        wanted = {name for name in (snapshot.find_tab(t) for t in tabs) if name}
        assert self._tabs is not None
        self._known.put(self.spreadsheet_id, self._tabs, every_tab=self._every_tab)
        return Snapshot(
            {name: grid for name, grid in grids.items() if name in wanted},
            number_formats={name: f for name, f in formats.items() if name in wanted},
            decimal=comma_locale(doc.get("properties", {}).get("locale")),
            output_columns={
                name: dict(self._tabs[name].markers) for name in wanted if self._tabs[name].markers
            },
        )

    def write(self, plan: WritePlan) -> WriteResult:
        """Write what differs from the last read in one batch, checked in its own answer.

        Makes no request when nothing differs, else one `spreadsheets.batchUpdate` (plus one
        `spreadsheets.get` first if `read` was never called, or did not ask for a tab the plan
        names). The batch's answer carries the guarded tabs' rows as the write left them; when
        a guarded cell no longer holds what the plan expects (rows or columns moved since
        `read`), what the write replaced there is put back (one more batchUpdate) and
        RowsMovedError makes the pipeline redo the cycle. When one cell is planned twice, the
        last write wins.
        """
        if self._tabs is None or self._unread(plan):
            doc = self._call("read", self._get_all)
            with cyclic_gc_paused():
                self._load(doc)
            self._short = set()
        assert self._tabs is not None
        self._read_guarded_rows(plan)
        with cyclic_gc_paused():
            ops, creates = diff_plan(plan, self._tabs, self.label)
        columns = columns_to_mark(plan.columns, self._tabs, self.label)
        charts = self._charts(plan, creates)
        if not ops and not creates and not columns and not charts:
            return WriteResult(cells_changed=0, wrote=False)
        checks = tab_checks(self._tabs, plan.all_guards(), ops, self.label)
        for check in checks:  # a tab read to its header: its answer from the first row named
            if check.title in self._short:
                named = [r for r, _, _ in check.guards]
                named += [op.row for op in ops if op.tab == check.title]
                check.first = min(named, default=0) + 1
        grid = {
            name: GridSize(tab.sheet_id, tab.rows, tab.cols) for name, tab in self._tabs.items()
        }
        owned = {find_tab(self._tabs, o.name) or o.name for o in plan.owned_tabs}
        witness = applied_witness(ops, owned) if any(op.appended for op in ops) else None
        sizes, reply = self._send(ops, creates, grid, checks, columns, charts, witness)
        with cyclic_gc_paused():
            self._check_answer(checks, reply, ops)
            record_written(self._tabs, ops, sizes, columns)
        for title, wanted, existing in charts:
            if title in self._tabs and title in sizes:
                _, after = chart_requests(title, sizes[title].sheet_id, wanted, existing)
                self._tabs[title].charts = after
        return WriteResult(
            cells_changed=len(ops),
            tabs_created=[t.name for t in creates],
            wrote=True,
            charts_changed=len(charts),
        )

    def _read_guarded_rows(self, plan: WritePlan) -> None:
        """Read the rows of the guarded cells on tabs read only to their header (the Delivery
        marks of an Alerts tab whose older rows were not read), one `spreadsheets.get` per
        tab: a guard that no longer holds then refuses the write before anything is written,
        and an undo after a move during the write knows what those rows held."""
        assert self._tabs is not None
        spans: dict[str, tuple[int, int]] = {}
        for guard in plan.guards:
            title = find_tab(self._tabs, guard.tab)
            if title is None or title not in self._short:
                continue
            lo, hi = spans.get(title, (guard.row, guard.row))
            spans[title] = (min(lo, guard.row), max(hi, guard.row))
        for title, (lo, hi) in spans.items():
            params = {"fields": READ_FIELDS, "ranges": [f"{quoted_title(title)}!{lo}:{hi}"]}
            doc = self._call("read", partial(self._get_rows, params))
            assert doc is not None
            found, grids = load_tabs(doc)
            if title not in found:
                continue
            tab, read = self._tabs[title], found[title]
            tab.values += [[] for _ in range(hi - len(tab.values))]
            for r in range(lo - 1, hi):
                for c in tab.cells_by_row.pop(r, []):
                    tab.cells.pop((r, c), None)
                tab.values[r] = list(read.values[r]) if r < len(read.values) else []
                tab.value_widths.pop(r, None)
                if r in read.value_widths:
                    tab.value_widths[r] = read.value_widths[r]
                for c in read.cells_by_row.get(r, []):
                    tab.remember(r, c, read.cells[(r, c)])
            grid = self._grids.setdefault(title, [])
            grid += [[] for _ in range(hi - len(grid))]
            rows = grids.get(title, [])
            for r in range(lo - 1, hi):
                grid[r] = list(rows[r]) if r < len(rows) else []
        for guard in plan.guards:
            title = find_tab(self._tabs, guard.tab)
            if title is None or title not in spans:
                continue
            line = self._grids[title][guard.row - 1]
            there = line[guard.col - 1] if guard.col <= len(line) else None
            if not same_value(there, guard.expected):
                cell = f"{column_letter(guard.col - 1)}{guard.row}"
                raise rows_moved(
                    f"tab '{title}' cell {cell} was {guard.expected!r} and is now {there!r}",
                    self.label,
                )

    def _get_rows(self, params: dict[str, Any]) -> dict[str, Any]:
        doc: dict[str, Any] = self._client.http_client.spreadsheets_get(
            self.spreadsheet_id, params=params
        )
        return doc

    def _unread(self, plan: WritePlan) -> bool:
        """Whether the plan names a tab the last (ranged) read did not ask for: it may exist."""
        if self._every_tab or self._tabs is None:
            return False
        names = {owned.name for owned in plan.owned_tabs} | {w.tab for w in plan.cells}
        return any(find_tab(self._tabs, name) is None for name in names)

    def _charts(self, plan: WritePlan, creates: Sequence[OwnedTab]) -> list[TabCharts]:
        """The owned tabs whose charts differ from what was read (a new tab's, if it has any)."""
        assert self._tabs is not None
        created = {owned.name for owned in creates}
        found: list[TabCharts] = []
        for owned in plan.owned_tabs:
            if owned.name in created:
                if owned.charts:
                    found.append((owned.name, owned.charts, {}))
                continue
            title = find_tab(self._tabs, owned.name)
            if title is None:
                continue
            tab = self._tabs[title]
            if chart_requests(title, tab.sheet_id, owned.charts, tab.charts)[0]:
                found.append((title, owned.charts, tab.charts))
        return found

    def close(self) -> None:
        if self._tabs is not None:  # with the tabs this run created, for the next run
            self._known.put(self.spreadsheet_id, self._tabs, every_tab=self._every_tab)
        self._session.close()

    # --- reading --------------------------------------------------------------------------

    def _known_titles(self, tabs: Sequence[str]) -> list[str] | None:
        """The exact titles of `tabs` when every one is known to exist, else None."""
        known = self._known.get(self.spreadsheet_id)
        if not known:
            return None
        titles = [find_tab(known, name) for name in tabs]
        if any(title is None for title in titles):
            return None
        return list(dict.fromkeys(t for t in titles if t is not None))

    def _short_titles(self, heads: Mapping[str, str]) -> set[str]:
        """The exact titles of the `heads` tabs to read only to their header."""
        known = self._known.get(self.spreadsheet_id) or []
        found = set()
        for tab, other in heads.items():
            title = find_tab(known, tab)
            if title is not None and find_tab(known, other) is not None:
                found.add(title)
        return found

    def _get(
        self, titles: list[str] | None, guessed: bool = False, short: Collection[str] = ()
    ) -> dict[str, Any] | None:
        """The read: only `titles` by ranges (`short` ones to their header), or every tab when
        one of them is gone. With `guessed` (titles not checked against remembered ones), None
        when one is not there."""
        if titles is not None and (guessed or self._known.get(self.spreadsheet_id) is not None):
            try:
                return self._get_doc(titles, short)
            except gspread.exceptions.APIError as exc:
                if exc.code != 400 or not is_unknown_range(str(exc.error.get("message", ""))):
                    raise
                if guessed:
                    return None
                log.info("%s: a remembered tab is gone; reading every tab", self.label)
                self._known.forget(self.spreadsheet_id)
        return self._get_doc(None)

    def _get_all(self) -> dict[str, Any]:
        return self._get_doc(None)

    def _get_doc(self, titles: list[str] | None, short: Collection[str] = ()) -> dict[str, Any]:
        self._every_tab = titles is None
        with cyclic_gc_paused():  # decoding the answer builds one object per cell
            return self._client.http_client.spreadsheets_get(
                self.spreadsheet_id, params=read_params(titles, short)
            )

    def _load(
        self, doc: Mapping[str, Any], formats: dict[str, NumberFormats] | None = None
    ) -> dict[str, Grid]:
        """Remember every tab's cells for diffing; return each tab's values, rows padded."""
        self._read_ok = True
        self.title = doc.get("properties", {}).get("title") or self.title
        if self.title and not self._fixed_label:
            self.label = self.title
        self.location = doc.get("spreadsheetUrl") or self.location
        self._tabs, grids = load_tabs(doc, formats)
        self._grids = grids
        return grids

    # --- writing and checking ---------------------------------------------------------------

    def _send(
        self,
        ops: list[CellOp],
        creates: list[OwnedTab],
        grid: dict[str, GridSize],
        checks: list[TabCheck],
        columns: Sequence[OutputColumn] = (),
        charts: Sequence[TabCharts] = (),
        witness: CellOp | None = None,
    ) -> tuple[dict[str, GridSize], Mapping[str, Any]]:
        """Send the one batch; retry it safely. Returns every tab's grid size afterwards and
        the batch's answer (the checked rows as written).

        After an ambiguous failure the retry re-reads the grid sizes (a tab the lost attempt
        created is not added twice) and, when the batch appends rows (`appendCells` adds them
        again each time it is applied), reads `witness`, a cell the batch changes: if it holds
        the new value the lost attempt was applied, and the retry leaves the appended rows out
        (the rest of the batch writes cells at their place, the same again)."""
        new_ids = new_sheet_ids(creates, grid)
        options, params = batch_options(checks)
        current = grid
        ambiguous = False
        result = dict(grid)
        sending = ops

        def attempt() -> Mapping[str, Any]:
            nonlocal current, ambiguous, result, sending
            if ambiguous:
                current = self._fetch_grid()
                if witness is not None and sending is ops and self._holds(witness):
                    log.info("%s: the lost write went through; not appending again", self.label)
                    sending = [op for op in ops if not op.appended]
            with cyclic_gc_paused():
                body, sizes = build_batch(
                    sending, creates, new_ids, current, self.label, columns, options, charts
                )
            try:
                reply = self._batch_update(body, params)
            except Exception as exc:
                if is_ambiguous(exc):
                    ambiguous = True
                raise
            result = sizes
            return reply

        reply = self._call("write", attempt)
        return result, reply

    def _batch_update(self, body: Mapping[str, Any], params: Mapping[str, str]) -> Any:
        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        with cyclic_gc_paused():  # the answer may carry every checked row
            answer = self._client.http_client.request(
                "post", url, data=packed_json(body), params=dict(params), headers=dict(JSON_HEADERS)
            )
            return answer.json()

    def _check_answer(
        self, checks: list[TabCheck], reply: Mapping[str, Any], ops: list[CellOp]
    ) -> None:
        """Raise RowsMovedError, having put back what the write replaced, when the answer shows
        a guarded cell that moved."""
        assert self._tabs is not None
        answered = answered_values(reply)
        written = written_values(ops)
        moved: list[str] = []
        for check in checks:
            if check.sheet_id not in answered:
                raise rows_moved(
                    f"tab '{check.title}' was renamed or replaced while sheetsync wrote", self.label
                )
            where = first_mismatch(check, answered[check.sheet_id], written[check.title])
            if where is not None:
                mine = [op for op in ops if op.tab == check.title]
                marks = created_marks(reply).get(check.sheet_id, [])
                if mine or marks:  # nothing written on that tab: nothing to put back
                    self._undo(check, answered[check.sheet_id], mine, marks)
                moved.append(f"tab '{check.title}' ({where})")
        if moved:
            raise rows_moved(
                f"rows or columns moved on {' and on '.join(moved)} while sheetsync wrote",
                self.label,
                undone=True,
            )

    def _undo(self, check: TabCheck, after: Values, ops: list[CellOp], marks: list[int]) -> None:
        """Put back what `ops` replaced on the tab of `check` and remove the output column
        marks `marks` the write created (they may sit on a person's column), in one checked
        batchUpdate."""
        assert self._tabs is not None
        tab = self._tabs[check.title]
        read: Values = {
            (r, c): value
            for r, line in enumerate(self._grids.get(check.title, []))
            for c, value in enumerate(line)
            if value is not None
        }
        undo, expected = undo_ops(tab, read, after, check.rows, ops)
        restored = TabCheck(check.title, check.sheet_id, check.rows, first=check.first)
        restored.guards = [(r, c, v) for (r, c), v in expected.items()]
        restored.guards += [(op.row, op.col, None) for op in undo if op.key is None]  # cleared
        options, params = batch_options([restored])
        body = undo_batch(undo, check.sheet_id, marks, options)
        reply = self._call("undo", lambda: self._batch_update(body, params))
        now = answered_values(reply).get(check.sheet_id, {})
        where = first_mismatch(restored, now, {})
        if where is not None:
            cells = sorted({(op.row, op.col) for op in ops})
            first, last = cells[0], cells[-1]
            raise BackendError(
                f"rows or columns on tab '{check.title}' moved twice while sheetsync wrote, so "
                f"it could not put back what it wrote over ({where}). Check the cells between "
                f"{column_letter(first[1])}{first[0] + 1} and {column_letter(last[1])}"
                f"{last[0] + 1} (File > Version history shows them as they were).",
                workbook=self.label,
            )

    def _holds(self, op: CellOp) -> bool:
        """Whether the cell of `op` now holds the value `op` writes (one `spreadsheets.get`
        of that cell)."""
        cell = f"{quoted_title(op.tab)}!{column_letter(op.col)}{op.row + 1}"
        doc = self._client.http_client.spreadsheets_get(
            self.spreadsheet_id, params={"ranges": [cell], "fields": CELL_FIELDS}
        )
        tab = load_tabs(doc)[0].get(op.tab)
        return tab is not None and tab.cell(op.row, op.col).value == op.key

    def _fetch_grid(self) -> dict[str, GridSize]:
        doc = self._client.http_client.spreadsheets_get(
            self.spreadsheet_id, params={"fields": META_FIELDS}
        )
        return grid_sizes(doc)

    # --- requests, retries and errors ---------------------------------------------------------

    def _count_request(self) -> None:
        self._requests += 1

    def _call(self, what: str, fn: Callable[[], T]) -> T:
        """Run one API call with retries; map failures to sheetsync errors."""
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

        try:
            for attempt in retrying(self.retry, before_sleep):
                with attempt:
                    attempts += 1
                    if attempts > 1:
                        self._retries += 1
                    return fn()
        except WorkbookError:
            raise
        except Exception as exc:
            context = FailureContext(
                label=self.label,
                spreadsheet_id=self.spreadsheet_id,
                credentials_path=self._creds.path,
                account=self.account,
                identity=None if self._creds.kind in KEY_FILE_KINDS else describe(self._creds),
                api_url=self.api_url,
                timeout=self.timeout,
                read_ok=self._read_ok,
            )
            elapsed = time.monotonic() - started
            raise translate_failure(exc, what, attempts, elapsed, context) from exc
        raise AssertionError("unreachable")  # pragma: no cover
