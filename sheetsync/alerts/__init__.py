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

       report = deliver(all_pending, mailer, config.email, now=run_started)

   with `mailer = OutboxMailer(folder)` for `--dry-run` / `[email] outbox`, else
   `SmtpMailer(config.email, smtp_password(config.email, base_dir=...))`.

3. Per workbook, record the outcome (sent / failed: reason / still pending)::

       tab = apply_delivery(plan.alerts_tab, report, workbook=wb.name)

   and write that tab. If the run dies before this, the events are still pending and the next
   run re-sends the same digests under the same Message-IDs.

Modules: `history` (History tab), `decide` (the rules), `events` (event ids), `log` (Alerts
tab), `pending` (what is owed, rebuilt from trusted state), `recipients`, `render` (jinja2
e-mails), `send` (SMTP/outbox), `deliver`. All but `send` and `deliver` are pure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sheetsync.alerts.decide import decide_alerts, decide_grades
from sheetsync.alerts.deliver import DeliveryReport, DigestResult, deliver
from sheetsync.alerts.events import AlertEvent, EventKind, event_id
from sheetsync.alerts.history import HistoryRecord, parse_history, updated_history
from sheetsync.alerts.log import (
    AlertLogRecord,
    Delivery,
    new_log_records,
    parse_alert_log,
    updated_alerts_tab,
)
from sheetsync.alerts.pending import PendingAlert, SkippedRow, owed_alerts, skipped_outcomes
from sheetsync.alerts.render import digest_message_id, render_digest
from sheetsync.alerts.send import (
    MailDeliveryError,
    Mailer,
    MemoryMailer,
    OutboxMailer,
    SmtpMailer,
    smtp_password,
)
from sheetsync.config import Alerts, Tabs
from sheetsync.core.model import ItemState
from sheetsync.core.owned import check_owned
from sheetsync.core.plan import Grid, OwnedTab

__all__ = [
    "AlertEvent",
    "AlertLogRecord",
    "Delivery",
    "DeliveryReport",
    "DigestResult",
    "EventKind",
    "HistoryRecord",
    "MailDeliveryError",
    "Mailer",
    "MemoryMailer",
    "OutboxMailer",
    "PendingAlert",
    "SkippedRow",
    "SmtpMailer",
    "WorkbookAlertPlan",
    "apply_delivery",
    "decide_alerts",
    "deliver",
    "digest_message_id",
    "event_id",
    "parse_alert_log",
    "parse_history",
    "plan_workbook_alerts",
    "render_digest",
    "smtp_password",
]


@dataclass
class WorkbookAlertPlan:
    """What one workbook's sync writes for alerts, and what is waiting to be sent."""

    history_tab: OwnedTab
    alerts_tab: OwnedTab | None
    """None when alerts are disabled: the Alerts tab is left as it is."""
    pending: list[PendingAlert] = field(default_factory=list)
    """Every event of this workbook some recipient has not received (new and left over),
    rebuilt from History, the items and the config (see `pending`)."""
    events: list[AlertEvent] = field(default_factory=list)
    """The events this run raised."""
    skipped: list[str] = field(default_factory=list)
    """Alerts-tab rows that are pending but were not sent, each with its cell and why."""


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
) -> WorkbookAlertPlan:
    """The History and Alerts tabs for this run of one workbook, with new events as pending.

    `history_grid` and `alerts_grid` are the tabs as read (None when missing); `objectives`
    are the workbook's objectives as items keyed with their period (for end-of-period
    grades, see `decide.decide_grades`). Raises
    WorkbookLayoutError when either tab exists but was made by a person.
    """
    tabs = tabs or Tabs()
    check_owned(history_grid, tabs.history, workbook)
    check_owned(alerts_grid, tabs.alerts, workbook)
    history_tab = updated_history(
        history_grid, items, as_of, workbook, tab=tabs.history, keep_days=settings.history_days
    )
    if not settings.enabled:
        return WorkbookAlertPlan(history_tab=history_tab, alerts_tab=None)
    log = parse_alert_log(alerts_grid)
    events = decide_alerts(
        parse_history(history_grid), items, as_of, settings, log, workbook=workbook
    ) + decide_grades(objectives, as_of, settings, log, workbook=workbook)
    alerts_tab = updated_alerts_tab(
        alerts_grid, workbook, new=new_log_records(events, now, settings), tab=tabs.alerts
    )
    # Rebuilt from the tabs as written, so a first attempt and a later re-send are identical.
    pending, skipped = owed_alerts(
        parse_alert_log(alerts_tab.rows),
        parse_history(history_tab.rows),
        [*items, *objectives],
        settings,
        workbook=workbook,
        location=location,
    )
    if skipped:
        alerts_tab = updated_alerts_tab(
            alerts_tab.rows, workbook, outcomes=skipped_outcomes(skipped), tab=alerts_tab.name
        )
    problems = [s.describe(workbook, alerts_tab.name) for s in skipped]
    return WorkbookAlertPlan(history_tab, alerts_tab, pending, events, problems)


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
