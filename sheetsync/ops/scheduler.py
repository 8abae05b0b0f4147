"""`sheetsync serve`: run the nightly job from a long-lived process, daily at a time in a zone.

The loop runs on its own `schedule.Scheduler()` (never the module-level default), with one
`DailyJob` per schedule. It is meant to be trusted unattended for months, so:

- a run that raises is logged and the loop carries on to the next slot;
- a run that overruns its next slot is not started again at once: the missed slot is skipped (and
  logged), in keeping with `schedule`'s own rule that run_pending() does not run missed jobs;
- a run in progress blocks another start of the same job, even from another thread;
- SIGTERM or SIGINT stops the loop once the run in hand has finished (give the same `stop`
  event to the job so it can stop between workbooks); a second SIGINT stops at once;
- missed runs while the process was down are not caught up; cron or a systemd timer with
  `Persistent=true` does that, `serve` does not.

Time zones: `schedule`'s own `.at("02:00", "Europe/Oslo")` needs pytz and keeps its next run as a
naive local time. `DailyJob` instead computes the next run with `zoneinfo` as an aware UTC
datetime from an injectable clock, so tests drive time through the scheduler without sleeping.
Across daylight-saving changes a wall-clock time that does not exist (02:30 on the spring-forward
night) runs at the same offset after the jump (03:30), and one that happens twice (the autumn
night) runs once, at its first occurrence.

Example:
    stop = threading.Event()
    serve(lambda: run_all(config, date.today(), stop=stop), at="02:00",
          timezone="Europe/Oslo", stop=stop)
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import re
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime, time, timedelta
from types import FrameType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import schedule

from sheetsync.core.errors import ConfigError, LockHeldError

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
"""Returns the current time as an aware datetime."""

POLL_SECONDS = 60.0
"""Longest single wait: the loop re-reads the clock at least this often (suspend, clock changes)."""


def utc_now() -> datetime:
    return datetime.now(UTC)


def parse_at(text: str) -> time:
    """`"02:00"` or `"02:00:30"` -> a time of day; ConfigError (key `schedule.at`) otherwise."""
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?", text.strip())
    if not match:
        raise ConfigError(
            f"must be a 24-hour time of day like 02:00 or 21:30, not {text!r}", key="schedule.at"
        )
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def load_zone(name: str) -> ZoneInfo:
    """An IANA time zone (`Europe/Oslo`, `UTC`); ConfigError (key `schedule.timezone`) otherwise."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ConfigError(
            f"unknown time zone {name!r}; use an IANA name such as Europe/Oslo, "
            "America/New_York or UTC (on a system without a zone database, install tzdata)",
            key="schedule.timezone",
        ) from exc


def next_run_after(now: datetime, at: time, zone: ZoneInfo) -> datetime:
    """The first instant strictly after `now` whose wall-clock time in `zone` is `at`, in UTC.

    A nonexistent local time (inside a spring-forward gap) maps to the same offset after the
    jump; an ambiguous one (autumn) to its first occurrence.
    """
    now = now.astimezone(UTC)
    day = now.astimezone(zone).date()
    for offset in range(3):
        # fold=0: the earlier offset, which places a gap time after the jump and picks the
        # first of two repeated times. Compare in UTC: same-zone comparisons ignore the offset.
        candidate = datetime.combine(day + timedelta(days=offset), at, tzinfo=zone)
        if candidate.astimezone(UTC) > now:
            return candidate.astimezone(UTC)
    raise AssertionError("unreachable: a later day always has the time")  # pragma: no cover


class DailyJob(schedule.Job):
    """A `schedule` job that runs once a day at `at` in `zone`, guarded for unattended use.

    Its `next_run` is an aware UTC datetime from `clock` (plain `schedule` jobs keep a naive
    local time); `Scheduler.run_pending()` works with it as with any job. Every run is wrapped:
    an exception is logged, not raised; a `LockHeldError` (another run is busy) is a warning; a
    start while a run is in progress is refused; a missed slot is skipped.
    """

    def __init__(
        self,
        job: Callable[[], object],
        *,
        at: time,
        zone: ZoneInfo,
        scheduler: schedule.Scheduler,
        clock: Clock = utc_now,
        name: str | None = None,
        logger: logging.Logger | None = None,
    ) -> None:
        super().__init__(1, scheduler)
        self.unit = "days"
        self.at_time = at  # for schedule's repr
        self.time_of_day = at
        self.zone = zone
        self.name = name or getattr(job, "__name__", "job")
        self.job_func = functools.partial(job)
        self.runs = 0
        """How many times the job was started."""
        self._clock = clock
        self._log = logger or log
        self._running = threading.Lock()
        self.next_run = next_run_after(clock(), at, zone)
        scheduler.jobs.append(self)

    @property
    def should_run(self) -> bool:
        assert self.next_run is not None
        return self._clock() >= self.next_run

    def describe(self, moment: datetime) -> str:
        """`2026-11-24 02:00 CET (Europe/Oslo)`: a moment as the schedule's own wall clock."""
        return f"{moment.astimezone(self.zone):%Y-%m-%d %H:%M %Z} ({self.zone.key})"

    def run(self) -> None:
        assert self.next_run is not None and self.job_func is not None
        if not self._running.acquire(blocking=False):
            self.next_run = next_run_after(self._clock(), self.time_of_day, self.zone)
            self._log.warning(
                "%s: the previous run is still going, so this slot is skipped; next run at %s",
                self.name,
                self.describe(self.next_run),
            )
            return
        try:
            due = self.next_run
            started = self._clock()
            self.runs += 1
            self._log.info("%s: starting the run due at %s", self.name, self.describe(due))
            outcome = "finished"
            try:
                self.job_func()
            except LockHeldError as exc:
                outcome = "skipped"
                self._log.warning("%s: run skipped: %s", self.name, exc)
            except Exception:
                outcome = "failed"
                self._log.exception("%s: the run failed; serve carries on", self.name)
            now = self._clock()
            self.last_run = now
            self.next_run = next_run_after(now, self.time_of_day, self.zone)
            overran = self._slots_between(due, now)
            if overran:
                self._log.warning(
                    "%s: the run overran %d later slot%s (the last at %s); they are skipped, "
                    "not run late",
                    self.name,
                    len(overran),
                    "s" if len(overran) > 1 else "",
                    self.describe(overran[-1]),
                )
            self._log.info(
                "%s: run %s in %.1f s; next run at %s",
                self.name,
                outcome,
                (now - started).total_seconds(),
                self.describe(self.next_run),
            )
        finally:
            self._running.release()

    def _slots_between(self, due: datetime, now: datetime) -> list[datetime]:
        slots: list[datetime] = []
        slot = next_run_after(due, self.time_of_day, self.zone)
        while slot <= now:
            slots.append(slot)
            slot = next_run_after(slot, self.time_of_day, self.zone)
        return slots


def schedule_daily(
    scheduler: schedule.Scheduler,
    job: Callable[[], object],
    *,
    at: str,
    timezone: str,
    clock: Clock = utc_now,
    name: str | None = None,
    logger: logging.Logger | None = None,
) -> DailyJob:
    """Add `job` to `scheduler`, daily at `at` (`"02:00"`) in `timezone` (`"Europe/Oslo"`).

    Call it once per schedule (e.g. per group of workbooks with their own `[schedule]`), then
    `run_loop(scheduler)`. Raises ConfigError for a bad time or zone.
    """
    return DailyJob(
        job,
        at=parse_at(at),
        zone=load_zone(timezone),
        scheduler=scheduler,
        clock=clock,
        name=name,
        logger=logger,
    )


def run_loop(
    scheduler: schedule.Scheduler,
    *,
    stop: threading.Event | None = None,
    clock: Clock = utc_now,
    sleep: Callable[[float], object] | None = None,
    poll_seconds: float = POLL_SECONDS,
    handle_signals: bool = True,
    logger: logging.Logger | None = None,
) -> None:
    """Run the scheduler's jobs when due until `stop` is set (or SIGTERM/SIGINT arrives).

    `sleep` waits between checks; by default `stop.wait`, so a stop request ends the wait at
    once. Signal handlers are installed only in the main thread, and restored on return.
    """
    logger = logger or log
    stop = stop if stop is not None else threading.Event()
    wait = sleep if sleep is not None else stop.wait
    guard = StopOnSignals(stop, logger) if handle_signals else contextlib.nullcontext()
    with guard:
        for job in scheduler.jobs:
            if isinstance(job, DailyJob) and job.next_run is not None:
                logger.info("%s: next run at %s", job.name, job.describe(job.next_run))
        while not stop.is_set():
            scheduler.run_pending()
            if stop.is_set():
                break
            wait(_idle_seconds(scheduler, clock, poll_seconds))
    logger.info("serve stopped")


def serve(
    job: Callable[[], object],
    *,
    at: str,
    timezone: str,
    scheduler: schedule.Scheduler | None = None,
    stop: threading.Event | None = None,
    clock: Clock = utc_now,
    sleep: Callable[[float], object] | None = None,
    logger: logging.Logger | None = None,
    poll_seconds: float = POLL_SECONDS,
    handle_signals: bool = True,
) -> None:
    """Run `job` every day at `at` in `timezone` until stopped; returns after a clean stop.

    Uses a fresh `schedule.Scheduler()` unless one is given. Pass the same `stop` event to the
    job so a SIGTERM during a run ends it after the workbook in hand.
    """
    scheduler = scheduler if scheduler is not None else schedule.Scheduler()
    daily = schedule_daily(
        scheduler, job, at=at, timezone=timezone, clock=clock, name="serve", logger=logger
    )
    try:
        run_loop(
            scheduler,
            stop=stop,
            clock=clock,
            sleep=sleep,
            poll_seconds=poll_seconds,
            handle_signals=handle_signals,
            logger=logger,
        )
    finally:
        scheduler.cancel_job(daily)


def _idle_seconds(scheduler: schedule.Scheduler, clock: Clock, poll_seconds: float) -> float:
    """Seconds until the earliest job is due, between 10 ms and `poll_seconds`."""
    waits = [poll_seconds]
    for job in scheduler.jobs:
        if job.next_run is None:
            continue
        if job.next_run.tzinfo is None:  # a plain schedule job: naive local time
            waits.append((job.next_run - datetime.now()).total_seconds())
        else:
            waits.append((job.next_run - clock()).total_seconds())
    return max(min(waits), 0.01)


class StopOnSignals:
    """While active, SIGTERM and SIGINT set `stop`; a second SIGINT raises KeyboardInterrupt.

    `serve` uses it around its loop; `sheetsync run` can use it too, so a SIGTERM from systemd
    or Kubernetes ends the run after the workbooks in hand instead of killing it mid-write:

        stop = threading.Event()
        with StopOnSignals(stop):
            report = run_all(..., stop=stop)

    Handlers are installed only in the main thread (elsewhere this does nothing) and the
    previous ones are restored on exit. A signal handler must not take locks (`Event.set`
    does), so the handler only writes the signal number to a pipe; a helper thread reads it,
    logs it and sets the event.
    """

    SIGNALS = (signal.SIGTERM, signal.SIGINT)

    def __init__(self, stop: threading.Event, logger: logging.Logger | None = None) -> None:
        self._stop = stop
        self._log = logger or log
        self._requested = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> StopOnSignals:
        if threading.current_thread() is not threading.main_thread():
            self._log.debug("not in the main thread: SIGTERM/SIGINT handlers not installed")
            return self
        self._read, self._write = os.pipe()
        os.set_blocking(self._write, False)
        self._watcher = threading.Thread(target=self._watch, name="sheetsync-signals", daemon=True)
        self._watcher.start()
        for sig in self.SIGNALS:
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        if not self._previous:
            return
        for sig, previous in self._previous.items():
            signal.signal(sig, previous if previous is not None else signal.SIG_DFL)
        self._previous.clear()
        os.close(self._write)
        self._watcher.join(timeout=5)
        os.close(self._read)

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self._requested and signum == signal.SIGINT:
            raise KeyboardInterrupt
        self._requested = True
        with contextlib.suppress(OSError):
            os.write(self._write, bytes([signum]))

    def _watch(self) -> None:
        while data := os.read(self._read, 16):
            for signum in data:
                self._log.info(
                    "received %s: stopping after the run in hand", signal.Signals(signum).name
                )
            self._stop.set()
