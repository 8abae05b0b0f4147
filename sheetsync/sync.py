"""One workbook, one sync: read -> validate -> score -> plan the writes -> write.

The pipeline sees only the `WorkbookBackend` port, so Excel and Google Sheets go through the
same code. Everything between the read and the write is pure and lives in other modules.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property

from sheetsync import config as cfg
from sheetsync.alerts import WorkbookAlertPlan, load_memory, plan_workbook_alerts
from sheetsync.alerts.state import ItemMemory, Memory, before
from sheetsync.alerts.state import Period as ItemPeriod
from sheetsync.backends.base import (
    HEAD_ROWS,
    Grid,
    Snapshot,
    WorkbookBackend,
    WritePlan,
)
from sheetsync.children import read_children
from sheetsync.core.alignment import (
    Alignment,
    ChildObjective,
    link_objectives,
    roll_up,
)
from sheetsync.core.checkin import with_confidence
from sheetsync.core.cross_checks import EXAMPLE_ROWS_EXPECTED
from sheetsync.core.errors import RowsMovedError, WorkbookLayoutError
from sheetsync.core.layout import (
    LayoutProblem,
    OwnColumns,
    TabLayout,
)
from sheetsync.core.model import (
    ItemState,
    KeyResult,
    KeyResultScore,
    KpiScore,
    KrType,
    ObjectiveScore,
    Period,
    Problem,
    Status,
    with_fields,
)
from sheetsync.core.override import apply_override
from sheetsync.core.owned import is_owned
from sheetsync.core.parse import ParseError, a1, parse_period, quarter_of
from sheetsync.core.relative import resolve_change, start_of_period, with_change_note
from sheetsync.core.rows import NumberReading
from sheetsync.core.scoring import (
    AtPeriodEnd,
    Rules,
    kpi_attainment,
    objectives_in_order,
    score_key_result,
    score_kpi,
    score_objective,
)
from sheetsync.core.validate import KpiTab, OkrTab, read_kpis, read_okrs
from sheetsync.writes import plan_writes

MAX_CYCLES = 3
"""How often a sync is redone when a person moved rows between our read and our write."""


@dataclass
class Scored:
    """Everything a sync computed for one workbook (pure data, before any write)."""

    okrs: OkrTab | None
    kpis: KpiTab | None
    key_results: list[KeyResultScore]
    kpi_scores: list[KpiScore]
    objectives: list[ObjectiveScore]
    problems: list[Problem]
    warnings: list[Problem] = field(default_factory=list)
    """Worth a look, but no row is invalid because of them (shown by `validate` and `run`)."""
    alignment: Alignment = field(default_factory=Alignment)
    """The objectives' tree, children from other workbooks included (core/alignment.py)."""
    memory: Memory = field(default_factory=Memory)
    """History's compact state as read (`alerts.state`): what past runs left."""
    periods: dict[tuple[str, str], ItemPeriod] = field(default_factory=dict)
    """Each key result's period, by (kind, key)."""
    past: dict[tuple[str, str], ItemMemory] = field(default_factory=dict)
    """Each item's memory of the runs before this as-of date."""

    @cached_property
    def items(self) -> list[ItemState]:
        """Every KR and KPI as History and alerts see them, invalid rows included.

        An invalid row whose key a valid row already has (a duplicate ID or KPI name) is left
        out: History and alerts must follow the valid item, not its broken twin.
        """
        items = [
            with_fields(  # ItemState(...), one per key result
                ItemState,
                {
                    "kind": "kr",
                    "key": (kr := s.key_result).key,
                    "name": kr.text,
                    "status": s.status,
                    "objective": kr.objective,
                    "owner": kr.owner,
                    "value": s.value,
                    "target": kr.target,
                    "score": s.score,
                    "note": s.note,
                    "style": kr.style,
                    "expected": s.expected,
                    "confidence": c.points if (c := kr.confidence) else None,
                    "checked_in": kr.checked_in,
                    "target_style": kr.target_style,
                    "cadence_days": kr.cadence_days,
                },
            )
            for s in self.key_results
        ]
        items += [
            ItemState(
                kind="kpi",
                key=k.kpi.key,
                name=k.kpi.name,
                status=k.status,
                owner=k.kpi.owner,
                value=k.kpi.actual,
                target=k.kpi.target,
                score=kpi_attainment(k.kpi),
                unit=k.kpi.unit,
                note=k.note,
                style=k.kpi.style,
                target_style=k.kpi.target_style,
                cadence_days=k.kpi.cadence_days,
                checked_in=k.kpi.checked_in,
            )
            for k in self.kpi_scores
        ]
        taken = {(item.kind, item.key) for item in items}
        for tab, kind in ((self.okrs, "kr"), (self.kpis, "kpi")):
            for bad in tab.invalid if tab else []:
                if bad.key and (kind, bad.key) not in taken:
                    taken.add((kind, bad.key))
                    items.append(
                        ItemState(
                            kind=kind,
                            key=bad.key,
                            name=bad.key.rsplit(" / ", 1)[-1],
                            status=Status.INVALID,
                            objective=bad.objective,
                            owner=bad.owner,
                            note=bad.note,
                        )
                    )
        return items

    @cached_property
    def objective_items(self) -> list[ItemState]:
        """Each objective as an item for its end-of-period grade, keyed with the period its
        key results end with (`Grow revenue (2026-Q4)`) so each period is graded once."""
        by_objective: dict[str, list[KeyResultScore]] = {}
        for s in self.key_results:
            by_objective.setdefault(s.key_result.objective, []).append(s)
        items = []
        for objective in self.objectives:
            scores = by_objective.get(objective.name, [])
            periods = [s.key_result.period for s in scores if s.key_result.period]
            if not periods:
                continue
            last = max(periods, key=lambda p: p.end)
            owners = list(dict.fromkeys(s.key_result.owner for s in scores if s.key_result.owner))
            counts = ", ".join(
                f"{n} {status.value.lower()}" for status, n in objective.counts.items() if n
            )
            items.append(
                ItemState(
                    kind="objective",
                    key=f"{objective.name} ({last.label})",
                    name=objective.name,
                    status=objective.status,
                    objective=objective.name,
                    owner=", ".join(owners) or None,
                    score=objective.score,
                    note=f"{last.label} ended; key results: {counts}",
                )
            )
        return items


@dataclass
class WorkbookReport:
    """What happened to one workbook: the run summary line, the JSON output, the exit code."""

    name: str
    location: str = ""
    objectives: list[ObjectiveScore] = field(default_factory=list)
    key_results: Counter[Status] = field(default_factory=Counter)
    kpis: Counter[Status] = field(default_factory=Counter)
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    example_rows: list[str] = field(default_factory=list)
    """The warnings (also in `warnings`) about rows still owned on an example domain."""
    layouts: list[TabLayout] = field(default_factory=list)
    """How each input tab was read: the header row and which column is which field."""
    error: str | None = None
    wrote: bool = False
    cells_changed: int = 0
    requests: int = 0
    duration: float = 0.0
    cycles: int = 0
    alerts_planned: int = 0
    """Alert events this run raised for the workbook."""
    alerts_sent: int = 0
    recipient_problems: list[str] = field(default_factory=list)
    """validate: owners alerts cannot reach, each with the items they own."""

    @property
    def objective_statuses(self) -> Counter[Status]:
        return Counter(o.status for o in self.objectives)

    @property
    def invalid_rows(self) -> int:
        return self.key_results.get(Status.INVALID, 0) + self.kpis.get(Status.INVALID, 0)

    @property
    def ok(self) -> bool:
        return self.error is None and self.invalid_rows == 0


def rules_from(scoring: cfg.Scoring) -> Rules:
    return Rules(
        scoring.on_track,
        scoring.at_risk,
        scoring.grade_green,
        scoring.grade_amber,
        scoring.grace_days,
        scoring.objective_status,
    )


def default_period(scoring: cfg.Scoring, as_of: date, source: str = "config") -> Period:
    if scoring.default_period is None:
        return quarter_of(as_of)
    try:
        return parse_period(scoring.default_period)
    except ParseError as exc:
        raise cfg.ConfigError(str(exc), path=source, key="scoring.default_period") from exc


def tab_names(tabs: cfg.Tabs, alerts: bool = True) -> list[str]:
    """The tabs a sync reads; the Alerts tab only when alerts are on (off, it is never written,
    and asking for a tab a workbook does not have keeps Google from reading by range)."""
    alerts_tab = tabs.alerts if alerts else ""
    return [
        t for t in (tabs.okrs, tabs.kpis, tabs.summary, tabs.history, alerts_tab, tabs.state) if t
    ]


def history_heads(tabs: cfg.Tabs, alerts: bool = False) -> dict[str, str]:
    """History (and, with `alerts`, the Alerts log) is read to its header only once the state
    tab exists (`WorkbookBackend.read`): a night never reads a whole log; the first run that
    has no state builds it from History, and a run whose state does not remember the Alerts
    log reads it again whole (`alerts_read_whole`)."""
    if not tabs.state:
        return {}
    logs = (tabs.history, tabs.alerts if alerts else "")
    return {log: tabs.state for log in logs if log}


def alerts_read_whole(
    snapshot: Snapshot, memory: Memory, tabs: cfg.Tabs, as_of: date, alerts: bool
) -> bool:
    """Whether the Alerts tab, read to its header only, must be read again whole: the state
    does not remember it (written by an older version, or its counts blanked), something is
    still owed, or the run is dated before one the state has seen."""
    grid = _grid(snapshot, tabs.alerts) if alerts and tabs.alerts else None
    return (
        grid is not None
        and is_owned(grid)
        and len(grid) <= HEAD_ROWS
        and not memory.alerts_known(as_of)
    )


def _grid(snapshot: Snapshot, name: str) -> Grid | None:
    real = snapshot.find_tab(name) if name else None
    return snapshot.tabs[real] if real else None


class _Past:
    """Each item's memory of the runs before `as_of`, computed once per item."""

    def __init__(
        self, memory: Memory, periods: dict[tuple[str, str], ItemPeriod], as_of: date
    ) -> None:
        self.memory, self.periods, self.as_of = memory, periods, as_of
        self.found: dict[tuple[str, str], ItemMemory] = {}

    def __call__(self, kind: str, key: str) -> ItemMemory:
        view = self.found.get((kind, key))
        if view is None:
            remembered = self.memory.items.get((kind, key))
            if remembered is None:  # no past runs (`before` of an empty memory is itself)
                view = ItemMemory(kind, key)
            else:
                period = self.periods.get((kind, key), _NO_PERIOD)
                view = before(remembered, self.as_of, period)
            self.found[(kind, key)] = view
        return view


_NO_PERIOD = ItemPeriod()


def score_snapshot(
    snapshot: Snapshot,
    workbook: str,
    config: cfg.Config,
    wb: cfg.Workbook,
    as_of: date,
    children: Sequence[ChildObjective] = (),
) -> Scored:
    """Validate and score what was read. Raises WorkbookLayoutError for a missing tab/header.

    `children` are the root objectives read from the Summary tabs of this workbook's child
    workbooks (`read_children`); they roll up into the objectives they name.
    """
    tabs = config.tabs_for(wb)
    headers = config.headers_for(wb)
    decimal = config.decimal_for(wb, snapshot.decimal)
    problems: list[Problem] = []

    def reading(tab: str) -> NumberReading:
        return NumberReading(decimal, snapshot.number_formats.get(tab, {}))

    # A workbook an earlier version synced (it has a tab sheetsync owns) and no column carries
    # a mark yet: its columns named like the outputs are sheetsync's, recognised once. Once
    # any column is marked, a tab without marks (a KPIs tab added later) adopts nothing.
    unmarked_earlier_sync = not any(snapshot.output_columns.values()) and any(
        is_owned(grid) for grid in snapshot.tabs.values()
    )

    def own_columns(tab: str) -> OwnColumns:
        marked = snapshot.output_columns.get(tab, {})
        return OwnColumns(marked, unmarked_earlier_sync, config.outputs.if_taken)

    def grid_of(name: str) -> tuple[str, Grid]:
        real = snapshot.find_tab(name)
        if real is None:
            raise WorkbookLayoutError(
                f"tab '{name}' not found; add it, or set the name of the tab to use under "
                f"[tabs] in the config",
                workbook=workbook,
            )
        return real, snapshot.tabs[real]

    try:
        kpi_tab = None
        if tabs.kpis:
            real, grid = grid_of(tabs.kpis)
            kpi_tab = read_kpis(
                grid,
                real,
                warning_margin=config.scoring.kpi_warning_margin,
                overrides=headers.kpis,
                reading=reading(real),
                as_of=as_of,
                default_year=default_period(config.scoring, as_of, config.source).start.year,
                own=own_columns(real),
            )
            problems.extend(kpi_tab.problems)
        name_col = kpi_tab.layout.columns["name"] if kpi_tab else 1
        okr_tab = None
        if tabs.okrs:
            real, grid = grid_of(tabs.okrs)
            okr_tab = read_okrs(
                grid,
                real,
                default_period=default_period(config.scoring, as_of, config.source),
                kpi_names={k.name.casefold(): k.name for k in kpi_tab.kpis} if kpi_tab else {},
                invalid_kpis={
                    b.key.casefold(): f"{kpi_tab.layout.tab}!{a1(b.row, name_col)}"
                    for b in kpi_tab.invalid
                    if b.key
                }
                if kpi_tab
                else {},
                overrides=headers.okrs,
                reading=reading(real),
                own=own_columns(real),
            )
            okr_tab, links = link_objectives(
                okr_tab,
                workbook=wb.name,
                workbooks=[w.name for w in config.workbooks],
                parent_workbooks=config.parents_of(wb),
            )
    except LayoutProblem as exc:
        raise WorkbookLayoutError(exc.problem.describe(), workbook=workbook) from exc

    rules = rules_from(config.scoring)
    key_results = okr_tab.key_results if okr_tab else []
    periods: dict[tuple[str, str], ItemPeriod] = {}
    item_periods: dict[int, ItemPeriod] = {}  # by id: most key results share a Period object
    for kr in key_results:
        if kr.period:
            found = item_periods.get(id(kr.period))
            if found is None:
                found = item_periods[id(kr.period)] = ItemPeriod(kr.period.start, kr.period.end)
            periods[("kr", kr.key)] = found
    memory = load_memory(
        _grid(snapshot, tabs.state),
        _grid(snapshot, tabs.history),
        _grid(snapshot, tabs.alerts),
        periods,
        workbook=workbook,
        tabs=tabs,
    )
    past = _Past(memory, periods, as_of)
    kpi_scores = (
        [score_kpi(k, as_of, past("kpi", k.key).earlier.changes) for k in kpi_tab.kpis]
        if kpi_tab
        else []
    )
    actuals = {k.kpi.name: k.kpi.actual for k in kpi_scores}
    key_results, change_notes = _resolve_changes(key_results, as_of, past)
    at_end = _at_period_end(key_results, as_of, past)
    kr_scores = []
    for kr in key_results:
        key = kr.key
        past("kr", key)  # every key result's past, for its Trend cell
        scored = score_key_result(
            kr, as_of, rules, actuals.get(kr.kpi) if kr.kpi else None, at_end.get(key)
        )
        # each step leaves the score as it is without its cell (checked here: once per row)
        if key in change_notes:
            scored = with_change_note(scored, change_notes[key])
        if kr.confidence is not None:
            scored = with_confidence(scored)
        if kr.override is not None:
            scored = apply_override(scored, as_of)
        kr_scores.append(scored)
    objectives = []
    invalid_by_objective = Counter(b.objective for b in (okr_tab.invalid if okr_tab else []))
    names = objectives_in_order(
        [s.key_result.objective for s in kr_scores]
        + [b.objective for b in (okr_tab.invalid if okr_tab else []) if b.objective]
    )
    by_objective: dict[str, list[KeyResultScore]] = {name: [] for name in names}
    for s in kr_scores:
        by_objective[s.key_result.objective].append(s)
    for name, own in by_objective.items():
        objectives.append(score_objective(name, own, as_of, rules, invalid_by_objective[name]))
    alignment = roll_up(
        okr_tab.objective_names if okr_tab else [],
        links if okr_tab else {},
        objectives,
        kr_scores,
        children,
        workbook=wb.name,
        as_of=as_of,
        rules=rules,
        mode=config.alignment.rollup,
        stale_after_days=config.alignment.stale_after_days,
    )
    for tab in (kpi_tab, okr_tab):
        for bad in tab.invalid if tab else []:
            problems.extend(bad.problems)
    warnings = [w for tab in (okr_tab, kpi_tab) if tab for w in tab.layout.warnings]
    problems += alignment.problems
    return Scored(
        okr_tab,
        kpi_tab,
        kr_scores,
        kpi_scores,
        alignment.objectives,
        problems,
        warnings=warnings,
        alignment=alignment,
        memory=memory,
        periods=periods,
        past=past.found,
    )


def _resolve_changes(
    key_results: list[KeyResult], as_of: date, past: Callable[[str, str], ItemMemory]
) -> tuple[list[KeyResult], dict[str, str]]:
    """Relative key results with their Start (the state's first value in the period when the
    cell is blank) and Target, and the Note saying where they came from, by key result key."""
    resolved, notes = [], {}
    for kr in key_results:
        if kr.change is None or kr.type is not KrType.METRIC:  # `resolve_change` keeps it
            resolved.append(kr)
            continue
        start = past("kr", kr.key).earlier.start if kr.change and not kr.start_given else None
        started = start_of_period(kr, [start] if start else [], as_of)
        kr, notes[kr.key] = resolve_change(kr, started, as_of)
        resolved.append(kr)
    return resolved, {key: note for key, note in notes.items() if note}


def _at_period_end(
    key_results: list[KeyResult], as_of: date, past: Callable[[str, str], ItemMemory]
) -> dict[str, AtPeriodEnd]:
    """Key result key -> its last run on or before the end of its (ended) period."""
    found: dict[str, AtPeriodEnd] = {}
    for kr in key_results:
        if kr.period and as_of > kr.period.end:
            end = past("kr", kr.key).earlier.end
            if end is not None and end.as_of <= kr.period.end:
                found[kr.key] = AtPeriodEnd(end.as_of, end.score, end.value, end.status)
    return found


@dataclass
class SyncOutcome:
    report: WorkbookReport
    scored: Scored | None = None
    snapshot: Snapshot | None = None
    plan: WritePlan | None = None
    alerts: WorkbookAlertPlan | None = None
    backend: WorkbookBackend | None = None
    """Kept open when alerts are pending, so the runner can record their delivery."""


def plan_alerts(
    snapshot: Snapshot,
    scored: Scored,
    tabs: cfg.Tabs,
    config: cfg.Config,
    workbook: str,
    location: str,
    as_of: date,
    now: datetime,
    alerts: cfg.Alerts | None = None,
) -> WorkbookAlertPlan | None:
    """History and its state (always, when the tabs are configured) and the Alerts log with new
    events (alerts need the History and Alerts tabs).

    `alerts` is the workbook's [alerts] settings (`Config.alerts_for`), default the global ones.
    """
    if not tabs.history and not tabs.state:
        return None
    settings = alerts or config.alerts
    if not tabs.alerts or not tabs.history:
        settings = settings.model_copy(update={"enabled": False})
    return plan_workbook_alerts(
        workbook=workbook,
        location=location,
        history_grid=_grid(snapshot, tabs.history),
        alerts_grid=_grid(snapshot, tabs.alerts),
        items=scored.items,
        as_of=as_of,
        now=now,
        settings=settings,
        tabs=tabs,
        objectives=scored.objective_items,
        memory=scored.memory,
        periods=scored.periods,
        mail=bool(config.email.host or config.email.outbox),
    )


def sync_workbook(
    backend: WorkbookBackend,
    wb: cfg.Workbook,
    config: cfg.Config,
    as_of: date,
    now: datetime,
    *,
    dry_run: bool = False,
    open_child: Callable[[cfg.Workbook], WorkbookBackend] | None = None,
) -> SyncOutcome:
    """Read, score and write one workbook; a person moving rows mid-sync redoes the cycle.

    Scores, Summary, History and the Alerts log (new events as pending) go out in one write.
    `now` is the run's start time, the same for every workbook of a run. A workbook with
    `children` reads each child's Summary once, through `open_child`, before its own cycle.
    """
    started = time.monotonic()
    report = WorkbookReport(wb.name, location=backend.location)
    tabs = config.tabs_for(wb)
    outcome = SyncOutcome(report, backend=backend)
    children = read_children(wb, config, open_child) if wb.children and open_child else None
    for cycle in range(1, MAX_CYCLES + 1):
        report.cycles = cycle
        enabled = config.alerts_for(wb).enabled
        names = tab_names(tabs, enabled)
        snapshot = backend.read(names, heads=history_heads(tabs, enabled))
        scored = score_snapshot(
            snapshot, backend.label, config, wb, as_of, children.objectives if children else ()
        )
        if alerts_read_whole(snapshot, scored.memory, tabs, as_of, enabled):
            snapshot = backend.read(names, heads=history_heads(tabs))
            scored = score_snapshot(
                snapshot, backend.label, config, wb, as_of, children.objectives if children else ()
            )
        if children:
            scored.problems += children.problems
        plan = plan_writes(snapshot, scored, tabs, backend.label, as_of)
        alerts = plan_alerts(
            snapshot, scored, tabs, config, wb.name, backend.location, as_of, now,
            alerts=config.alerts_for(wb),
        )  # fmt: skip
        if alerts:
            plan.owned_tabs += [
                t for t in (alerts.history_tab, alerts.alerts_tab, alerts.state_tab) if t
            ]
            plan.appends += [t for t in (alerts.history_append, alerts.alerts_append) if t]
            report.alerts_planned = len(alerts.events)
        outcome = SyncOutcome(report, scored, snapshot, plan, alerts, backend)
        report.objectives = scored.objectives
        report.key_results = Counter(s.status for s in scored.key_results)
        report.key_results.update({Status.INVALID: len(scored.okrs.invalid) if scored.okrs else 0})
        report.kpis = Counter(k.status for k in scored.kpi_scores)
        report.kpis.update({Status.INVALID: len(scored.kpis.invalid) if scored.kpis else 0})
        report.key_results, report.kpis = +report.key_results, +report.kpis
        report.problems = [p.describe(backend.label) for p in scored.problems]
        report.warnings = [p.describe(backend.label) for p in scored.warnings]
        report.example_rows = [
            p.describe(backend.label)
            for p in scored.warnings
            if p.expected == EXAMPLE_ROWS_EXPECTED
        ]
        report.layouts = [tab.layout for tab in (scored.okrs, scored.kpis) if tab]
        if dry_run:
            break
        try:
            result = backend.write(plan)
        except RowsMovedError:
            if cycle == MAX_CYCLES:
                raise
            continue
        report.wrote = result.wrote
        report.cells_changed = result.cells_changed
        break
    report.requests = backend.requests + (children.requests if children else 0)
    report.duration = time.monotonic() - started
    return outcome
