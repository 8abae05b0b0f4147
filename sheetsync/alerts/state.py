"""History's compact state: what the decisions need of past runs, per item, in a small tab.

History records an item only when it changes, so a night's cost cannot come from reading it.
Everything a run needs of the past is here instead, one row per *spell* of an item: runs in
a row where its status, value and confidence stayed the same (target, score, check-in and
note may move within a spell; the spell shows the latest). A spell knows its first and last
run, how many runs it spans and the run before its last, which is all the alert rules ask
of a timeline: when a streak began, how many runs it lasted, what the status was before it,
what the last run showed. A run that raised an alert starts a spell of its own, so the
event can be rebuilt from this tab exactly as it was decided (`alerts.pending`).

Per item, on its last spell's row, also the figures other parts of a sync read of the past
(each over the runs *before* that spell's last run, so a re-run of the same date can leave
that run out): the first value of the current period (a relative key result's Start), the
last run on or before the period's end (the frozen grade), the last different numbers (a
KPI's change since), the last few numbers (the Trend sparkline), and the date of the item's
last History row. Spells that ended more than `keep_days` before the run are dropped, so the
tab's size follows how often items change within that window, not how long sheetsync ran.

It also stands for the Alerts log, which a night then does not read: per item key (an
objective's with its period, for its grade) the ids of its last logged event of each kind
(`remember_alerts`: when each rule last said something, all the rules ask of the log), how
many rows the Alerts tab has (new rows are written below them) and how many logged events
some recipient still waits for (a night with any reads the log whole: those rows are owed).

Layout (an owned tab): marker row (A1 the marker; past the header's last column the label
"History rows" and how many rows the History tab has, so new History rows are written below
them without reading it; then "Alerts rows" and "Alerts owed", each with its number), header
row, one row per spell in item order, oldest spell first (rows sorted by hand read back the
same), then one `Logged` row per item key with its event ids under Events.

Pure: takes grids, items and dates; returns data and an `OwnedTab`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from sheetsync.alerts.cells import cell_date, cell_number, cell_text
from sheetsync.alerts.events import EventKind, parse_event_id
from sheetsync.alerts.history import HistoryRecord
from sheetsync.alerts.log import AlertLogRecord
from sheetsync.core.model import ItemState, Status
from sheetsync.core.owned import is_owned, owned_body, owned_grid
from sheetsync.core.parse import a1
from sheetsync.core.plan import CellValue, Grid, OwnedTab
from sheetsync.core.trend import SPARK_POINTS
from sheetsync.core.units import DATE_FORMAT

STATE_TITLE = "History state, what sheetsync remembers of past runs (one row per spell of an item)"
STATE_HEADER: tuple[str, ...] = (
    "Kind",
    "Key",
    "From",
    "To",
    "Runs",
    "Before",
    "Alerted",
    "Status",
    "Value",
    "Target",
    "Score",
    "Confidence",
    "Updated",
    "Note",
    "Recorded",
    "Start on",
    "Start",
    "End on",
    "End score",
    "End value",
    "End status",
    "Recent",
    "Changes",
    "Events",
)
_COL = {name: i for i, name in enumerate(STATE_HEADER)}
HISTORY_ROWS_LABEL = "History rows"
HISTORY_ROWS_CELL = a1(1, len(STATE_HEADER) + 2)
"""Where the state tab keeps how many rows History has (its label is in the cell before)."""
ALERTS_ROWS_LABEL = "Alerts rows"
ALERTS_OWED_LABEL = "Alerts owed"
ALERTS_OWED_COL = len(STATE_HEADER) + 6
"""The column of the marker row's cell saying how many logged events some recipient still
waits for (its label is in the cell before; the Alerts count two cells before that)."""
LOGGED = "Logged"
"""The Kind of a row about the Alerts log: an item key (an objective's with its period, for
its grade) and, under Events, the ids of its last logged event of each kind."""
RECENT_POINTS = SPARK_POINTS - 1
"""How many past numbers are kept for the Trend sparkline (its points before today's)."""
_KINDS = {"kr": "KR", "kpi": "KPI"}


def _same(a: float | None, b: float | None) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


@dataclass(frozen=True)
class Spell:
    """Consecutive runs of one item with the same status, value and confidence."""

    first: date
    last: date
    runs: int
    status: Status | None
    value: float | None = None
    target: float | None = None
    score: float | None = None
    confidence: float | None = None
    checked_in: date | None = None
    note: str = ""
    before: date | None = None
    """The run before `last` within this spell (None when it has one run)."""
    alerted: bool = False
    """An event was raised on `first`: the spell keeps that run's content and is not extended."""

    def looks_like(self, item: ItemState) -> bool:
        """Whether a run showing `item` continues this spell."""
        return (
            not self.alerted
            and self.status is item.status
            and _same(self.value, item.value)
            and _same(self.confidence, item.confidence)
        )

    def shows(self, item: ItemState) -> bool:
        """Whether `item` shows exactly what this spell's last run showed (no History row due)."""
        return (
            self.status is item.status
            and _same(self.value, item.value)
            and _same(self.target, item.target)
            and _same(self.score, item.score)
            and _same(self.confidence, item.confidence)
            and self.checked_in == item.checked_in
            and self.note == (item.note if item.status is Status.INVALID else "")
        )


@dataclass(frozen=True)
class AtEnd:
    """The last run on or before a period's end."""

    as_of: date
    score: float | None
    value: float | None
    status: Status | None


@dataclass(frozen=True)
class Earlier:
    """Figures over an item's runs before its last spell's last run."""

    start: tuple[date, float] | None = None
    """The first value recorded in the current period, with its date."""
    end: AtEnd | None = None
    recent: tuple[float, ...] = ()
    """The last `RECENT_POINTS` numbers (a KPI's value, a key result's score), oldest first."""
    changes: tuple[tuple[date, float], ...] = ()
    """The last two different numbers, oldest first, each with the last date it was seen."""


@dataclass(frozen=True)
class ItemMemory:
    """One item's past runs, as the state tab keeps them."""

    kind: str
    key: str
    spells: tuple[Spell, ...] = ()
    earlier: Earlier = field(default_factory=Earlier)
    recorded: date | None = None
    """The as-of date of the item's last History row."""

    @property
    def last(self) -> Spell | None:
        return self.spells[-1] if self.spells else None

    def records(self) -> list[HistoryRecord]:
        """The spells as History records for the alert rules, in date order.

        A spell becomes its first run, the run before its last and its last run, each carrying
        how many runs it stands for (`HistoryRecord.runs`), so streaks count runs exactly.
        """
        found: list[HistoryRecord] = []
        for spell in self.spells:
            days = [spell.first]
            if spell.before is not None and spell.before not in (spell.first, spell.last):
                days.append(spell.before)
            if spell.last != spell.first:
                days.append(spell.last)
            weights = [1] * len(days)
            weights[0] = spell.runs - (len(days) - 1)
            found += [
                HistoryRecord(
                    as_of=day,
                    kind=self.kind,
                    key=self.key,
                    status=spell.status,
                    value=spell.value,
                    target=spell.target,
                    score=spell.score,
                    confidence=spell.confidence,
                    checked_in=spell.checked_in,
                    note=spell.note,
                    runs=max(1, weight),
                )
                for day, weight in zip(days, weights, strict=True)
            ]
        return found

    def number(self, spell: Spell) -> float | None:
        """What trends follow: a KPI's value, a key result's score."""
        return spell.value if self.kind == "kpi" else spell.score


@dataclass(frozen=True)
class Period:
    """The dates of an item's period, when it has one (key results)."""

    start: date | None = None
    end: date | None = None


def _with_run(earlier: Earlier, memory: ItemMemory, spell: Spell, period: Period) -> Earlier:
    """`earlier` with the last run of `spell` (on `spell.last`) folded in."""
    day = spell.last
    start = earlier.start
    if (
        spell.value is not None
        and period.start is not None
        and day >= period.start
        and (start is None or start[0] < period.start)
    ):
        start = (day, spell.value)
    end = earlier.end
    if period.end is not None and day <= period.end:
        end = AtEnd(day, spell.score, spell.value, spell.status)
    number = memory.number(spell)
    recent, changes = earlier.recent, earlier.changes
    if number is not None:
        recent = (*recent, number)[-RECENT_POINTS:]
        if changes and _same(changes[-1][1], number):
            changes = (*changes[:-1], (day, number))
        else:
            changes = (*changes[-1:], (day, number))
    return Earlier(start, end, recent, changes)


def before(memory: ItemMemory, as_of: date, period: Period = Period()) -> ItemMemory:
    """The item's memory of the runs strictly before `as_of`.

    A re-run of the last date leaves that run out; a run dated before the last one (back-filled)
    sees the spells that began before it, with the later figures as they stand.
    """
    last = memory.last
    if last is None:
        return memory
    if last.last < as_of:
        return replace(memory, earlier=_with_run(memory.earlier, memory, last, period))
    spells = [s for s in memory.spells if s.first < as_of]
    if spells and spells[-1].last >= as_of:
        end = spells[-1]
        if end.runs > 1 and end.before is not None and end.before < as_of:
            spells[-1] = replace(end, last=end.before, runs=end.runs - 1, before=None)
        else:
            spells[-1] = replace(end, last=end.first, runs=1, before=None)
    return replace(memory, spells=tuple(spells))


def remember(
    past: ItemMemory,
    item: ItemState,
    as_of: date,
    *,
    alerted: bool = False,
    recorded: bool = False,
    keep_days: int = 0,
) -> ItemMemory:
    """The memory after this run: `past` is `before(memory, as_of)`; `item` is today's run.

    `alerted`: an event was raised for the item today; `recorded`: it got a History row today.
    """
    note = item.note if item.status is Status.INVALID else ""
    spells = list(past.spells)
    last = spells[-1] if spells else None
    if last is not None and not alerted and last.looks_like(item):
        spells[-1] = replace(
            last,
            last=as_of,
            runs=last.runs + 1,
            before=last.last,
            target=item.target,
            score=item.score,
            checked_in=item.checked_in,
            note=note,
        )
    else:
        spells.append(
            Spell(
                as_of,
                as_of,
                1,
                item.status,
                item.value,
                item.target,
                item.score,
                item.confidence,
                item.checked_in,
                note,
                alerted=alerted,
            )
        )
    if keep_days > 0:
        cutoff = as_of - timedelta(days=keep_days)
        while len(spells) > 1 and spells[0].last < cutoff:
            spells.pop(0)
    return replace(
        past,
        spells=tuple(spells),
        recorded=as_of if recorded else past.recorded,
    )


def settled(memory: ItemMemory, pending: Collection[date], as_of: date) -> ItemMemory:
    """The item's spells with those an alert split off merged back into their neighbours once
    the alert was delivered (its date not in `pending`: the dates of its events some recipient
    still waits for, which must stay rebuildable), so reminders do not grow the tab. A spell
    that began on `as_of` stays as it is (a re-run of that date changes nothing)."""
    spells: list[Spell] = []
    for spell in memory.spells:
        if spell.first >= as_of:
            spells.append(spell)
            continue
        if spell.alerted and spell.first not in pending:
            spell = replace(spell, alerted=False)
        last = spells[-1] if spells else None
        if (
            last is not None
            and not last.alerted
            and not spell.alerted
            and last.status is spell.status
            and _same(last.value, spell.value)
            and _same(last.confidence, spell.confidence)
        ):
            spell = replace(
                spell,
                first=last.first,
                runs=last.runs + spell.runs,
                before=spell.before if spell.runs > 1 else last.last,
            )
            spells[-1] = spell
        else:
            spells.append(spell)
    return replace(memory, spells=tuple(spells))


def history_due(stored: ItemMemory | None, past: ItemMemory, item: ItemState, as_of: date,
                period: Period = Period()) -> bool:  # fmt: skip
    """Whether today's run of `item` gets a History row.

    Yes on its first run, when anything History shows changed since its last run, and on its
    first run on or after its period's end (so the period's final grade is in History). A
    re-run of a date that already has the item's row adds one only when the item changed
    between the two runs.
    """
    if stored is not None and stored.recorded == as_of:
        last = stored.last
        return last is not None and last.last == as_of and not last.shows(item)
    last = past.last
    if last is None or not last.shows(item):
        return True
    return (
        period.end is not None
        and as_of >= period.end
        and (past.recorded is None or past.recorded < period.end)
    )


@dataclass
class Memory:
    """The state tab of one workbook: every item's memory, and how long History is."""

    items: dict[tuple[str, str], ItemMemory] = field(default_factory=dict)
    history_rows: int = 0
    """Rows on the History tab, marker and header included (0: no History tab yet)."""
    from_tab: bool = False
    """Read from a state tab (not built from History): History then gets its new rows
    appended below `history_rows`, never read whole."""
    logged: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """Item key -> the ids of its last logged event of each kind (`remember_alerts`): all the
    alert rules ask of the Alerts log, so a night does not read it."""
    alerts_rows: int = 0
    """Rows on the Alerts tab, marker and header included; 0 when the state does not know
    (a state tab written before it kept the Alerts memory, or no Alerts tab yet)."""
    alerts_owed: int | None = None
    """Logged events some recipient still waits for after the last run (None: not known).
    Only a night with none decides from `logged` alone: what is owed is read from the log."""

    def of(self, kind: str, key: str) -> ItemMemory:
        return self.items.get((kind, key)) or ItemMemory(kind, key)

    def alerts_known(self, as_of: date) -> bool:
        """Whether this run can decide its alerts from the state without reading the Alerts
        tab: the state counts the tab's rows, nothing is owed, and `as_of` is not before a
        run the state has seen (a back-dated run reads the log whole, to leave out the
        events logged after its date)."""
        if not self.from_tab or self.alerts_rows < 2 or self.alerts_owed != 0:
            return False
        latest = max((m.spells[-1].last for m in self.items.values() if m.spells), default=None)
        return latest is None or as_of >= latest


# --- the tab ---------------------------------------------------------------------------------


def _date_cell(day: date | None) -> CellValue:
    return day


def _numbers_text(numbers: Iterable[float]) -> str:
    return "; ".join(repr(n) for n in numbers)


def _changes_text(changes: Iterable[tuple[date, float]]) -> str:
    return "; ".join(f"{d.isoformat()} {n!r}" for d, n in changes)


def _parse_numbers(text: str) -> tuple[float, ...]:
    numbers = (cell_number(part) for part in text.split(";"))
    return tuple(n for n in numbers if n is not None)


def _parse_changes(text: str) -> tuple[tuple[date, float], ...]:
    found = []
    for part in text.split(";"):
        day, _, number = part.strip().partition(" ")
        when, amount = cell_date(day), cell_number(number)
        if when is not None and amount is not None:
            found.append((when, amount))
    return tuple(found[-2:])


def _spell_row(memory: ItemMemory, spell: Spell, is_last: bool) -> list[CellValue]:
    row: list[CellValue] = [
        _KINDS.get(memory.kind, memory.kind.upper()),
        memory.key,
        spell.first,
        spell.last,
        spell.runs,
        spell.before,
        "yes" if spell.alerted else None,
        spell.status.value if spell.status else None,
        spell.value,
        spell.target,
        spell.score,
        spell.confidence,
        spell.checked_in,
        spell.note or None,
    ]
    if is_last:
        earlier = memory.earlier
        end = earlier.end
        row += [
            memory.recorded,
            earlier.start[0] if earlier.start else None,
            earlier.start[1] if earlier.start else None,
            end.as_of if end else None,
            end.score if end else None,
            end.value if end else None,
            end.status.value if end and end.status else None,
            _numbers_text(earlier.recent) or None,
            _changes_text(earlier.changes) or None,
        ]
    while row and row[-1] is None:
        row.pop()
    return row


def state_tab(memory: Memory, *, tab: str) -> OwnedTab:
    """The state tab's full content (only rows that differ are written by the backends)."""
    rows: list[list[CellValue]] = []
    for item in memory.items.values():
        for i, spell in enumerate(item.spells):
            rows.append(_spell_row(item, spell, i == len(item.spells) - 1))
    for key, ids in memory.logged.items():
        row: list[CellValue] = [LOGGED, key]
        row += [None] * (_COL["Events"] - len(row)) + ["; ".join(ids)]
        rows.append(row)
    grid = owned_grid(STATE_TITLE, STATE_HEADER, rows)
    # Past the header's last column: A1's marker runs over the empty cells to its right.
    grid[0] += [None] * (len(STATE_HEADER) - 1) + [HISTORY_ROWS_LABEL, memory.history_rows]
    if memory.alerts_rows and memory.alerts_owed is not None:
        grid[0] += [ALERTS_ROWS_LABEL, memory.alerts_rows, ALERTS_OWED_LABEL, memory.alerts_owed]
    dates = ("From", "To", "Before", "Updated", "Recorded", "Start on", "End on")
    return OwnedTab(
        name=tab,
        rows=grid,
        # Wide enough for a date (a narrower column shows "###"), a status and the lists.
        widths={
            1: 6,
            2: 28,
            **{_COL[name] + 1: 12 for name in dates},
            **{_COL[name] + 1: 16 for name in ("Status", "End status")},
            **{_COL[name] + 1: 28 for name in ("Note", "Recent", "Changes")},
        },
        column_formats={_COL[name] + 1: DATE_FORMAT for name in dates},
    )


def _rows_label(top: Sequence[object]) -> int | None:
    """The column (0-based) of the "History rows" label in the state tab's first row."""
    return next((i for i, v in enumerate(top) if cell_text(v) == HISTORY_ROWS_LABEL), None)


def history_rows_cell(grid: Grid | None) -> str:
    """The cell holding how many rows History has in the state tab as read: right of its
    label (C1 in a tab an older version wrote), `HISTORY_ROWS_CELL` when there is no label."""
    label = _rows_label(grid[0]) if grid else None
    return a1(1, label + 2) if label is not None else HISTORY_ROWS_CELL


def parse_state(grid: Grid | None) -> Memory | None:
    """The state tab as read, or None when there is none (or it is not sheetsync's)."""
    if not grid or not is_owned(grid):
        return None
    top = grid[0]
    label = _rows_label(top)
    rows = cell_number(top[label + 1]) if label is not None and label + 1 < len(top) else None
    memory = Memory(history_rows=int(rows) if rows and rows > 0 else 0, from_tab=True)
    alerts_rows, owed = _count(top, ALERTS_ROWS_LABEL), _count(top, ALERTS_OWED_LABEL)
    if alerts_rows is not None and alerts_rows >= 2 and owed is not None:
        memory.alerts_rows, memory.alerts_owed = int(alerts_rows), int(owed)
    width = len(STATE_HEADER)
    latest: dict[tuple[str, str], tuple[Spell, Earlier, date | None]] = {}
    for raw in owned_body(grid):
        row = [*raw[:width], *([None] * (width - len(raw)))]

        def cell(name: str, row: list[CellValue] = row) -> CellValue:
            return row[_COL[name]]

        kind = cell_text(cell("Kind")).casefold()
        if kind == "logged":
            ids = (part.strip() for part in cell_text(cell("Events")).split(";"))
            found_ids = tuple(i for i in ids if parse_event_id(i) is not None)
            if found_ids:
                memory.logged[cell_text(cell("Key"))] = found_ids
            continue
        key = cell_text(cell("Key"))
        first, last = cell_date(cell("From")), cell_date(cell("To"))
        if kind not in _KINDS or not key or first is None or last is None:
            continue
        runs = cell_number(cell("Runs"))
        spell = Spell(
            first,
            last,
            max(1, int(runs)) if runs else 1,
            Status.parse(cell("Status")),
            cell_number(cell("Value")),
            cell_number(cell("Target")),
            cell_number(cell("Score")),
            cell_number(cell("Confidence")),
            cell_date(cell("Updated")),
            cell_text(cell("Note")),
            before=cell_date(cell("Before")),
            alerted=_yes(cell("Alerted")),
        )
        start_on, start = cell_date(cell("Start on")), cell_number(cell("Start"))
        end_on = cell_date(cell("End on"))
        earlier = Earlier(
            start=(start_on, start) if start_on and start is not None else None,
            end=AtEnd(
                end_on,
                cell_number(cell("End score")),
                cell_number(cell("End value")),
                Status.parse(cell("End status")),
            )
            if end_on
            else None,
            recent=_parse_numbers(cell_text(cell("Recent"))),
            changes=_parse_changes(cell_text(cell("Changes"))),
        )
        found = memory.of(kind, key)
        memory.items[(kind, key)] = replace(found, spells=(*found.spells, spell))
        newest = latest.get((kind, key))
        if newest is None or (spell.first, spell.last) >= (newest[0].first, newest[0].last):
            latest[(kind, key)] = (spell, earlier, cell_date(cell("Recorded")))
    for item_key, item in memory.items.items():  # oldest spell first, even if sorted by hand
        _, earlier, recorded = latest[item_key]
        spells = tuple(sorted(item.spells, key=lambda s: (s.first, s.last)))
        memory.items[item_key] = replace(item, spells=spells, earlier=earlier, recorded=recorded)
    return memory


def _count(top: Sequence[CellValue], label: str) -> float | None:
    """The whole number right of `label` in the marker row; None when there is none (a blank,
    a text, a negative or broken number: the state then does not know)."""
    at = next((i for i, v in enumerate(top) if cell_text(v) == label), None)
    found = cell_number(top[at + 1]) if at is not None and at + 1 < len(top) else None
    if found is None or found < 0 or found != int(found):
        return None
    return found


def remember_alerts(
    logged: Mapping[str, tuple[str, ...]],
    records: Iterable[AlertLogRecord],
    *,
    keep: Callable[[str, date], bool] = lambda key, day: True,
) -> dict[str, tuple[str, ...]]:
    """`logged` with `records` (rows of the Alerts log) folded in: per item key, the ids of
    its last logged event of each kind (two items sharing a key, a KPI and a key result, may
    each have one that day). `keep(key, newest day)` says which keys to keep."""
    found: dict[str, dict[EventKind, tuple[date, list[str]]]] = {}

    def add(key: str, eid: str) -> None:
        parsed = parse_event_id(eid)
        if parsed is None:
            return
        kind, day = parsed
        kinds = found.setdefault(key, {})
        last = kinds.get(kind)
        if last is None or last[0] < day:
            kinds[kind] = (day, [eid])
        elif last[0] == day and eid not in last[1]:
            last[1].append(eid)

    for key, ids in logged.items():
        for eid in ids:
            add(key, eid)
    for record in records:
        add(record.item, record.event_id)
    return {
        key: tuple(eid for _, ids in kinds.values() for eid in ids)
        for key, kinds in found.items()
        if keep(key, max(day for day, _ in kinds.values()))
    }


def logged_records(logged: Mapping[str, tuple[str, ...]]) -> list[AlertLogRecord]:
    """The remembered events as Alerts-log records (id and item only): what the rules read."""
    return [AlertLogRecord(event_id=eid, item=key) for key, ids in logged.items() for eid in ids]


def _yes(value: CellValue) -> bool:
    """The Alerted column: only 'yes' (as written) is a yes; 'no' or a note is not."""
    return value is True or cell_text(value).strip().casefold() == "yes"


def memory_from_history(
    records: Sequence[HistoryRecord],
    history_rows: int,
    periods: Mapping[tuple[str, str], Period] | None = None,
    alerted: Mapping[str, set[date]] | None = None,
) -> Memory:
    """The state built once from a History tab of the old one-row-per-run shape (or any shape).

    `periods` gives each item's period (for the Start and period-end figures); `alerted` the
    dates each item key had an event logged (those runs start spells of their own).
    """
    by_item: dict[tuple[str, str], dict[date, HistoryRecord]] = {}
    for record in records:
        by_item.setdefault((record.kind, record.key), {})[record.as_of] = record
    memory = Memory(history_rows=history_rows)
    for (kind, key), by_day in by_item.items():
        period = (periods or {}).get((kind, key), Period())
        days = (alerted or {}).get(key, set())
        item_memory = ItemMemory(kind, key)
        for day in sorted(by_day):
            record = by_day[day]
            past = before(item_memory, day, period)
            run = record.seen_in(ItemState(kind, key, key, Status.NO_DATA))
            item_memory = remember(past, run, day, alerted=day in days, recorded=True)
        memory.items[(kind, key)] = item_memory
    return memory
