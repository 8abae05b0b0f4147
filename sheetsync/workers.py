"""One workbook of a run, in this process or in a worker process (`--workers N`).

`sync_one` is what a run does with each workbook: open it, sync it (`sync.sync_workbook`), and
turn an error into that workbook's failure so the others go on. When alerts are pending the
workbook stays open: once the runner has delivered the alerts of every workbook (one digest per
person for the whole run), `record_delivery` writes the Alerts tab's delivery marks through the
same backend, so its check that nobody saved the workbook in between still holds.

With `--workers N` the runner starts N worker processes (`ops/processes.py`) and gives each the
run's `Job`. A worker syncs the workbooks it is handed and answers with plain data
(`for_parent`): the workbook's report, its pending alerts, and its scores when asked. A
workbook with pending alerts stays open in that worker, and the runner sends the delivery back
to the worker that holds it (`record_in_worker`). When that worker died in between, the new
process in its place reads the Alerts tab again and marks that (`apply_delivery` on the grid).
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sheetsync import config as cfg
from sheetsync.alerts import apply_delivery, counted_rows, delivery_guards, delivery_plan
from sheetsync.alerts.state import ALERTS_OWED_COL
from sheetsync.backends.base import OwnedTab, WorkbookBackend, WritePlan
from sheetsync.backends.gcpause import cyclic_gc_paused
from sheetsync.config import Tabs
from sheetsync.core.errors import RowsMovedError, SheetsyncError, WorkbookError
from sheetsync.ops.processes import tag
from sheetsync.sync import SyncOutcome, WorkbookReport, sync_workbook

if TYPE_CHECKING:  # delivery (smtplib, e-mail rendering) is imported only with alerts to send
    from sheetsync.alerts.deliver import DeliveryReport

log = logging.getLogger(__name__)

BackendFactory = Callable[[cfg.Workbook, cfg.Config], WorkbookBackend]


@dataclass(frozen=True)
class Job:
    """What a process needs to sync any workbook of one run (pickled into each worker)."""

    config: cfg.Config
    as_of: date
    now: datetime
    opener: BackendFactory
    """Opens a workbook's backend; a module-level function or a picklable object."""
    dry_run: bool = False
    keep_open: bool = False
    """Keep a workbook with pending alerts open for `record_delivery` (a run delivering)."""
    scored: bool = False
    """A worker sends the scores back too (validate's owner checks, the report pages)."""
    tokens: dict[Any, Any] = field(default_factory=dict)
    """Google access tokens the parent holds (`auth.held_tokens`), for the workers to use."""


def sync_one(job: Job, wb: cfg.Workbook) -> SyncOutcome:
    """Sync one workbook; an error fails only this workbook (its report says why)."""
    started = time.monotonic()
    try:
        with cyclic_gc_paused():
            outcome = _sync(job, wb)
    except WorkbookError as exc:
        outcome = SyncOutcome(WorkbookReport(wb.name, error=exc.detail))
    except SheetsyncError as exc:
        outcome = SyncOutcome(WorkbookReport(wb.name, error=str(exc)))
    except Exception as exc:  # a bug must not stop the other workbooks
        log.exception("unexpected error in workbook %s", wb.name)
        outcome = SyncOutcome(WorkbookReport(wb.name, error=f"internal error: {exc!r}"))
    if outcome.report.error:
        outcome.report.duration = time.monotonic() - started
    return outcome


def _sync(job: Job, wb: cfg.Workbook) -> SyncOutcome:
    backend = job.opener(wb, job.config)
    outcome = None
    try:
        outcome = sync_workbook(
            backend,
            wb,
            job.config,
            job.as_of,
            job.now,
            dry_run=job.dry_run,
            open_child=lambda child: job.opener(child, job.config),
        )
        return outcome
    finally:
        if not (job.keep_open and outcome and is_kept(outcome)):
            backend.close()


def is_kept(outcome: SyncOutcome) -> bool:
    """Whether the workbook stays open after its sync, for its alerts' delivery marks."""
    return bool(outcome.alerts and outcome.alerts.pending and not outcome.report.error)


def record_delivery(outcome: SyncOutcome, delivery: DeliveryReport) -> None:
    """Write the Alerts tab with each alert's delivery, through the backend that synced it,
    and close that backend. A failure becomes the workbook's error."""
    assert outcome.alerts is not None and outcome.backend is not None
    with cyclic_gc_paused():  # as for the sync: what it allocates is freed by reference counts
        plan = delivery_plan(outcome.alerts, delivery, workbook=outcome.report.name)
        try:
            write_marks(outcome.backend, plan, delivery, outcome.report.name)
        except SheetsyncError as exc:
            outcome.report.error = undelivered_marks(exc)
        finally:
            outcome.backend.close()


MARK_ATTEMPTS = 3
"""Writes of the delivery marks before giving up when a person keeps moving Alerts rows."""


def write_marks(
    backend: WorkbookBackend, plan: WritePlan, delivery: DeliveryReport, workbook: str
) -> None:
    """Write `plan` (`delivery_plan`: the Alerts tab's marks, each marked row guarded by its
    Event ID). When rows moved since the read (a person sorted the tab while the e-mails went
    out), the backend writes nothing (Google puts back what it wrote); the Alerts tab is read
    again, whole, and marked where each event now is, up to `MARK_ATTEMPTS` writes."""
    name = next((t.name for t in plan.owned_tabs), None) or next(
        (g.tab for g in plan.guards), Tabs().alerts
    )
    for attempt in range(1, MARK_ATTEMPTS + 1):
        try:
            backend.write(plan)
            return
        except RowsMovedError:
            if attempt == MARK_ATTEMPTS:
                raise
            log.info("%s: Alerts rows moved while recording delivery; reading them again", workbook)
            snapshot = backend.read([name])
            real = snapshot.find_tab(name)
            grid = snapshot.tabs[real] if real else None
            tab = apply_delivery(grid, delivery, workbook=workbook, tab=real or name)
            others = [c for c in plan.cells if c.tab != name]  # the state's count of owed
            others += [counted_rows(c, len(grid or [])) for c in others if c.col == ALERTS_OWED_COL]
            plan = WritePlan(cells=others, owned_tabs=[tab], guards=delivery_guards(tab, delivery))


def deliveries_by_workbook(
    delivery: DeliveryReport, outcomes: list[SyncOutcome]
) -> dict[str, DeliveryReport]:
    """The part of a run's delivery about each workbook's alerts, by workbook name: what its
    worker is sent (a digest lists the events of every workbook; sending all of them to each
    is quadratic, and so is picking each workbook's part out of every digest)."""
    from sheetsync.alerts.deliver import DeliveryReport

    owner = {p.event_id: o.report.name for o in outcomes if o.alerts for p in o.alerts.pending}
    parts: dict[str, DeliveryReport] = {o.report.name: DeliveryReport() for o in outcomes}
    for digest in delivery.digests:
        mine: dict[str, list[str]] = {}
        for event in digest.event_ids:
            if (name := owner.get(event)) is not None:
                mine.setdefault(name, []).append(event)
        for name, events in mine.items():
            parts[name].digests.append(dataclasses.replace(digest, event_ids=tuple(events)))
    return parts


def undelivered_marks(why: object, *, known: bool = True) -> str:
    """`known`: False when a worker died while writing the marks (they may be written)."""
    # The digests went out but are still logged as pending: the next run re-sends them under
    # the same Message-IDs, which mail systems collapse.
    if not known:
        return f"alerts were sent; whether their delivery was recorded is not known: {why}"
    return f"alerts were sent but their delivery could not be recorded: {why}"


def for_parent(outcome: SyncOutcome, *, scored: bool) -> SyncOutcome:
    """What a worker sends back: no backend, snapshot or plan; the scores only when asked; the
    alert plan without its tabs' rows (the worker writes them, the parent needs the alerts)."""
    alerts = outcome.alerts
    if alerts is not None:
        alerts = dataclasses.replace(
            alerts,
            history_tab=OwnedTab(alerts.history_tab.name, []) if alerts.history_tab else None,
            alerts_tab=OwnedTab(alerts.alerts_tab.name, []) if alerts.alerts_tab else None,
            alerts_append=None,
            logged=[],
            state_tab=OwnedTab(alerts.state_tab.name, []) if alerts.state_tab else None,
        )
    return SyncOutcome(outcome.report, outcome.scored if scored else None, alerts=alerts)


# --- in a worker process ------------------------------------------------------------------

_job: Job | None = None
_kept: dict[str, SyncOutcome] = {}
"""The workbooks this worker synced that wait for their alerts' delivery marks, by name."""


def start(job: Job) -> None:
    """A worker's setup: the run it works for (and the parent's Google tokens)."""
    global _job
    _job = job
    if job.tokens:
        from sheetsync.backends.google.auth import adopt_tokens

        adopt_tokens(job.tokens)


def _current_job() -> Job:
    if _job is None:
        raise RuntimeError("not a worker process: start(job) was not called")
    return _job


def sync_in_worker(wb: cfg.Workbook) -> SyncOutcome:
    """`sync_one` in a worker: log lines name the workbook; an open workbook is kept here."""
    job = _current_job()
    tag(workbook=wb.name)
    try:
        outcome = sync_one(job, wb)
    finally:
        tag(workbook=None)
    if job.keep_open and is_kept(outcome):
        _kept[wb.name] = outcome
    return for_parent(outcome, scored=job.scored)


def record_in_worker(wb: cfg.Workbook, delivery: DeliveryReport) -> str | None:
    """Write a workbook's delivery marks (see `record_delivery`); the error, if any.

    A workbook this process does not hold (the worker that synced it died) is opened again:
    its Alerts tab is read as it is now and marked.
    """
    tag(workbook=wb.name)
    try:
        kept = _kept.pop(wb.name, None)
        if kept is not None:
            record_delivery(kept, delivery)
            return kept.report.error
        return _record_again(_current_job(), wb, delivery)
    finally:
        tag(workbook=None)


def _record_again(job: Job, wb: cfg.Workbook, delivery: DeliveryReport) -> str | None:
    name = job.config.tabs_for(wb).alerts
    try:
        backend = job.opener(wb, job.config)
        try:
            snapshot = backend.read([name])
            real = snapshot.find_tab(name)
            grid = snapshot.tabs[real] if real else None
            tab = apply_delivery(grid, delivery, workbook=wb.name, tab=real or name)
            plan = WritePlan(owned_tabs=[tab], guards=delivery_guards(tab, delivery))
            write_marks(backend, plan, delivery, wb.name)
        finally:
            backend.close()
    except SheetsyncError as exc:
        return undelivered_marks(exc)
    return None


def close_in_worker() -> None:
    """Close every workbook still kept (a run that ended before recording delivery)."""
    while _kept:
        _, outcome = _kept.popitem()
        if outcome.backend is not None:
            outcome.backend.close()
