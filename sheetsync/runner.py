"""A whole run: every configured workbook (in worker processes with `--workers N`, one shard),
then alert delivery.

A failing workbook is recorded and the others go on; the report's exit code tells cron what
happened. This is the only place besides the CLI that chooses real adapters (`open_backend`).

With one worker every workbook is synced in this process, one after the other. With more, in
that many worker processes (`workers.py`, `ops/processes.py`): parsing and scoring are
CPU-bound Python, which threads cannot run on two cores at once. Either way the run is the
same: children before their parents (`children_first`), then this process delivers the
alerts of every workbook as one digest per person, then each workbook with alerts records
their delivery in its Alerts tab through the backend that synced it.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sheetsync import config as cfg
from sheetsync.alerts import still_owed
from sheetsync.alerts.recipients import is_chat, unreachable_owners
from sheetsync.backends.base import WorkbookBackend
from sheetsync.backends.gcpause import collector_skips_what_lives_now, cyclic_gc_paused
from sheetsync.core.errors import ConfigError
from sheetsync.core.model import Status
from sheetsync.ops.logsetup import register_secret
from sheetsync.ops.processes import WorkerDied
from sheetsync.sync import SyncOutcome, WorkbookReport
from sheetsync.warm import worker_modules
from sheetsync.workers import (
    BackendFactory,
    Job,
    close_in_worker,
    deliveries_by_workbook,
    is_kept,
    record_delivery,
    record_in_worker,
    start,
    sync_in_worker,
    sync_one,
    undelivered_marks,
)

# Delivery (smtplib, ssl, e-mail rendering, chat), the worker pool and the backends are
# imported where a run first needs them: a run with no alert to send, one worker or no
# Google workbook pays for none of them.
if TYPE_CHECKING:
    from sheetsync.alerts import Mailer, PendingAlert
    from sheetsync.alerts.chat import ChatPoster
    from sheetsync.alerts.deliver import DeliveryReport
    from sheetsync.backends.google.session import RequestLimiter

log = logging.getLogger(__name__)

EXIT_OK, EXIT_PROBLEMS = 0, 1

__all__ = ["BackendFactory", "BackendOpener", "RunReport", "open_backend", "run_all"]


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

    return GoogleSheetsWorkbook(
        wb.spreadsheet or "",
        credentials=google_credentials(wb, config),
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


def google_credentials(wb: cfg.Workbook, config: cfg.Config) -> str | None:
    """The credentials a Google workbook uses: a file's resolved path, "default" or None."""
    credentials = wb.credentials or config.google.credentials
    if credentials in (None, "default"):
        return credentials
    return str(config.resolve(credentials))


@dataclass(frozen=True)
class BackendOpener:
    """`open_backend` with the run's rate limiter and lock time, as one picklable object
    (worker processes get it at their start: a limiter shared across them can only cross
    then)."""

    limiter: RequestLimiter | None = None
    stale_temp_before: float | None = None

    def __call__(self, wb: cfg.Workbook, config: cfg.Config) -> WorkbookBackend:
        return open_backend(wb, config, self.limiter, stale_temp_before=self.stale_temp_before)


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
    alerts_unsent: int = 0
    """Alerts logged `not sent` because no mail server is configured (they do not fail)."""
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
                "not_sent": self.alerts_unsent,
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


def children_first(workbooks: list[cfg.Workbook]) -> list[list[cfg.Workbook]]:
    """Waves of workbooks: each parent after the children it reads that are in this run.

    A parent reads its children's Summary; when a child is synced by the same run, that
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


class _InThisProcess:
    """The workbooks synced here, one at a time (`--workers 1`)."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._kept: list[SyncOutcome] = []

    def sync(self, wave: list[cfg.Workbook], finished: _Finished) -> list[SyncOutcome]:
        outcomes = []
        for wb in wave:
            outcome = finished(wb, partial(sync_one, self.job, wb))
            if self.job.keep_open and is_kept(outcome):
                self._kept.append(outcome)
            outcomes.append(outcome)
        return outcomes

    def record(self, planned: list[SyncOutcome], delivery: DeliveryReport) -> None:
        parts = deliveries_by_workbook(delivery, planned)
        for o in planned:
            record_delivery(o, parts[o.report.name])

    def close(self) -> None:
        for o in self._kept:
            if o.backend is not None:
                o.backend.close()


class _InWorkers:
    """The workbooks synced in worker processes, each by the first one free."""

    def __init__(self, job: Job, count: int, workbooks: Sequence[cfg.Workbook]) -> None:
        from sheetsync.ops.processes import WorkerProcesses

        # What a worker needs, imported once in the fork server rather than in each worker.
        self.pool = WorkerProcesses(count, start, (job,), preload=worker_modules(workbooks))
        self._holder: dict[str, int] = {}
        """The worker holding each workbook open for its delivery marks."""
        self._workbooks: dict[str, cfg.Workbook] = {}
        self.job = job

    def sync(self, wave: list[cfg.Workbook], finished: _Finished) -> list[SyncOutcome]:
        def one(slot: int, wb: cfg.Workbook) -> SyncOutcome:
            outcome = finished(wb, lambda: self.pool.call(slot, sync_in_worker, wb))
            if self.job.keep_open and is_kept(outcome):
                self._holder[wb.name], self._workbooks[wb.name] = slot, wb
            return outcome

        # This process only waits here, and receives the answers: its collector would rescan
        # them (and everything it holds) again and again, on a core the workers need.
        with cyclic_gc_paused():
            return self.pool.for_each(wave, one)

    def record(self, planned: list[SyncOutcome], delivery: DeliveryReport) -> None:
        parts = deliveries_by_workbook(delivery, planned)

        def one(slot: int, o: SyncOutcome) -> None:
            wb = self._workbooks[o.report.name]
            mine = parts[o.report.name]
            try:
                error = self.pool.call(slot, record_in_worker, wb, mine)
            except WorkerDied:
                # Marking is the same whether or not the dead worker had written it: a new
                # process reads the Alerts tab as it is now and marks what is missing.
                try:
                    error = self.pool.call(slot, record_in_worker, wb, mine)
                except WorkerDied as exc:
                    error = undelivered_marks(exc, known=not exc.started)
            if error:
                o.report.error = error
            self._holder.pop(wb.name, None)

        with cyclic_gc_paused():
            self.pool.for_each(planned, one, slot_of=lambda o: self._holder[o.report.name])

    def close(self) -> None:
        try:
            if self._holder:
                self.pool.each_process(close_in_worker)
        finally:
            self.pool.close()


class _Finished:
    """Runs one workbook's sync and does what follows in this process: a worker that died
    fails its workbook, `stop` skips what has not started, errors are logged, `on_done`."""

    def __init__(
        self,
        on_done: Callable[[WorkbookReport], None] | None,
        stop: threading.Event | None,
    ) -> None:
        self.on_done = on_done
        self.stop = stop

    def __call__(self, wb: cfg.Workbook, sync: Callable[[], SyncOutcome]) -> SyncOutcome:
        started = time.monotonic()
        if self.stop is not None and self.stop.is_set():
            return SyncOutcome(WorkbookReport(wb.name, error="skipped: sheetsync was stopping"))
        try:
            outcome = sync()
        except WorkerDied as exc:
            error = f"not synced: {exc}"
            if exc.started:  # it may have written the workbook: say so, never sync it twice
                error = (
                    f"outcome unknown: {exc}; it may have been written, the next run syncs it again"
                )
            outcome = SyncOutcome(WorkbookReport(wb.name, error=error))
            outcome.report.duration = time.monotonic() - started
        if outcome.report.error:
            log.error("%s: %s", wb.name, outcome.report.error)
        if self.on_done:
            self.on_done(outcome.report)
        return outcome


def _where(
    job: Job, workers: int, workbooks: Sequence[cfg.Workbook]
) -> _InThisProcess | _InWorkers:
    """This process for one worker (or one workbook), else that many worker processes."""
    count = min(workers, max(map(len, children_first(list(workbooks))), default=0))
    if count <= 1:
        return _InThisProcess(job)
    return _InWorkers(_with_google_tokens(job, workbooks), count, workbooks)


def _in_waves(
    place: _InThisProcess | _InWorkers,
    selected: list[cfg.Workbook],
    finished: _Finished,
) -> list[SyncOutcome]:
    """Every selected workbook, children before parents; the outcomes in `selected`'s order."""
    outcomes = []
    for wave in children_first(selected):
        outcomes += place.sync(wave, finished)
    order = {wb.name: i for i, wb in enumerate(selected)}
    outcomes.sort(key=lambda o: order.get(o.report.name, len(order)))
    return outcomes


def _with_google_tokens(job: Job, workbooks: Sequence[cfg.Workbook]) -> Job:
    """The job with this process's Google access tokens, one per credentials the workbooks
    use, fetched now so that worker processes need none of their own. A token that cannot be
    had is left out: each workbook then fails in its worker with the reason, as in one process.
    """
    google = [wb for wb in workbooks if wb.spreadsheet]
    if not google:
        return job
    from sheetsync.backends.google.auth import fetch_token, held_tokens

    config = job.config
    for credentials in dict.fromkeys(google_credentials(wb, config) for wb in google):
        try:
            fetch_token(credentials, api_url=config.google.api_url)
        except Exception as exc:  # reported per workbook by the workers
            log.debug("no Google token to share for %s: %s", credentials or "default", exc)
    return dataclasses.replace(job, tokens=held_tokens())


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
    workbooks: list[cfg.Workbook] | None = None,
) -> tuple[list[Path], list[WorkbookReport]]:
    """Read and score the workbooks (writing none of them) and write their report pages.

    `workbooks` is this shard's selection (default all): only their pages are written, and the
    index lists every configured workbook. Returns the files written and each workbook's report
    (errors included: a workbook that cannot be read still gets a page that says so).
    """
    from sheetsync.report import build_page, write_reports

    selected = config.workbooks if workbooks is None else workbooks
    job = Job(config, as_of, now, factory or open_backend, dry_run=True, scored=True)
    place = _where(job, workers, selected)
    try:
        outcomes = _in_waves(place, selected, _Finished(None, None))
    finally:
        place.close()
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
                invalid=scored.okrs.invalid if scored and scored.okrs else (),
                error=o.report.error,
            )
        )
    listed = [(wb.name, names[wb.name]) for wb in config.workbooks]
    return write_reports(pages, as_of, out_dir, listed), [o.report for o in outcomes]


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
    selected = config.workbooks if workbooks is None else workbooks
    job = Job(
        config,
        as_of,
        now,
        factory or open_backend,
        dry_run=dry_run,
        keep_open=alerts and not dry_run,
        scored=check_recipients,
    )
    place = _where(job, workers, selected)
    try:
        outcomes = _in_waves(place, selected, _Finished(on_done, stop))
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
        if alerts:
            with collector_skips_what_lives_now():  # the outcomes, held to the end
                delivered = _deliver_alerts(
                    outcomes, config, report, now, dry_run=dry_run, mailer=mailer, stop=stop,
                    preview=preview, chat=chat,
                )  # fmt: skip
                if delivered is not None:
                    place.record(*delivered)
    finally:
        place.close()
    report.duration = time.monotonic() - started
    return report


def choose_mailer(
    config: cfg.Config, *, stop: threading.Event | None = None
) -> tuple[Mailer | None, str]:
    """Outbox folder for `[email] outbox`, SMTP when a host is set, else none."""
    if config.email.outbox:
        from sheetsync.alerts.send import OutboxMailer

        folder = config.resolve(config.email.outbox)
        return OutboxMailer(folder), f"written to {folder}"
    if config.email.host:
        from sheetsync.alerts.send import SmtpMailer, smtp_password

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
    from sheetsync.alerts.chat import ChatPoster, channel_url

    try:
        return ChatPoster({name: channel_url(name, url) for name, url in channels.items()})
    except ConfigError as exc:
        raise ConfigError(exc.message, path=config.source, key=exc.key) from exc


def alert_setting_problems(config: cfg.Config) -> list[str]:
    """What `validate` reports about the mail settings: each one would leave alerts unsent."""
    if not config.alerts.enabled:
        return []
    from sheetsync.alerts.send import missing_password_hint, smtp_password

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
        from sheetsync.alerts.send import MailDeliveryError

        raise MailDeliveryError(self.why, session=True)


def _still_pending(pending: list[PendingAlert], delivery: DeliveryReport | None) -> int:
    """How many alerts are still owed to someone after `delivery` (all of them without one)."""
    return len(still_owed(pending, delivery.outcomes if delivery else {}))


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
) -> tuple[list[SyncOutcome], DeliveryReport] | None:
    """Deliver what every workbook has pending, as one digest per recipient; the workbooks
    whose Alerts tab must then record the delivery, with it (None when nothing was sent)."""
    planned = [o for o in outcomes if o.alerts and o.alerts.pending and not o.report.error]
    pending = [p for o in planned for p in o.alerts.pending]  # type: ignore[union-attr]
    for o in outcomes:
        if o.alerts and not o.report.error:
            report.alert_errors += o.alerts.skipped
            report.rows_skipped += len(o.alerts.skipped)
    pending_ids = {p.event_id for p in pending}
    unsent = {e for o in outcomes if o.alerts and not o.report.error for e in o.alerts.unsent}
    if unsent:  # no mail server configured: logged `not sent`, final, and said once here
        report.mail_configured = False
        report.alerts_unsent = len(unsent)
        logged = "would be logged" if dry_run else "are logged"
        report.alert_errors.append(
            f"{len(unsent)} alert{'s' if len(unsent) != 1 else ''} not sent: no mail server "
            "configured; set [email] host (or outbox) in the config (they "
            f"{logged} in the Alerts tab as not sent and will not be sent later)"
        )
    report.alerts_unaddressed = sum(
        1
        for o in outcomes
        if o.alerts
        for e in o.alerts.events
        if e.id not in pending_ids and e.id not in unsent
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
            from sheetsync.alerts.deliver import write_previews

            paths = write_previews(pending, Path(preview), config.email, now, report_links(config))
            report.previews = [str(p) for p in paths]
        return None
    if not pending:
        return None
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
            return None
        mailer = _NoMailServer(how)
    from sheetsync.alerts.deliver import deliver
    from sheetsync.alerts.send import OutboxMailer

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
    return planned, delivery
