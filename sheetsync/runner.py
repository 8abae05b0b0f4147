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
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync import config as cfg
from sheetsync.alerts import (
    Mailer,
    OutboxMailer,
    PendingAlert,
    SmtpMailer,
    apply_delivery,
    deliver,
    smtp_password,
)
from sheetsync.alerts.chat import ChatPoster, channel_url
from sheetsync.alerts.deliver import DeliveryReport, write_previews
from sheetsync.alerts.recipients import is_chat, unreachable_owners
from sheetsync.alerts.send import MailDeliveryError, missing_password_hint
from sheetsync.backends.base import WorkbookBackend, WritePlan
from sheetsync.core.errors import ConfigError, SheetsyncError, WorkbookError
from sheetsync.core.model import Status
from sheetsync.ops.logsetup import register_secret
from sheetsync.sync import SyncOutcome, WorkbookReport, sync_workbook

if TYPE_CHECKING:
    from sheetsync.backends.google.session import RequestLimiter

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS, EXIT_CONFIG, EXIT_LOCKED = 0, 1, 2, 3

BackendFactory = Callable[[cfg.Workbook, cfg.Config], WorkbookBackend]


def open_backend(
    wb: cfg.Workbook,
    config: cfg.Config,
    limiter: RequestLimiter | None = None,
    *,
    stale_temp_before: float | None = None,
) -> WorkbookBackend:
    """The real backend for a workbook entry: an .xlsx file or a Google spreadsheet.

    `stale_temp_before`: when the run took its lock; an .xlsx file's leftover temporary files
    from saves killed before then are removed when it is read.
    """
    if wb.path:
        from sheetsync.backends.excel import ExcelWorkbook
        from sheetsync.backends.excel.limits import MB, Limits

        limits = Limits(config.excel.max_part_mb * MB, config.excel.max_text_chars)
        return ExcelWorkbook(
            config.resolve(wb.path),
            label=wb.name,
            backups=config.excel.backups,
            limits=limits,
            stale_temp_before=stale_temp_before,
        )
    from sheetsync.backends.google import GoogleSheetsWorkbook, RetryPolicy
    from sheetsync.backends.google.known_tabs import KnownTabs

    credentials = wb.credentials or config.google.credentials
    return GoogleSheetsWorkbook(
        wb.spreadsheet or "",
        credentials=credentials
        if credentials in (None, "default")
        else str(config.resolve(credentials)),
        api_url=config.google.api_url,
        label=wb.name,
        timeout=config.google.timeout,
        retry=RetryPolicy(
            max_attempts=config.google.max_attempts,
            max_seconds=config.google.max_retry_seconds,
        ),
        limiter=limiter,
        known_tabs=KnownTabs(remembered_tabs_dir(config)),
    )


def remembered_tabs_dir(config: cfg.Config) -> Path | None:
    """Where Google tab titles are remembered between runs: `<state_dir>/google-tabs` for a
    config read from a file (or naming an absolute state_dir); None (this process only) for
    one built in code, whose relative state_dir would land in the current directory."""
    state = Path(config.state_dir).expanduser()
    if state.is_absolute() or Path(config.source).is_file():
        return config.resolve(config.state_dir) / "google-tabs"
    return None


@dataclass
class RunReport:
    as_of: date
    workbooks: list[WorkbookReport] = field(default_factory=list)
    dry_run: bool = False
    mode: str = "run"
    """"run", "dry run" or "validate": what the person asked for, for the summary's title."""
    duration: float = 0.0
    alerts_sent: int = 0
    """E-mails (one digest per recipient) the mail server or outbox accepted in this run."""
    alerts_failed: int = 0
    """E-mails refused for good for their recipient (5xx to RCPT)."""
    alerts_pending: int = 0
    """Alerts still owed to someone after this run (they are tried again on the next run)."""
    alerts_unaddressed: int = 0
    """Alerts raised for an owner with no email address: logged in the Alerts tab only."""
    would_send: int = 0
    """Dry run: the alerts a real run would send now ..."""
    would_reach: int = 0
    """... to how many people ..."""
    would_post: int = 0
    """... and to how many chat channels."""
    previews: list[str] = field(default_factory=list)
    """Dry run with --preview: the .eml files written."""
    outbox: str = ""
    """The `[email] outbox` folder the e-mails were written to (no mail server), if any."""
    mail_configured: bool = True
    """False when neither [email] host nor outbox is set: pending alerts then do not fail, and
    `validate` lists unreachable owners without failing."""
    rows_skipped: int = 0
    """Alerts-tab rows refused this run (forged, edited, unreadable): reported, never sent."""
    alert_errors: list[str] = field(default_factory=list)
    setting_problems: list[str] = field(default_factory=list)
    """validate: alert settings that would lose alerts (e.g. a username with no password)."""
    invalid_rows_fail: bool = True
    """[run] invalid_rows: "fail" (True) makes invalid rows exit 1; "warn" reports them only,
    so exit 1 (and the heartbeat's failure ping) means the job itself is broken."""

    @property
    def failed(self) -> list[WorkbookReport]:
        return [w for w in self.workbooks if w.error]

    @property
    def exit_code(self) -> int:
        """0: every workbook synced with no invalid rows (or they only warn) and every alert
        delivered; 1: see `failure`."""
        return EXIT_OK if self.failure is None else EXIT_PROBLEMS

    @property
    def invalid_rows(self) -> int:
        return sum(w.invalid_rows for w in self.workbooks)

    @property
    def failure(self) -> str | None:
        """Why the run exits 1: "job" when sheetsync could not do its work (a workbook failed,
        an alert could not be delivered or is still pending while mail is configured, or
        `validate` found an alert setting or owner that would lose alerts), "invalid_rows" when
        only people's data is wrong and [run] invalid_rows = "fail"; None for exit 0."""
        undelivered = self.alerts_failed or (self.alerts_pending and self.mail_configured)
        undelivered = undelivered or self.rows_skipped
        recipients = self.mail_configured and (
            self.setting_problems or any(w.recipient_problems for w in self.workbooks)
        )
        if self.failed or undelivered or recipients:
            return "job"
        if self.invalid_rows and (self.invalid_rows_fail or self.mode == "validate"):
            return "invalid_rows"
        return None

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "dry_run": self.dry_run,
            "exit_code": self.exit_code,
            "failure": self.failure,
            "invalid_rows": self.invalid_rows,
            "invalid_rows_policy": "fail" if self.invalid_rows_fail else "warn",
            "duration_seconds": round(self.duration, 3),
            "alerts": {
                "sent": self.alerts_sent,
                "failed": self.alerts_failed,
                "pending": self.alerts_pending,
                "no_recipient": self.alerts_unaddressed,
                "would_send": self.would_send,
                "would_reach": self.would_reach,
                "would_post": self.would_post,
                "errors": self.alert_errors,
                "setting_problems": self.setting_problems,
            },
            "workbooks": [
                {
                    "name": w.name,
                    "location": w.location,
                    "ok": w.ok,
                    "error": w.error,
                    "objectives": len(w.objectives),
                    "objectives_by_status": _counts(w.objective_statuses),
                    "key_results": _counts(w.key_results),
                    "kpis": _counts(w.kpis),
                    "invalid_rows": w.invalid_rows,
                    "problems": w.problems,
                    "warnings": w.warnings,
                    "layout": [layout.to_json() for layout in w.layouts],
                    "recipient_problems": w.recipient_problems,
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


def _counts(counter: Counter[Status]) -> dict[str, int]:
    return {status.value: n for status, n in Status.in_order(counter)}


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


def run_in_waves(
    selected: list[cfg.Workbook],
    step: Callable[[cfg.Workbook], SyncOutcome],
    *,
    workers: int = 1,
    on_done: Callable[[WorkbookReport], None] | None = None,
    stop: threading.Event | None = None,
) -> list[SyncOutcome]:
    """`run_workbooks` over `children_first` waves; the outcomes in the workbooks' order."""
    outcomes = []
    for wave in children_first(selected):
        outcomes += run_workbooks(wave, step, workers=workers, on_done=on_done, stop=stop)
    order = {wb.name: i for i, wb in enumerate(selected)}
    outcomes.sort(key=lambda o: order.get(o.report.name, len(order)))
    return outcomes


def page_names(config: cfg.Config) -> dict[str, str]:
    """Each workbook's report page file name, unique, in the config's order."""
    from sheetsync.report import file_name_for

    taken: set[str] = set()
    return {wb.name: file_name_for(wb.name, taken) for wb in config.workbooks}


def report_links(config: cfg.Config) -> dict[str, str]:
    """Each workbook's report page under `[report] url` (empty when no url is set)."""
    url = config.report.url
    return {name: url + page for name, page in page_names(config).items()} if url else {}


def write_report(
    config: cfg.Config,
    out_dir: Path,
    *,
    as_of: date,
    now: datetime,
    workers: int = 1,
    factory: BackendFactory | None = None,
) -> tuple[list[Path], list[WorkbookReport]]:
    """Read and score every workbook (writing none of them) and write the report pages.

    Returns the files written and each workbook's report (errors included: a workbook that
    cannot be read still gets a page that says so).
    """
    from sheetsync.report import build_page, write_reports

    factory = factory or open_backend

    def step(wb: cfg.Workbook) -> SyncOutcome:
        backend = factory(wb, config)
        try:
            return sync_workbook(
                backend,
                wb,
                config,
                as_of,
                now,
                dry_run=True,
                open_child=lambda child: factory(child, config),
            )
        finally:
            backend.close()

    outcomes = run_in_waves(config.workbooks, step, workers=workers)
    names = page_names(config)
    pages = []
    for o in outcomes:
        scored = o.scored
        pages.append(
            build_page(
                o.report.name,
                names[o.report.name],
                as_of,
                location=o.report.location,
                tree=scored.alignment.nodes if scored and scored.alignment.used else (),
                objectives=scored.objectives if scored else (),
                key_results=scored.key_results if scored else (),
                kpis=scored.kpi_scores if scored else (),
                problems=scored.problems if scored else (),
                error=o.report.error,
            )
        )
    return write_reports(pages, as_of, out_dir), [o.report for o in outcomes]


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
    preview: str | None = None,
    check_recipients: bool = False,
    chat: ChatPoster | None = None,
) -> RunReport:
    """Sync every workbook, then deliver the alerts of all of them as one digest per recipient.

    Never raises for one workbook's failure. `mailer` overrides the one the config chooses. A
    dry run sends and records nothing: it counts what a real run would send, and with
    `preview` writes those e-mails to that folder. `check_recipients` (validate) lists every
    owner alerts cannot reach.
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

    outcomes = run_in_waves(selected, step, workers=workers, on_done=on_done, stop=stop)
    report = RunReport(
        as_of,
        [o.report for o in outcomes],
        dry_run=dry_run,
        invalid_rows_fail=config.run.invalid_rows == "fail",
    )
    report.mode = "dry run" if dry_run else "run"
    if check_recipients and config.alerts.enabled:
        by_name = {wb.name: wb for wb in selected}
        for o in outcomes:
            if o.scored is not None and o.report.name in by_name:
                settings = config.alerts_for(by_name[o.report.name])
                o.report.recipient_problems = unreachable_owners(o.scored.items, settings)
    try:
        if alerts:
            _deliver_alerts(
                outcomes, config, report, now, dry_run=dry_run, mailer=mailer, stop=stop,
                preview=preview, chat=chat,
            )  # fmt: skip
    finally:
        for o in outcomes:
            if o.backend is not None and o.alerts and o.alerts.pending:
                o.backend.close()
    report.duration = time.monotonic() - started
    return report


def choose_mailer(
    config: cfg.Config, *, stop: threading.Event | None = None
) -> tuple[Mailer | None, str]:
    """Outbox folder for `[email] outbox`, SMTP when a host is set, else none."""
    if config.email.outbox:
        folder = config.resolve(config.email.outbox)
        return OutboxMailer(folder), f"written to {folder}"
    if config.email.host:
        try:
            password = smtp_password(config.email, base_dir=config.resolve("."))
        except ConfigError as exc:
            raise ConfigError(exc.message, path=exc.path or config.source, key=exc.key) from exc
        register_secret(password)
        return SmtpMailer(config.email, password, stop=stop), f"sent via {config.email.host}"
    return None, "not sent: set [email] host (or outbox) in the config"


def choose_chat(config: cfg.Config) -> ChatPoster | None:
    """The chat poster for `[alerts.channels]` (URLs resolved, secrets registered), or None."""
    channels = config.alerts.channels
    if not channels or not config.alerts.enabled:
        return None
    try:
        return ChatPoster({name: channel_url(name, url) for name, url in channels.items()})
    except ConfigError as exc:
        raise ConfigError(exc.message, path=config.source, key=exc.key) from exc


def alert_setting_problems(config: cfg.Config) -> list[str]:
    """What `validate` reports about the mail settings: each one would leave alerts unsent."""
    if not config.alerts.enabled:
        return []
    email = config.email
    problems = []
    if email.host and email.username and not email.outbox:
        try:
            password = smtp_password(email, base_dir=config.resolve("."))
        except ConfigError as exc:
            problems.append(f"[email] {exc.message}")
        else:
            if password is None:
                problems.append(
                    f"[email] username is set but there is no SMTP password: "
                    f"{missing_password_hint(email)}"
                )
    return problems


class _NoMailServer:
    """The mailer when only chat is configured: e-mails stay pending, saying why."""

    def __init__(self, why: str) -> None:
        self.why = why

    def send(self, msg: object) -> None:
        raise MailDeliveryError(self.why, session=True)


def _still_pending(pending: list[PendingAlert], delivery: DeliveryReport | None) -> int:
    """How many alerts are still owed to someone after `delivery` (all of them without one)."""
    owed = set()
    for alert in pending:
        for recipient in alert.recipients:
            outcome = delivery.outcome(alert.event_id, recipient) if delivery else None
            if outcome is None or outcome.state == "pending":
                owed.add(alert.event_id)
    return len(owed)


def _deliver_alerts(
    outcomes: list[SyncOutcome],
    config: cfg.Config,
    report: RunReport,
    now: datetime,
    *,
    dry_run: bool,
    mailer: Mailer | None,
    stop: threading.Event | None = None,
    preview: str | None = None,
    chat: ChatPoster | None = None,
) -> None:
    planned = [o for o in outcomes if o.alerts and o.alerts.pending and not o.report.error]
    pending = [p for o in planned for p in o.alerts.pending]  # type: ignore[union-attr]
    for o in outcomes:
        if o.alerts and not o.report.error:
            report.alert_errors += o.alerts.skipped
            report.rows_skipped += len(o.alerts.skipped)
    pending_ids = {p.event_id for p in pending}
    report.alerts_unaddressed = sum(
        1 for o in outcomes if o.alerts for e in o.alerts.events if e.id not in pending_ids
    )
    if report.alerts_unaddressed:
        report.alert_errors.append(
            f"{report.alerts_unaddressed} alerts have no recipient: put an email address in the "
            "Owner cell or map the owner under [alerts.owners] (see the Alerts tab)"
        )
    if dry_run:
        # What people read: one entry per item in a digest, however many events it has news of.
        report.would_send = len({(p.workbook, p.item) for p in pending})
        reached = {r.casefold() for p in pending for r in p.recipients}
        report.would_reach = len({r for r in reached if not is_chat(r)})
        report.would_post = len({r for r in reached if is_chat(r)})
        if preview:
            paths = write_previews(pending, Path(preview), config.email, now, report_links(config))
            report.previews = [str(p) for p in paths]
        return
    if not pending:
        return
    if chat is None and any(is_chat(r) for p in pending for r in p.recipients):
        chat = choose_chat(config)
    how = "given mailer"
    if mailer is None:
        mailer, how = choose_mailer(config, stop=stop)
    if mailer is None:
        # No mail configured at all: the e-mails stay pending in the Alerts tab (nothing is
        # lost) without failing every nightly run; chat posts still go out.
        report.mail_configured = False
        if chat is None:
            report.alerts_pending = _still_pending(pending, None)
            report.alert_errors.append(f"{report.alerts_pending} alerts {how}")
            return
        mailer = _NoMailServer(how)
    delivery = deliver(
        pending,
        mailer,
        config.email,
        now,
        stop=stop,
        chat=chat,
        report_links=report_links(config),
    )
    report.alerts_sent = len(delivery.sent)
    if isinstance(mailer, OutboxMailer):
        report.outbox = str(mailer.folder)
    report.alerts_failed = len(delivery.failed)
    report.alerts_pending = _still_pending(pending, delivery)
    report.alert_errors += delivery.problems
    log.info("alerts: %d digests %s", len(delivery.sent), how)
    sent = {event for (event, _), d in delivery.outcomes.items() if d.state == "sent"}
    for o in planned:
        assert o.alerts is not None
        o.report.alerts_sent = len({p.event_id for p in o.alerts.pending} & sent)
    for o in planned:
        assert o.alerts is not None and o.backend is not None
        tab = apply_delivery(o.alerts.alerts_tab, delivery, workbook=o.report.name)
        try:
            o.backend.write(WritePlan(owned_tabs=[tab]))
        except SheetsyncError as exc:
            # The digests went out but are still logged as pending: the next run re-sends
            # them under the same Message-IDs, which mail systems collapse.
            o.report.error = f"alerts were sent but their delivery could not be recorded: {exc}"
