"""The History tab: a row per KPI and key result when it changes, the log trends are drawn from.

Layout (an owned tab, see `sheetsync.core.owned`): marker row, header row, then data rows

    As of | Workbook | Kind | Key | Name | Objective | Owner | Value | Target | Score | Status
    | Confidence | Updated | Note

Rows are in as-of order. As of is a real date; Value and Target are shown in the number
format of the person's cells, Score with two decimals (a KPI's Score is its attainment,
shown as `94% of target`); every cell keeps full precision. An item gets a row on its first
run, whenever its value, status, target, score, confidence, check-in or note changed since its
last run, and on its first run on or after its period's end (see `alerts.plan_workbook_alerts`);
re-running a date adds nothing unless the item changed in between. What the decisions need of
past runs is kept in the small state tab (`alerts.state`), so a night never reads this one
(older tabs with one row per item per night keep every row). Note holds the problem of an
Invalid item (`G2: Target: not a number (found 'ten')`), so that once it is corrected the alert
can say what was wrong; it is the last column so that a History tab written before it existed
keeps its rows as they are (they simply have no Note), and the Status cell stays a plain status
every version reads.
Because both tabs live in the workbook, a run on a fresh machine decides alerts exactly as one
that ran yesterday on the same host.

Pure: takes grids and returns an `OwnedTab`; the backends do the reading and writing.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

from sheetsync.alerts.cells import cell_date, cell_number, cell_text
from sheetsync.core.model import Colour, ItemState, Status
from sheetsync.core.owned import check_owned, is_owned, owned_body, owned_grid
from sheetsync.core.plan import OWNED_DATA_ROW, CellValue, Grid, NumberFormats, OwnedTab
from sheetsync.core.units import (
    ATTAINMENT_FORMAT,
    ATTAINMENT_WIDTH,
    DATE_FORMAT,
    SCORE_FORMAT,
    NumberStyle,
    number_format_code,
)

HISTORY_HEADER: tuple[str, ...] = (
    "As of",
    "Workbook",
    "Kind",
    "Key",
    "Name",
    "Objective",
    "Owner",
    "Value",
    "Target",
    "Score",
    "Status",
    "Confidence",
    "Updated",
    "Note",
)
HISTORY_TITLE = "History, a row per KPI and key result when it changes"

_KIND_LABEL = {"kr": "KR", "kpi": "KPI"}
_COL = {name: i for i, name in enumerate(HISTORY_HEADER)}
_STATUS_COL = _COL["Status"] + 1
# Score (J) holds a KPI's `94% of target` as well as a key result's `0.85`.
_WIDTHS = {
    1: 12,
    2: 18,
    3: 6,
    4: 28,
    5: 36,
    6: 28,
    7: 18,
    8: 12,
    9: 12,
    10: ATTAINMENT_WIDTH,
    11: 16,
    12: 11,
    13: 12,
    14: 40,
}
_BEFORE_NOTE = HISTORY_HEADER[: _COL["Note"]]
"""The columns of History tabs written before Note was added: such a tab is kept as it is."""


@dataclass(frozen=True)
class HistoryRecord:
    """One item on one as-of date, as a previous run recorded it."""

    as_of: date
    kind: str
    """"kr" or "kpi", as in `ItemState.kind`."""
    key: str
    status: Status | None
    """None when the Status cell holds text that is not a status (treated like No data)."""
    workbook: str = ""
    name: str = ""
    objective: str | None = None
    owner: str | None = None
    value: float | None = None
    target: float | None = None
    score: float | None = None
    row: int | None = None
    """The sheet row it was read from (1-based), for messages."""
    confidence: float | None = None
    """The owner's confidence in points that day (see `core.checkin`)."""
    checked_in: date | None = None
    """The owner's last check-in as of that day."""
    note: str = ""
    """What was wrong, when the item was Invalid (empty in tabs older than the Note column)."""
    runs: int = 1
    """How many runs this record stands for (a spell of the state tab, see `alerts.state`)."""

    def seen_in(self, item: ItemState) -> ItemState:
        """`item` as this record saw it (its status, figures, check-in and note)."""
        return replace(
            item,
            status=self.status or Status.NO_DATA,
            value=self.value,
            target=self.target,
            score=self.score,
            confidence=self.confidence,
            checked_in=self.checked_in,
            note=self.note,
        )


def _columns(grid: Grid) -> dict[str, int]:
    """Where each History field is: found by header text, else its standard position."""
    found = {cell_text(v).casefold(): i for i, v in enumerate(grid[1])} if len(grid) > 1 else {}
    columns = {
        name: found.get(name.casefold(), default)
        for name, default in ((n, i) for i, n in enumerate(HISTORY_HEADER))
    }
    if "note" not in found:  # a tab from before the Note column: nothing to read there
        columns["Note"] = -1
    return columns


def _record(row: Sequence[CellValue], cols: dict[str, int], sheet_row: int) -> HistoryRecord | None:
    def cell(name: str) -> CellValue:
        i = cols[name]
        return row[i] if 0 <= i < len(row) else None

    as_of = cell_date(cell("As of"))
    key = cell_text(cell("Key"))
    if as_of is None or not key:
        return None
    kind = cell_text(cell("Kind")).casefold()
    return HistoryRecord(
        as_of=as_of,
        kind=kind if kind in _KIND_LABEL else kind or "kpi",
        key=key,
        status=Status.parse(cell("Status")),
        workbook=cell_text(cell("Workbook")),
        name=cell_text(cell("Name")) or key,
        objective=cell_text(cell("Objective")) or None,
        owner=cell_text(cell("Owner")) or None,
        value=cell_number(cell("Value")),
        target=cell_number(cell("Target")),
        score=cell_number(cell("Score")),
        row=sheet_row,
        confidence=cell_number(cell("Confidence")),
        checked_in=cell_date(cell("Updated")),
        note=cell_text(cell("Note")),
    )


def parse_history(grid: Grid | None) -> list[HistoryRecord]:
    """The records of a History tab in sheet order; rows without a readable date or key are skipped.

    A tab that sheetsync does not own (no marker in A1) has no records.
    """
    if not grid or not is_owned(grid):
        return []
    cols = _columns(grid)
    records = (_record(row, cols, i + 3) for i, row in enumerate(owned_body(grid)))
    return [r for r in records if r is not None]


def _recorded_numbers(
    grid: Grid | None, before: date
) -> Iterator[tuple[tuple[str, str], date, float]]:
    """(kind, key), as-of date and number of each History row dated before `before`, in order.

    A KPI's recorded Value, a key result's Score. Reads only the five cells it needs per row,
    so a long History costs little.
    """
    if not grid or not is_owned(grid):
        return
    cols = _columns(grid)
    at = [cols[name] for name in ("As of", "Kind", "Key", "Value", "Score")]
    width = max(at) + 1
    for row in owned_body(grid):
        if len(row) < width:
            row = [*row, *([None] * (width - len(row)))]
        day = cell_date(row[at[0]])
        if day is None or day >= before:
            continue
        kind = "kr" if cell_text(row[at[1]]).casefold() == "kr" else "kpi"
        number = cell_number(row[at[4] if kind == "kr" else at[3]])
        key = cell_text(row[at[2]])
        if number is not None and key:
            yield (kind, key), day, number


def recent_values(
    grid: Grid | None, before: date, limit: int
) -> dict[tuple[str, str], list[float]]:
    """(kind, key) -> the last `limit` numbers History recorded before `before`, oldest first.

    What a trend over past runs is drawn from.
    """
    if limit <= 0:
        return {}
    found: dict[tuple[str, str], deque[float]] = {}
    for item, _, number in _recorded_numbers(grid, before):
        found.setdefault(item, deque(maxlen=limit)).append(number)
    return {item: list(values) for item, values in found.items()}


def last_two_values(
    grid: Grid | None, before: date
) -> dict[tuple[str, str], list[tuple[date, float]]]:
    """(kind, key) -> its last two different numbers History recorded before `before`, oldest
    first, each with the last date it was recorded.

    Enough to say how far an item moved since History last saw it at another value, whether
    or not this run changed it.
    """
    found: dict[tuple[str, str], list[tuple[date, float]]] = {}
    for item, day, number in _recorded_numbers(grid, before):
        seen = found.setdefault(item, [])
        if seen and seen[-1][1] == number:
            seen[-1] = (day, number)
        else:
            seen[:] = [*seen[-1:], (day, number)]
    return found


def history_row(item: ItemState, as_of: date, workbook: str) -> list[CellValue]:
    """The History row recording `item` on `as_of` (Note only when there is a problem to keep)."""
    return [
        as_of,
        workbook,
        _KIND_LABEL.get(item.kind, item.kind.upper()),
        item.key,
        item.name,
        item.objective,
        item.owner,
        item.value,
        item.target,
        item.score,
        item.status.value,
        item.confidence,
        item.checked_in,
        *([item.note] if item.status is Status.INVALID and item.note else []),
    ]


def _record_row(record: HistoryRecord) -> list[CellValue]:
    return [
        record.as_of,
        record.workbook,
        _KIND_LABEL.get(record.kind, record.kind.upper()),
        record.key,
        record.name,
        record.objective,
        record.owner,
        record.value,
        record.target,
        record.score,
        record.status.value if record.status else None,
        record.confidence,
        record.checked_in,
        *([record.note] if record.note else []),
    ]


def _has_current_header(grid: Grid | None) -> bool:
    if not grid or len(grid) < 2 or not is_owned(grid):
        return False
    header = [cell_text(v) for v in grid[1]]
    return header[: len(_BEFORE_NOTE)] == list(_BEFORE_NOTE) and header[
        len(_BEFORE_NOTE) : len(HISTORY_HEADER)
    ] in ([], ["Note"])


PRUNE_SLACK_DAYS = 31


def _retention_cutoff(body: Grid, as_of: date, keep_days: int) -> date | None:
    """The first date to keep, or None while the oldest row is still within limit + slack."""
    if keep_days <= 0 or not body:
        return None
    oldest = next((d for d in (cell_date(r[0]) for r in body if r) if d is not None), None)
    if oldest is None or (as_of - oldest).days <= keep_days + PRUNE_SLACK_DAYS:
        return None
    return as_of - timedelta(days=keep_days)


def updated_history(
    grid: Grid | None,
    items: Sequence[ItemState],
    as_of: date,
    workbook: str,
    *,
    tab: str = "History",
    keep_days: int = 0,
    styled: Sequence[ItemState] = (),
) -> OwnedTab:
    """The History tab with this run's rows added (`items`: those that get one, see
    `alerts.plan_workbook_alerts`; rows already there for the same date stay).

    With `keep_days`, dates older than that are dropped, in one cut once the oldest is a month
    past the limit (so the tab is rewritten about monthly, not every night). 0 keeps everything.

    Rows read from the tab are kept exactly as they are (so a backend rewrites only the new
    ones); rows whose date cannot be read stay where they were. When `as_of` is earlier than
    dates already recorded (a back-filled run), its rows go before them, keeping the tab in
    date order. Raises WorkbookLayoutError when `tab` exists but is a person's tab.
    """
    check_owned(grid, tab, workbook)
    body: Grid
    if _has_current_header(grid):
        body = owned_body(grid)
    else:  # an older or rearranged layout: rewrite it in today's column order
        body = [_record_row(r) for r in parse_history(grid)]

    kept: Grid = []
    insert_at: int | None = None
    cutoff = _retention_cutoff(body, as_of, keep_days)
    for row in body:
        day = cell_date(row[0]) if row else None
        if cutoff and day is not None and day < cutoff:
            continue
        if day is not None and day > as_of and insert_at is None:
            insert_at = len(kept)
        if day is not None and isinstance(row[0], str):  # written as text by older versions
            row = [day, *row[1:]]
        kept.append(row)
    if insert_at is None:
        insert_at = len(kept)
    new_rows = [history_row(item, as_of, workbook) for item in items]
    rows = owned_grid(HISTORY_TITLE, HISTORY_HEADER, kept[:insert_at] + new_rows + kept[insert_at:])
    return _styled(tab, rows, 1, [*styled, *items])


def appended_history(
    items: Sequence[ItemState],
    as_of: date,
    workbook: str,
    first_row: int,
    *,
    tab: str = "History",
    styled: Sequence[ItemState] = (),
) -> OwnedTab:
    """This run's History rows (`items`: those that get one), to be written from sheet row
    `first_row` on, below rows that are neither read nor rewritten (`WritePlan.appends`)."""
    rows = [history_row(item, as_of, workbook) for item in items]
    return _styled(tab, rows, max(first_row, OWNED_DATA_ROW), [*styled, *items])


def _styled(tab: str, rows: Grid, first_row: int, items: Sequence[ItemState]) -> OwnedTab:
    """History rows (`rows[0]` on sheet row `first_row`) with their status fills and the
    number formats of the person's cells."""
    fills: dict[tuple[int, int], Colour] = {}
    for r, row in enumerate(rows, start=first_row):
        if r < OWNED_DATA_ROW:
            continue
        status = Status.parse(row[_STATUS_COL - 1]) if len(row) >= _STATUS_COL else None
        if status is not None:
            fills[(r, _STATUS_COL)] = status.colour
    return OwnedTab(
        name=tab,
        rows=rows,
        fills=fills,
        widths=dict(_WIDTHS),
        formats=_number_formats(
            rows,
            first_row,
            {(_KIND_LABEL[i.kind], i.key): (i.style, i.target_style or i.style) for i in items},
        ),
        column_formats={
            _COL["As of"] + 1: DATE_FORMAT,
            _SCORE_COL: SCORE_FORMAT,
            _COL["Updated"] + 1: DATE_FORMAT,
        },
        first_row=first_row,
    )


_SCORE_COL = _COL["Score"] + 1
_KIND_COL, _KEY_COL = _COL["Kind"], _COL["Key"]
_AMOUNT_COLS = (_COL["Value"] + 1, _COL["Target"] + 1)

_CellStyles = tuple[NumberStyle | None, NumberStyle | None]
"""How an item's Value and Target cells show their numbers."""


def _number_formats(
    rows: Grid, first_row: int, styles: dict[tuple[str, str], _CellStyles]
) -> NumberFormats:
    """Value and Target each in the format of its own cell (as this run read them); a KPI's
    Score is its attainment. Only cells that differ from the column's format are listed."""
    formats: NumberFormats = {}
    codes: dict[tuple[NumberStyle, CellValue], str] = {}
    for r, row in enumerate(rows, start=first_row):
        if r < OWNED_DATA_ROW or len(row) <= _KEY_COL:
            continue
        kind = row[_KIND_COL]
        if kind == _KIND_LABEL["kpi"]:
            formats[(r, _SCORE_COL)] = ATTAINMENT_FORMAT
        item_styles = styles.get((str(kind), str(row[_KEY_COL])), (None, None))
        for col, style in zip(_AMOUNT_COLS, item_styles, strict=True):
            if style is None or style.is_general:
                continue
            value = row[col - 1] if col <= len(row) else None
            if not isinstance(value, int | float) or isinstance(value, bool):
                continue
            code = codes.get((style, value))
            if code is None:
                code = codes[(style, value)] = number_format_code(style, value)
            formats[(r, col)] = code
    return formats
