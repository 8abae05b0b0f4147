"""Alerts: tell owners when a KPI or key result needs attention, once per change.

The workbook is the memory: the `History` tab records every item on every run, the `Alerts`
tab logs every event with its delivery per recipient. A run on a fresh machine decides and
delivers exactly as one on the host that ran yesterday.

How a run uses this package (the facade below is all `sync`/`runner` need):

1. Per workbook, with the tabs read and the items scored::

       plan = plan_workbook_alerts(
           workbook=wb.name, location=backend.location,
           history_grid=snapshot.tabs.get(...), alerts_grid=snapshot.tabs.get(...),
           items=item_states, as_of=as_of, now=run_started, settings=config.alerts,
           tabs=config.tabs_for(wb),
       )

   and write `plan.history_tab` and `plan.alerts_tab` (None when alerts are disabled) in the
   same `WritePlan` as the scores. New events are now logged as *pending*; nothing is sent
   yet. `now` must be the same for every workbook of the run: it groups the events into one
   digest per recipient.

2. After all workbooks, send what is pending everywhere (new events and any left over from
   a run whose sending failed)::

       report = deliver.deliver(all_pending, mailer, config.email, now=run_started)

   with `mailer = OutboxMailer(folder)` for `--dry-run` / `[email] outbox`, else
   `SmtpMailer(config.email, smtp_password(config.email, base_dir=...))`.

3. Per workbook, record the outcome (sent / failed: reason / still pending)::

       backend.write(delivery_plan(plan, report, workbook=wb.name))

   (the Alerts tab with its marks, or only the marked Delivery cells when the tab was read to
   its header, and the state's count of what is still owed). If the run dies before this,
   the events are still pending and the next run re-sends the same digests under the same
   Message-IDs.

Modules: `history` (History tab), `decide` (the rules), `events` (event ids), `log` (Alerts
tab), `pending` (what is owed, rebuilt from trusted state), `recipients`, `render` (jinja2
e-mails), `send` (SMTP/outbox), `deliver`. All but `send` and `deliver` are pure.

Every run imports this package; the delivery half (`deliver`, `render`, `send`: smtplib, ssl,
e-mail messages, retries) is imported on first use of one of its names here, so a run with no
alert to send never loads it. `deliver` is the module (`deliver.deliver` the function).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from importlib import import_module
from typing import TYPE_CHECKING, Any

from sheetsync.alerts.cells import cell_text
from sheetsync.alerts.decide import decide_alerts, decide_grades
from sheetsync.alerts.events import AlertEvent, EventKind, event_id
from sheetsync.alerts.history import (
    HistoryRecord,
    appended_history,
    parse_history,
    updated_history,
)
from sheetsync.alerts.log import (
    ALERTS_HEADER,
    NO_MAIL_SERVER,
    PENDING,
    AlertLogRecord,
    Delivery,
    appended_alerts,
    delivery_marks,
    new_log_records,
    parse_alert_log,
    updated_alerts_tab,
)
from sheetsync.alerts.pending import PendingAlert, SkippedRow, owed_alerts, skipped_outcomes
from sheetsync.alerts.recipients import is_chat
from sheetsync.alerts.state import (
    ALERTS_OWED_COL,
    ALERTS_OWED_LABEL,
    ItemMemory,
    Memory,
    Period,
    before,
    history_due,
    history_rows_cell,
    logged_records,
    memory_from_history,
    parse_state,
    remember,
    remember_alerts,
    settled,
    state_tab,
)
from sheetsync.config import Alerts, Tabs
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import ItemState
from sheetsync.core.owned import check_owned, is_owned
from sheetsync.core.plan import OWNED_DATA_ROW, CellWrite, Grid, OwnedTab, RowGuard, WritePlan

if TYPE_CHECKING:
    from sheetsync.alerts import deliver
    from sheetsync.alerts.deliver import DeliveryReport, DigestResult
    from sheetsync.alerts.render import digest_message_id, render_digest
    from sheetsync.alerts.send import (
        MailDeliveryError,
        Mailer,
        MemoryMailer,
        OutboxMailer,
        SmtpMailer,
        smtp_password,
    )

_DELIVERY = {
    "DeliveryReport": "deliver",
    "DigestResult": "deliver",
    "digest_message_id": "render",
    "render_digest": "render",
    "MailDeliveryError": "send",
    "Mailer": "send",
    "MemoryMailer": "send",
    "OutboxMailer": "send",
    "SmtpMailer": "send",
    "smtp_password": "send",
}
"""The delivery half's names, each imported from its module when first asked for."""


def __getattr__(name: str) -> Any:
    if name == "deliver":
        return import_module(f"{__name__}.deliver")
    if name in _DELIVERY:
        return getattr(import_module(f"{__name__}.{_DELIVERY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "AlertEvent",
    "AlertLogRecord",
    "Delivery",
    "DeliveryReport",
    "DigestResult",
    "EventKind",
    "HistoryRecord",
    "ItemMemory",
    "MailDeliveryError",
    "Mailer",
    "Memory",
    "MemoryMailer",
    "OutboxMailer",
    "PendingAlert",
    "Period",
    "SkippedRow",
    "SmtpMailer",
    "WorkbookAlertPlan",
    "apply_delivery",
    "counted_rows",
    "decide_alerts",
    "deliver",
    "delivery_guards",
    "delivery_plan",
    "digest_message_id",
    "event_id",
    "load_memory",
    "parse_alert_log",
    "parse_history",
    "plan_workbook_alerts",
    "remembered",
    "render_digest",
    "smtp_password",
    "still_owed",
]


@dataclass
class WorkbookAlertPlan:
    """What one workbook's sync writes for alerts, and what is waiting to be sent."""

    history_tab: OwnedTab | None
    """None when the History tab is turned off (`[tabs] history = ""`)."""
    alerts_tab: OwnedTab | None
    """None when alerts are disabled: the Alerts tab is left as it is."""
    pending: list[PendingAlert] = field(default_factory=list)
    """Every event of this workbook some recipient has not received (new and left over),
    rebuilt from the state, the items and the config (see `pending`)."""
    events: list[AlertEvent] = field(default_factory=list)
    """The events this run raised."""
    skipped: list[str] = field(default_factory=list)
    """Alerts-tab rows that are pending but were not sent, each with its cell and why."""
    unsent: list[str] = field(default_factory=list)
    """Event ids logged `not sent` for some e-mail recipient this run: no mail server is
    configured (`plan_workbook_alerts(mail=False)`), so they are never owed."""
    state_tab: OwnedTab | None = None
    """History's compact state after this run (`alerts.state`); None without a state tab."""
    history_rows: int = 0
    """History rows this run added."""
    history_append: OwnedTab | None = None
    """This run's new History rows, to go below the rows already there (`WritePlan.appends`),
    when the workbook has its state tab: History is then neither read nor rewritten."""
    alerts_append: OwnedTab | None = None
    """This run's new Alerts rows, to go below the rows the state counts (`WritePlan.appends`),
    when the state remembers the Alerts log (`alerts_tab` is then None: it was not read)."""
    logged: list[AlertLogRecord] = field(default_factory=list)
    """This run's new records that are pending, each with the row it was written to: where
    their delivery marks go when the Alerts tab was not read (`delivery_plan`)."""


def load_memory(
    state_grid: Grid | None,
    history_grid: Grid | None,
    alerts_grid: Grid | None,
    periods: Mapping[tuple[str, str], Period] | None = None,
    *,
    workbook: str = "",
    tabs: Tabs | None = None,
) -> Memory:
    """The workbook's memory of past runs: its state tab, or, when it has none yet, built once
    from its History tab (every row kept as it is) and the Alerts log's event dates."""
    tabs = tabs or Tabs()
    check_owned(state_grid, tabs.state or "History state", workbook)
    memory = parse_state(state_grid)
    if (
        state_grid is not None
        and is_owned(history_grid)
        and (memory is None or memory.history_rows < 2)
    ):
        # History was read to its header only (the state tab exists): rebuilding the state
        # from it, or rewriting it whole, would drop every earlier row.
        state, history = tabs.state or "History state", tabs.history or "History"
        raise WorkbookLayoutError(
            f"tab '{state}' is empty or its cell {history_rows_cell(state_grid)} (how many rows "
            f"'{history}' has) is not a "
            f"number, so sheetsync cannot add to '{history}' safely; delete the '{state}' tab "
            f"and the next run rebuilds it from '{history}' (no History row is lost)",
            workbook=workbook,
        )
    if memory is not None:
        return memory
    alerted: dict[str, set[date]] = defaultdict(set)
    for entry in parse_alert_log(alerts_grid):
        if entry.as_of is not None:
            alerted[entry.item].add(entry.as_of)
    rows = len(history_grid) if history_grid and is_owned(history_grid) else 0
    return memory_from_history(parse_history(history_grid), rows, periods, alerted)


def remembered(
    memory: Memory,
    items: Sequence[ItemState],
    as_of: date,
    periods: Mapping[tuple[str, str], Period] | None = None,
) -> dict[tuple[str, str], ItemMemory]:
    """Each item's memory of the runs before `as_of` (what scoring, trends and alerts read)."""
    periods = periods or {}
    return {
        (item.kind, item.key): before(
            memory.of(item.kind, item.key), as_of, periods.get((item.kind, item.key), Period())
        )
        for item in items
    }


def plan_workbook_alerts(
    workbook: str,
    location: str,
    history_grid: Grid | None,
    alerts_grid: Grid | None,
    items: Sequence[ItemState],
    as_of: date,
    now: datetime,
    settings: Alerts,
    tabs: Tabs | None = None,
    objectives: Sequence[ItemState] = (),
    *,
    memory: Memory | None = None,
    periods: Mapping[tuple[str, str], Period] | None = None,
    mail: bool = True,
) -> WorkbookAlertPlan:
    """The History, state and Alerts tabs for this run of one workbook, new events as pending.

    `history_grid` and `alerts_grid` are the tabs as read (None when missing); `memory` the
    state as read (`load_memory`; built from `history_grid` when not given); `periods` each
    item's period. History gets a row only for an item whose figures changed since its last
    run, on its first run, and on its first run on or after its period's end. `objectives`
    are the workbook's objectives as items keyed with their period (for end-of-period grades,
    see `decide.decide_grades`). `mail`: False when no mail server is configured at all
    (neither `[email] host` nor `outbox`): what is owed to an e-mail recipient is then logged
    `not sent` for good (`no_mail_outcomes`), never left pending. Raises WorkbookLayoutError
    when a tab exists but was made by a person.
    """
    tabs = tabs or Tabs()
    periods = periods or {}
    check_owned(history_grid, tabs.history, workbook)
    check_owned(alerts_grid, tabs.alerts, workbook)
    if memory is None:
        memory = load_memory(None, history_grid, alerts_grid, periods, workbook=workbook)
    # The state remembers what the rules need of the Alerts log: the log is then not read.
    known = settings.enabled and memory.alerts_known(as_of) and is_owned(alerts_grid)
    remembered_log = logged_records(memory.logged) if settings.enabled else []
    if known:
        log = remembered_log
    else:
        # Read whole, the tab and the state's memory count together: a person may have moved
        # old rows out of the log (or deleted the tab), and an event logged is never raised
        # again for that.
        log = parse_alert_log(alerts_grid) if settings.enabled else []
        read = {entry.event_id for entry in log}
        log += [entry for entry in remembered_log if entry.event_id not in read]
    waiting: dict[str, set[date]] = defaultdict(set)  # events some recipient still waits for
    for entry in log:
        if entry.as_of is not None and entry.pending_recipients:
            waiting[entry.item].add(entry.as_of)
    memory = replace(
        memory,
        items={k: settled(m, waiting.get(m.key, set()), as_of) for k, m in memory.items.items()},
    )
    past = remembered(memory, items, as_of, periods)
    history = [record for view in past.values() for record in view.records()]
    events = (
        decide_alerts(history, items, as_of, settings, log, workbook=workbook)
        + decide_grades(objectives, as_of, settings, log, workbook=workbook)
        if settings.enabled
        else []
    )
    alerted = {(e.item.kind, e.item.key) for e in events}

    due: list[ItemState] = []
    after = Memory(
        history_rows=memory.history_rows,
        logged=memory.logged,
        alerts_rows=memory.alerts_rows,
        alerts_owed=memory.alerts_owed,
    )
    for item in items:
        key = (item.kind, item.key)
        view, period = past[key], periods.get(key, Period())
        recorded = bool(tabs.history) and history_due(
            memory.items.get(key), view, item, as_of, period
        )
        if recorded:
            due.append(item)
        stored = memory.items.get(key)
        last = stored.last if stored is not None else None
        again = last is not None and last.first == as_of and last.alerted
        after.items[key] = remember(
            view,
            item,
            as_of,
            alerted=key in alerted or again,
            recorded=recorded,
            keep_days=settings.history_days,
        )
    for key, gone in memory.items.items():  # items not in this run (a row deleted): kept a while
        last = gone.last
        kept = settings.history_days <= 0 or (
            last is not None and (as_of - last.last).days <= settings.history_days
        )
        if key not in after.items and last is not None and kept:
            after.items[key] = gone

    history_tab = history_append = None
    if tabs.history and memory.from_tab and memory.history_rows > 2 and is_owned(history_grid):
        if due:  # below the rows the state says History has, which are not read
            history_append = appended_history(
                due, as_of, workbook, memory.history_rows + 1, tab=tabs.history, styled=items
            )
            after.history_rows = memory.history_rows + len(due)
    elif tabs.history:  # created, or read whole once (no state tab yet)
        # Never cut by date: History holds changes only, so an item's one old row may still be
        # what it shows today (`history_days` bounds the state tab, not History).
        history_tab = updated_history(history_grid, due, as_of, workbook, tab=tabs.history,
                                      styled=items)  # fmt: skip
        after.history_rows = len(history_tab.rows)
    added = len(due) if tabs.history else 0
    if not settings.enabled:
        return WorkbookAlertPlan(
            history_tab,
            None,
            state_tab=state_tab(after, tab=tabs.state) if tabs.state else None,
            history_rows=added,
            history_append=history_append,
        )
    new = new_log_records(events, now, settings)
    alerts_tab = alerts_append = None
    if known:  # below the rows the state counts, which are not read
        first = memory.alerts_rows + 1
        new = [replace(record, row=first + i) for i, record in enumerate(new)]
        logged_now = new
        owed_rows: list[AlertLogRecord] = []
    else:  # created, or read whole (no Alerts memory yet, something owed, a back-dated run)
        alerts_tab = updated_alerts_tab(alerts_grid, workbook, new=new, tab=tabs.alerts)
        # The rows read are as they were (`log`): only the new ones are read back, at their rows.
        start = max(len(alerts_grid or []), 2) if is_owned(alerts_grid) else 2
        logged_now = parse_alert_log(
            [*alerts_tab.rows[:2], *([[]] * (start - 2)), *alerts_tab.rows[start:]]
        )
        owed_rows = [r for r in log if r.pending_recipients]
    # Rebuilt from the state as it now stands, so a first attempt and a re-send are identical.
    pending, skipped = owed_alerts(
        owed_rows + logged_now,
        [record for view in after.items.values() for record in view.records()],
        [*items, *objectives],
        settings,
        workbook=workbook,
        location=location,
    )
    unsent: dict[tuple[str, str], Delivery] = {}
    if not mail:
        pending, unsent = no_mail_outcomes(pending)
    outcomes = {**skipped_outcomes(skipped), **unsent}
    tab_name = alerts_tab.name if alerts_tab is not None else tabs.alerts
    if alerts_tab is not None:
        if outcomes:
            alerts_tab = updated_alerts_tab(
                alerts_tab.rows, workbook, outcomes=outcomes, tab=tab_name
            )
    elif new:
        new = [record.with_outcomes(outcomes) for record in new]
        alerts_append = appended_alerts(new, memory.alerts_rows + 1, tab=tabs.alerts)

    owed = {p.event_id for p in pending}
    keys = {item.key for item in (*items, *objectives)}
    cutoff = as_of - timedelta(days=settings.history_days) if settings.history_days > 0 else None
    after.logged = remember_alerts(
        memory.logged,
        new if known else [*log, *logged_now],
        keep=lambda key, day: key in keys or cutoff is None or day >= cutoff,
    )
    after.alerts_rows = (
        len(alerts_tab.rows) if alerts_tab is not None else memory.alerts_rows + len(new)
    )
    after.alerts_owed = len(owed)
    problems = [s.describe(workbook, tab_name) for s in skipped]
    return WorkbookAlertPlan(
        history_tab,
        alerts_tab,
        pending,
        events,
        problems,
        unsent=list(dict.fromkeys(event for event, _ in unsent)),
        state_tab=state_tab(after, tab=tabs.state) if tabs.state else None,
        history_rows=added,
        history_append=history_append,
        alerts_append=alerts_append,
        logged=[r for r in logged_now if r.event_id in owed],
    )


def no_mail_outcomes(
    pending: Sequence[PendingAlert],
) -> tuple[list[PendingAlert], dict[tuple[str, str], Delivery]]:
    """With no mail server configured: `pending` narrowed to its chat recipients, and the
    `not sent` delivery of each e-mail recipient (final: an alert nobody can deliver is not
    owed, so it is not re-sent as a stale backlog once a mail server is set)."""
    kept: list[PendingAlert] = []
    outcomes: dict[tuple[str, str], Delivery] = {}
    for alert in pending:
        chat = tuple(r for r in alert.recipients if is_chat(r))
        for recipient in alert.recipients:
            if not is_chat(recipient):
                outcomes[(alert.event_id, recipient.casefold())] = NO_MAIL_SERVER
        if chat:
            kept.append(replace(alert, recipients=chat))
    return kept, outcomes


def apply_delivery(
    alerts: OwnedTab | Grid | None,
    report: DeliveryReport,
    *,
    workbook: str = "",
    tab: str | None = None,
) -> OwnedTab:
    """The Alerts tab with each event's delivery from `report` (events of other workbooks are
    ignored). Pass the `alerts_tab` just written, or the tab's grid as read again."""
    if isinstance(alerts, OwnedTab):
        return updated_alerts_tab(
            alerts.rows, workbook, outcomes=report.outcomes, tab=tab or alerts.name
        )
    return updated_alerts_tab(alerts, workbook, outcomes=report.outcomes, tab=tab or Tabs().alerts)


def delivery_plan(plan: WorkbookAlertPlan, report: DeliveryReport, *, workbook: str) -> WritePlan:
    """The write recording `report` in one workbook: the Alerts tab with its marks (the tab
    whole when it was read whole, else only the Delivery cells of this run's rows, each
    guarded by its Event ID), and the state's count of events still owed."""
    outcomes = report.outcomes
    if plan.alerts_tab is not None:
        tab = apply_delivery(plan.alerts_tab, report, workbook=workbook)
        write = WritePlan(owned_tabs=[tab], guards=delivery_guards(tab, report))
    else:
        name = plan.alerts_append.name if plan.alerts_append else Tabs().alerts
        cells, guards = delivery_marks(plan.logged, outcomes, tab=name)
        write = WritePlan(cells=cells, guards=guards)
    owed = owed_cell(plan, outcomes)
    if owed is not None:
        write.cells.append(owed)
    return write


def owed_cell(
    plan: WorkbookAlertPlan, outcomes: Mapping[tuple[str, str], Delivery]
) -> CellWrite | None:
    """The state tab's count of logged events still owed once `outcomes` are recorded (None
    when the state does not keep the Alerts memory)."""
    state = plan.state_tab
    top = state.rows[0] if state is not None and state.rows else []
    if state is None or len(top) < ALERTS_OWED_COL or top[ALERTS_OWED_COL - 2] != ALERTS_OWED_LABEL:
        return None
    return CellWrite(state.name, 1, ALERTS_OWED_COL, len(still_owed(plan.pending, outcomes)))


def still_owed(
    pending: Sequence[PendingAlert], outcomes: Mapping[tuple[str, str], Delivery]
) -> set[str]:
    """The ids of the events in `pending` that some recipient still waits for once `outcomes`
    are recorded (a recipient with no outcome still waits)."""
    return {
        alert.event_id
        for alert in pending
        for recipient in alert.recipients
        if outcomes.get((alert.event_id, recipient.casefold()), PENDING).state == "pending"
    }


def counted_rows(owed: CellWrite, rows: int) -> CellWrite:
    """The state tab's count of Alerts rows, beside its count of owed events `owed`: set to
    the rows the tab was just read with, when the marks had to find their rows again (a
    person added or removed rows), so the next night adds its rows where they really end."""
    return CellWrite(owed.tab, owed.row, ALERTS_OWED_COL - 2, rows)


def delivery_guards(tab: OwnedTab, report: DeliveryReport) -> list[RowGuard]:
    """The Event ID cell, as read, of each row of the Alerts tab `tab` whose delivery `report`
    records: the write of the marks checks that every such row still holds its event (a person
    may sort the tab or insert rows while the e-mails go out), or writes nothing."""
    events = {event for event, _ in report.outcomes}
    col = ALERTS_HEADER.index("Event ID")
    return [
        RowGuard(tab.name, r, col + 1, row[col])
        for r, row in enumerate(tab.rows, start=1)
        if r >= OWNED_DATA_ROW and col < len(row) and cell_text(row[col]) in events
    ]
