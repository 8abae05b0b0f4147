"""Running for real: the lock, shards, the shared rate limiter, progress, heartbeat, `serve`.

Worker processes (`--workers N`) are the runner's; the lock, the heartbeat, the progress bar and
the signals stay in this process, and the rate limiter is shared by every worker of the shard.

The CLI calls `execute_run` for `sheetsync run` and `serve_forever` for `sheetsync serve`;
both end up in `runner.run_all`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date, datetime
from pathlib import Path

from sheetsync import config as cfg
from sheetsync.ops.alive import alive_file
from sheetsync.ops.alive import mark as mark_alive
from sheetsync.ops.cpus import default_workers
from sheetsync.ops.lock import run_lock
from sheetsync.ops.processes import worker_context
from sheetsync.ops.ratelimit import RateLimiter
from sheetsync.ops.shard import parse_shard, select
from sheetsync.runner import (
    BackendOpener,
    RunReport,
    choose_chat,
    choose_mailer,
    run_all,
    write_report,
)
from sheetsync.sync import WorkbookReport

log = logging.getLogger(__name__)


def execute_run(
    config: cfg.Config,
    *,
    as_of: date,
    now: datetime,
    dry_run: bool = False,
    workers: int | None = None,
    shard: str | None = None,
    progress: bool = False,
    stop: threading.Event | None = None,
    workbooks: list[cfg.Workbook] | None = None,
    preview: str | None = None,
) -> RunReport:
    """One locked run of this process's shard of the workbooks, then the heartbeat.

    The heartbeat reports failure when the run fails or crashes; a run refused by the lock
    sends none (the run holding the lock will report). A dry run sends and records nothing
    (`preview`: a folder for the e-mails it would send). `workers` None: one per CPU this
    process may use, at most 4 (`ops.cpus.default_workers`).
    """
    workers = workers or default_workers()
    index, count = parse_shard(shard) if shard else (0, 1)
    workbooks = select(
        config.workbooks if workbooks is None else workbooks, index, count, key=lambda w: w.name
    )
    # One budget for the whole shard: with worker processes, in memory they all share.
    limiter = RateLimiter(
        config.google.requests_per_minute,
        shards=count,
        processes=worker_context() if min(workers, len(workbooks)) > 1 else None,
    )
    locked_at: float | None = None  # when this run took its lock (none for a dry run)

    # The mail settings (and password file) are checked before any workbook is touched.
    mailer = None if dry_run else choose_mailer(config, stop=stop)[0]
    chat = None if dry_run else choose_chat(config)
    lock_name = "sheetsync" if count == 1 else f"sheetsync-shard-{index}-of-{count}"
    with ExitStack() as stack:
        if not dry_run:
            stack.enter_context(run_lock(config.resolve(config.state_dir), name=lock_name))
            locked_at = time.time()  # a save's temp file older than this is a dead run's
        factory = BackendOpener(limiter, stale_temp_before=locked_at)
        on_done = stack.enter_context(_progress(len(workbooks))) if progress else None
        url = config.schedule.heartbeat_url
        if url and not dry_run:  # urllib.request and http.client only for a heartbeat to ping
            from sheetsync.ops.heartbeat import ping, url_for_shard

            url = url_for_shard(url, index, count)
        else:
            url = None
        try:
            report = run_all(
                config,
                as_of=as_of,
                now=now,
                dry_run=dry_run,
                workers=workers,
                workbooks=workbooks,
                factory=factory,
                on_done=on_done,
                stop=stop,
                mailer=mailer,
                preview=preview,
                chat=chat,
            )
        except BaseException as exc:
            if url:
                ping(url, False, f"sheetsync crashed: {exc!r}")
            raise
    if url:
        ping(url, report.exit_code == 0, _summary(report))
    log.info(
        "run finished: %d workbooks, %d failed, exit code %d",
        len(report.workbooks),
        len(report.failed),
        report.exit_code,
    )
    return report


def _summary(report: RunReport) -> str:
    lines = [f"sheetsync as of {report.as_of}: exit code {report.exit_code}"]
    for w in report.workbooks:
        state = f"FAILED: {w.error}" if w.error else f"{w.invalid_rows} invalid rows"
        lines.append(f"{w.name}: {state}")
    return "\n".join(lines)


class _progress:
    """A rich progress bar on stderr (only used when stderr is a terminal)."""

    def __init__(self, total: int) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

        self.bar = Progress(
            TextColumn("[bold]sync[/bold]"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=Console(stderr=True),
            transient=True,
        )
        self.task = self.bar.add_task("", total=total)
        self.lock = threading.Lock()

    def __enter__(self) -> Callable[[WorkbookReport], None]:
        self.bar.start()
        return self.done

    def __exit__(self, *exc: object) -> None:
        self.bar.stop()

    def done(self, report: WorkbookReport) -> None:
        mark = "✗" if report.error else "✓"
        with self.lock:
            self.bar.update(self.task, advance=1, description=f"{mark} {report.name}")


def serve_forever(
    config: cfg.Config,
    config_path: str,
    *,
    workers: int | None = None,
    shard: str | None = None,
) -> int:
    """`sheetsync serve`: sync every day at [schedule] at/timezone until SIGTERM or Ctrl-C.

    Workbooks with their own [schedule] run at their own time. The config is re-read before
    each run, so edits take effect without a restart (the times themselves need a restart);
    a run that fails is logged and the loop goes on.
    """
    import schedule as schedule_lib

    from sheetsync.core.errors import SheetsyncError
    from sheetsync.ops.scheduler import StopOnSignals, load_zone, run_loop, schedule_daily

    stop = threading.Event()
    alive = alive_file()
    groups: dict[tuple[str, str], list[str]] = {}
    for wb in config.workbooks:
        when = wb.schedule or config.schedule
        groups.setdefault((when.at, when.timezone), []).append(wb.name)

    def job_for(names: list[str], timezone: str) -> Callable[[], None]:
        def job() -> None:
            mark_alive(alive, "running")
            try:
                current = cfg.load_config(config_path)
            except SheetsyncError as exc:
                log.error("config error, keeping the previous config: %s", exc)
                current = config
            now = datetime.now(load_zone(timezone))
            chosen = [wb for wb in current.workbooks if wb.name in names]
            report = execute_run(
                current,
                as_of=now.date(),
                now=now,
                workers=workers,
                shard=shard,
                stop=stop,
                workbooks=chosen,
            )
            for w in report.failed:
                log.error("workbook %s failed: %s", w.name, w.error)
            refresh_report(current, now, shard)

        return job

    scheduler = schedule_lib.Scheduler()
    for (at, timezone), names in groups.items():
        label = "all workbooks" if len(groups) == 1 else ", ".join(names)
        schedule_daily(scheduler, job_for(names, timezone), at=at, timezone=timezone, name=label)

    def idle(seconds: float) -> None:
        mark_alive(alive, "idle")
        stop.wait(seconds)

    server = None
    # Signals set `stop` from here on, the startup report write included: SIGTERM during it
    # ends `serve` cleanly instead of killing it.
    with StopOnSignals(stop):
        try:
            if config.report.dir and config.report.port:
                from sheetsync.ops.static import StaticServer

                folder = config.resolve(config.report.dir)
                if shard is None or parse_shard(shard)[0] == 0:
                    # one server for the shared folder: shards on one host would clash on the port
                    server = StaticServer(folder, config.report.bind, config.report.port)
                    log.info("report pages served read-only at %s", server.url)
                else:
                    log.info("report pages written to %s; shard 0 serves them", folder)
                refresh_report(config, datetime.now(load_zone(config.schedule.timezone)), shard)
            run_loop(scheduler, stop=stop, sleep=idle, handle_signals=False)
        finally:
            if server is not None:
                server.close()
    return 0


def execute_report(
    config: cfg.Config,
    out_dir: Path,
    *,
    as_of: date,
    now: datetime,
    workers: int | None = None,
    shard: str | None = None,
) -> tuple[list[Path], list[WorkbookReport]]:
    """The report pages of this process's shard of the workbooks, into `out_dir`.

    Each shard writes its own workbooks' pages (so no process reads every workbook) and the
    index, which lists every configured workbook from the lines each shard left beside it.
    """
    index, count = parse_shard(shard) if shard else (0, 1)
    workbooks = select(config.workbooks, index, count, key=lambda w: w.name)
    workers = workers or default_workers()
    return write_report(config, out_dir, as_of=as_of, now=now, workers=workers, workbooks=workbooks)


def refresh_report(config: cfg.Config, now: datetime, shard: str | None = None) -> None:
    """`serve`: rewrite this shard's report pages in `[report] dir` (if set) and the index; a
    failure is only logged."""
    if not config.report.dir:
        return
    from sheetsync.core.errors import SheetsyncError

    try:
        written, _ = execute_report(
            config, config.resolve(config.report.dir), as_of=now.date(), now=now, shard=shard
        )
    except (SheetsyncError, OSError) as exc:
        log.error("report pages not written: %s", exc)
        return
    log.info("report pages written: %d in %s", len(written), config.resolve(config.report.dir))
