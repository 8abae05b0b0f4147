"""A whole run: every configured workbook (concurrently, one shard), then alert delivery.

A failing workbook is recorded and the others go on; the report's exit code tells cron what
happened. This is the only place besides the CLI that chooses real adapters (`open_backend`).
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sheetsync import config as cfg
from sheetsync.alerts import (
    Mailer,
    OutboxMailer,
    SmtpMailer,
    apply_delivery,
    deliver,
    smtp_password,
)
from sheetsync.backends.base import WorkbookBackend, WritePlan
from sheetsync.core.errors import ConfigError, SheetsyncError, WorkbookError
from sheetsync.ops.logsetup import register_secret
from sheetsync.sync import SyncOutcome, WorkbookReport, sync_workbook

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3

BackendFactory = Callable[[cfg.Workbook, cfg.Config], WorkbookBackend]


def open_backend(
    wb: cfg.Workbook, config: cfg.Config, limiter: Callable[[], object] | None = None
) -> WorkbookBackend:
    """The real backend for a workbook entry: an .xlsx file or a Google spreadsheet."""
    if wb.path:
        from sheetsync.backends.excel import ExcelWorkbook

        return ExcelWorkbook(config.resolve(wb.path), label=wb.name, backups=config.excel.backups)
    from sheetsync.backends.google import GoogleSheetsWorkbook, RetryPolicy

    credentials = wb.credentials or config.google.credentials
    return GoogleSheetsWorkbook(
        wb.spreadsheet or "",
        credentials=str(config.resolve(credentials)) if credentials else None,
        api_url=config.google.api_url,
        label=wb.name,
        timeout=config.google.timeout,
        retry=RetryPolicy(
            max_attempts=config.google.max_attempts,
            max_seconds=config.google.max_retry_seconds,
        ),
        limiter=limiter,
    )


@dataclass
class RunReport:
    as_of: date
    workbooks: list[WorkbookReport] = field(default_factory=list)
    dry_run: bool = False
    duration: float = 0.0
    alerts_sent: int = 0
    alerts_failed: int = 0
    alerts_pending: int = 0
    alerts_unaddressed: int = 0
    """Alerts raised for an owner with no email address: logged in the Alerts tab only."""
    alert_errors: list[str] = field(default_factory=list)

    @property
    def failed(self) -> list[WorkbookReport]:
        return [w for w in self.workbooks if w.error]

    @property
    def exit_code(self) -> int:
        """0: every workbook synced with no invalid rows and every alert delivered; 1: a
        workbook failed or has invalid rows, or an alert could not be delivered."""
        undelivered = self.alerts_failed or self.alerts_pending
        if self.failed or any(w.invalid_rows for w in self.workbooks) or undelivered:
            return EXIT_PROBLEMS
        return EXIT_OK

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "duration_seconds": round(self.duration, 3),
            "alerts": {
                "sent": self.alerts_sent,
                "failed": self.alerts_failed,
                "pending": self.alerts_pending,
                "no_recipient": self.alerts_unaddressed,
                "errors": self.alert_errors,
            },
            "workbooks": [
                {
                    "name": w.name,
                    "location": w.location,
                    "ok": w.ok,
                    "error": w.error,
                    "objectives": len(w.objectives),
                    "key_results": _counts(w.key_results),
                    "kpis": _counts(w.kpis),
                    "invalid_rows": w.invalid_rows,
                    "problems": w.problems,
                    "warnings": w.warnings,
                    "layout": [layout.to_json() for layout in w.layouts],
                    "wrote": w.wrote,
                    "cells_changed": w.cells_changed,
                    "alerts_raised": w.alerts_planned,
                    "alerts_sent": w.alerts_sent,
                    "api_requests": w.requests,
                    "duration_seconds": round(w.duration, 3),
                }
                for w in self.workbooks
            ],
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, ensure_ascii=False)


def _counts(counter: Counter[Any]) -> dict[str, int]:
    return {str(k.value if hasattr(k, "value") else k): v for k, v in counter.items() if v}


def run_workbooks(
    workbooks: list[cfg.Workbook],
    step: Callable[[cfg.Workbook], SyncOutcome],
    *,
    workers: int = 1,
    on_done: Callable[[WorkbookReport], None] | None = None,
    stop: threading.Event | None = None,
) -> list[SyncOutcome]:
    """Run `step` for each workbook, `workers` at a time; an error fails only its workbook.

    When `stop` is set (SIGTERM in `serve`), workbooks not yet started are skipped and
    reported as such; the ones in hand finish.
    """

    def guarded(wb: cfg.Workbook) -> SyncOutcome:
        started = time.monotonic()
        if stop is not None and stop.is_set():
            return SyncOutcome(WorkbookReport(wb.name, error="skipped: sheetsync was stopping"))
        try:
            outcome = step(wb)
        except WorkbookError as exc:
            outcome = SyncOutcome(WorkbookReport(wb.name, error=exc.detail))
        except SheetsyncError as exc:
            outcome = SyncOutcome(WorkbookReport(wb.name, error=str(exc)))
        except Exception as exc:  # a bug must not stop the other workbooks
            log.exception("unexpected error in workbook %s", wb.name)
            outcome = SyncOutcome(WorkbookReport(wb.name, error=f"internal error: {exc!r}"))
        if outcome.report.error:
            outcome.report.duration = time.monotonic() - started
            log.error("%s: %s", wb.name, outcome.report.error)
        if on_done:
            on_done(outcome.report)
        return outcome

    if workers <= 1 or len(workbooks) <= 1:
        return [guarded(wb) for wb in workbooks]
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sync") as pool:
        return list(pool.map(guarded, workbooks))


def children_first(workbooks: list[cfg.Workbook]) -> list[list[cfg.Workbook]]:
    """Waves of workbooks: each parent after the children it reads that are in this run.

    A parent reads its children's Summary; when a child is synced by the same process, that
    read then sees tonight's scores. Children in another shard are read as they last were.
    """
    present = {wb.name: wb for wb in workbooks}
    levels: dict[str, int] = {}

    def level(wb: cfg.Workbook) -> int:
        if wb.name not in levels:
            inside = [present[c] for c in wb.children if c in present]
            levels[wb.name] = 1 + max(map(level, inside)) if inside else 0
        return levels[wb.name]

    waves: list[list[cfg.Workbook]] = []
    for wb in workbooks:
        depth = level(wb)
        waves += [[] for _ in range(depth + 1 - len(waves))]
        waves[depth].append(wb)
    return [wave for wave in waves if wave]


def run_all(
    config: cfg.Config,
    *,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    workers: int = 1,
    workbooks: list[cfg.Workbook] | None = None,
    factory: BackendFactory | None = None,
    on_done: Callable[[WorkbookReport], None] | None = None,
    stop: threading.Event | None = None,
    alerts: bool = True,
    mailer: Mailer | None = None,
) -> RunReport:
    """Sync every workbook, then deliver the alerts of all of them as one digest per recipient.

    Never raises for one workbook's failure. `mailer` overrides the one the config chooses.
    """
    started = time.monotonic()
    factory = factory or open_backend
    selected = config.workbooks if workbooks is None else workbooks

    def step(wb: cfg.Workbook) -> SyncOutcome:
        backend = factory(wb, config)
        outcome = None
        try:
            outcome = sync_workbook(
                backend,
                wb,
                config,
                as_of,
                now,
                dry_run=dry_run,
                open_child=lambda child: factory(child, config),
            )
            return outcome
        finally:
            if not (alerts and outcome and outcome.alerts and outcome.alerts.pending):
                backend.close()

    outcomes = []
    for wave in children_first(selected):
        outcomes += run_workbooks(wave, step, workers=workers, on_done=on_done, stop=stop)
    order = {wb.name: i for i, wb in enumerate(selected)}
    outcomes.sort(key=lambda o: order.get(o.report.name, len(order)))
    report = RunReport(as_of, [o.report for o in outcomes], dry_run=dry_run)
    try:
        if alerts:
            _deliver_alerts(outcomes, config, report, now, dry_run=dry_run, mailer=mailer)
    finally:
        for o in outcomes:
            if o.backend is not None and o.alerts and o.alerts.pending:
                o.backend.close()
    report.duration = time.monotonic() - started
    return report


def choose_mailer(config: cfg.Config, *, dry_run: bool) -> tuple[Mailer | None, str]:
    """Outbox folder for --dry-run and `[email] outbox`, SMTP when a host is set, else none."""
    if dry_run or config.email.outbox:
        folder = config.resolve(config.email.outbox or f"{config.state_dir}/dry-run-outbox")
        return OutboxMailer(folder), f"written to {folder}"
    if config.email.host:
        try:
            password = smtp_password(config.email, base_dir=config.resolve("."))
        except ConfigError as exc:
            raise ConfigError(exc.message, path=exc.path or config.source, key=exc.key) from exc
        register_secret(password)
        return SmtpMailer(config.email, password), f"sent via {config.email.host}"
    return None, "not sent: set [email] host (or outbox) in the config"


def _deliver_alerts(
    outcomes: list[SyncOutcome],
    config: cfg.Config,
    report: RunReport,
    now: datetime,
    *,
    dry_run: bool,
    mailer: Mailer | None,
) -> None:
    planned = [o for o in outcomes if o.alerts and o.alerts.pending and not o.report.error]
    pending = [p for o in planned for p in o.alerts.pending]  # type: ignore[union-attr]
    pending_ids = {p.event_id for p in pending}
    report.alerts_unaddressed = sum(
        1 for o in outcomes if o.alerts for e in o.alerts.events if e.id not in pending_ids
    )
    if report.alerts_unaddressed:
        report.alert_errors.append(
            f"{report.alerts_unaddressed} alerts have no recipient: put an email address in the "
            "Owner cell or map the owner under [alerts.owners] (see the Alerts tab)"
        )
    if not pending:
        return
    how = "given mailer"
    if mailer is None:
        mailer, how = choose_mailer(config, dry_run=dry_run)
    if mailer is None:
        # No mail configured at all: the events stay pending in the Alerts tab (nothing is
        # lost) without failing every nightly run.
        report.alert_errors.append(f"{len({p.event_id for p in pending})} alerts {how}")
        return
    delivery = deliver(pending, mailer, config.email, now)
    report.alerts_sent = len(delivery.sent)
    report.alerts_failed = len(delivery.failed)
    report.alerts_pending = len(delivery.pending)
    report.alert_errors += delivery.problems
    log.info("alerts: %d digests %s", len(delivery.sent), how)
    sent = {event for (event, _), d in delivery.outcomes.items() if d.state == "sent"}
    for o in planned:
        assert o.alerts is not None
        o.report.alerts_sent = len({p.event_id for p in o.alerts.pending} & sent)
    if dry_run:
        return
    for o in planned:
        assert o.alerts is not None and o.backend is not None
        tab = apply_delivery(o.alerts.alerts_tab, delivery, workbook=o.report.name)
        try:
            o.backend.write(WritePlan(owned_tabs=[tab]))
        except SheetsyncError as exc:
            # The digests went out but are still logged as pending: the next run re-sends
            # them under the same Message-IDs, which mail systems collapse.
            o.report.error = f"alerts were sent but their delivery could not be recorded: {exc}"
