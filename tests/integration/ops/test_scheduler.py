"""`serve`: runs at the scheduled time, survives failures, skips overruns, stops on SIGTERM.

Time is driven through the scheduler's clock: `serve` waits by calling `sleep`, and the fake
clock's `sleep` moves time forward, so days pass in milliseconds. One test runs `serve` in a
real process and stops it with real signals.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schedule

from sheetsync.core.errors import ConfigError, LockHeldError
from sheetsync.ops.scheduler import StopOnSignals, next_run_after, parse_at, schedule_daily, serve

REPO = Path(__file__).resolve().parents[2]
OSLO = ZoneInfo("Europe/Oslo")


class FakeTime:
    """An aware UTC clock that moves only when the loop sleeps (or a job says time passed)."""

    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)  # type: ignore[misc]


def serve_until(
    runs: int,
    job: Callable[[FakeTime], None],
    *,
    start: datetime,
    at: str = "02:00",
    timezone: str = "Europe/Oslo",
) -> list[datetime]:
    """Serve on a fake clock until the job has been started `runs` times; when each started."""
    clock = FakeTime(start)
    stop = threading.Event()
    started: list[datetime] = []

    def scheduled() -> None:
        started.append(clock.now)
        if len(started) == runs:
            stop.set()
        job(clock)

    serve(scheduled, at=at, timezone=timezone, stop=stop, clock=clock, sleep=clock.sleep)
    return started


def nothing(clock: FakeTime) -> None:
    pass


# -- when is the next run ------------------------------------------------------------------


def test_next_run_is_later_today_when_the_time_has_not_come() -> None:
    # 02:00 in Oslo in January is 01:00 UTC (CET, +1).
    assert next_run_after(utc(2026, 1, 10, 0, 30), parse_at("02:00"), OSLO) == utc(2026, 1, 10, 1)


def test_next_run_is_tomorrow_once_the_time_has_passed_or_is_now() -> None:
    assert next_run_after(utc(2026, 1, 10, 1), parse_at("02:00"), OSLO) == utc(2026, 1, 11, 1)
    assert next_run_after(utc(2026, 1, 10, 9), parse_at("02:00"), OSLO) == utc(2026, 1, 11, 1)


def test_next_run_follows_summer_time() -> None:
    # 02:00 in Oslo in July is 00:00 UTC (CEST, +2).
    assert next_run_after(utc(2026, 7, 10, 12), parse_at("02:00"), OSLO) == utc(2026, 7, 11, 0)


def test_a_time_skipped_by_the_spring_change_runs_just_after_the_jump() -> None:
    # 2026-03-29 02:00 -> 03:00 in Oslo: 02:30 does not exist, so the run is at 03:30 CEST.
    assert next_run_after(utc(2026, 3, 28, 12), parse_at("02:30"), OSLO) == utc(2026, 3, 29, 1, 30)


def test_a_time_repeated_by_the_autumn_change_runs_at_its_first_occurrence() -> None:
    # 2026-10-25 03:00 -> 02:00 in Oslo: 02:30 happens twice; the first is 00:30 UTC.
    assert next_run_after(utc(2026, 10, 24, 12), parse_at("02:30"), OSLO) == utc(
        2026, 10, 25, 0, 30
    )
    # ... and not again at the second 02:30 (01:30 UTC) of the same night.
    assert next_run_after(utc(2026, 10, 25, 0, 31), parse_at("02:30"), OSLO) == utc(
        2026, 10, 26, 1, 30
    )


def test_bad_times_and_zones_are_config_errors_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"key 'schedule.at'.*like 02:00"):
        schedule_daily(schedule.Scheduler(), lambda: None, at="2am", timezone="UTC")
    with pytest.raises(ConfigError, match=r"key 'schedule.at'"):
        schedule_daily(schedule.Scheduler(), lambda: None, at="24:00", timezone="UTC")
    with pytest.raises(ConfigError, match=r"key 'schedule.timezone'.*'Europe/Olso'"):
        schedule_daily(schedule.Scheduler(), lambda: None, at="02:00", timezone="Europe/Olso")


# -- serve on a fake clock -----------------------------------------------------------------


def test_serve_runs_the_job_at_the_scheduled_time_every_day(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="sheetsync.ops.scheduler"):
        started = serve_until(3, nothing, start=utc(2026, 1, 10, 12))

    assert started == [utc(2026, 1, 11, 1), utc(2026, 1, 12, 1), utc(2026, 1, 13, 1)]
    assert "next run at 2026-01-11 02:00 CET (Europe/Oslo)" in caplog.text
    assert "serve stopped" in caplog.text


def test_serve_runs_once_a_night_across_both_clock_changes() -> None:
    spring = serve_until(3, nothing, start=utc(2026, 3, 27, 12), at="02:30")
    autumn = serve_until(3, nothing, start=utc(2026, 10, 23, 12), at="02:30")

    assert [t.astimezone(OSLO).strftime("%d %H:%M %Z") for t in spring] == [
        "28 02:30 CET",
        "29 03:30 CEST",  # 02:30 does not exist that night
        "30 02:30 CEST",
    ]
    assert [t.astimezone(OSLO).strftime("%d %H:%M %Z") for t in autumn] == [
        "24 02:30 CEST",
        "25 02:30 CEST",  # the first of the two 02:30s, and only that one
        "26 02:30 CET",
    ]


def test_serve_survives_a_failing_run(caplog: pytest.LogCaptureFixture) -> None:
    def fails_the_first_night(clock: FakeTime) -> None:
        if clock.now.day == 11:
            raise RuntimeError("Google said 503")

    with caplog.at_level(logging.INFO, logger="sheetsync.ops.scheduler"):
        started = serve_until(2, fails_the_first_night, start=utc(2026, 1, 10, 12))

    assert started == [utc(2026, 1, 11, 1), utc(2026, 1, 12, 1)]
    failed = [r for r in caplog.records if "the run failed" in r.getMessage()]
    assert len(failed) == 1 and failed[0].exc_info is not None
    assert "RuntimeError: Google said 503" in caplog.text
    assert "run failed in" in caplog.text and "run finished in" in caplog.text


def test_a_run_refused_by_the_lock_is_a_warning_and_serve_carries_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def lock_taken_the_first_night(clock: FakeTime) -> None:
        if clock.now.day == 11:
            raise LockHeldError("another sheetsync run is in progress; this one exits")

    with caplog.at_level(logging.INFO, logger="sheetsync.ops.scheduler"):
        started = serve_until(2, lock_taken_the_first_night, start=utc(2026, 1, 10, 12))

    assert len(started) == 2
    [refused] = [r for r in caplog.records if "another sheetsync run" in r.getMessage()]
    assert refused.levelno == logging.WARNING and refused.exc_info is None


def test_a_run_that_overruns_its_next_slot_is_not_started_again_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def first_run_takes_25_hours(clock: FakeTime) -> None:
        if clock.now.day == 11:
            clock.sleep(25 * 3600)

    with caplog.at_level(logging.INFO, logger="sheetsync.ops.scheduler"):
        started = serve_until(2, first_run_takes_25_hours, start=utc(2026, 1, 10, 12))

    # The run of the 11th ends on the 12th at 02:00 UTC, after the 12th's slot: that slot is
    # skipped and the next run is the 13th, not straight after the long one.
    assert started == [utc(2026, 1, 11, 1), utc(2026, 1, 13, 1)]
    assert "overran 1 later slot (the last at 2026-01-12 02:00 CET" in caplog.text


def test_a_run_in_progress_blocks_another_start(caplog: pytest.LogCaptureFixture) -> None:
    scheduler = schedule.Scheduler()
    clock = FakeTime(utc(2026, 1, 10, 12))
    in_job, release = threading.Event(), threading.Event()
    starts: list[datetime] = []

    def job() -> None:
        starts.append(clock.now)
        in_job.set()
        release.wait(5)

    daily = schedule_daily(scheduler, job, at="02:00", timezone="UTC", clock=clock)
    clock.now = utc(2026, 1, 11, 2)
    first = threading.Thread(target=scheduler.run_pending)
    first.start()
    assert in_job.wait(5)

    with caplog.at_level(logging.WARNING, logger="sheetsync.ops.scheduler"):
        scheduler.run_pending()  # the job is still due as far as this thread can tell
    release.set()
    first.join(5)

    assert starts == [utc(2026, 1, 11, 2)]
    assert daily.runs == 1
    assert "the previous run is still going" in caplog.text
    assert daily.next_run == utc(2026, 1, 12, 2)


def test_serve_uses_its_own_scheduler_and_leaves_signal_handlers_as_it_found_them() -> None:
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    seen: list[int] = []

    def job(clock: FakeTime) -> None:
        seen.append(len(schedule.default_scheduler.jobs))

    serve_until(1, job, start=utc(2026, 1, 10, 12))

    assert seen == [0]
    assert schedule.default_scheduler.jobs == []
    assert {sig: signal.getsignal(sig) for sig in handlers} == handlers


def test_a_given_scheduler_is_left_without_the_serve_job() -> None:
    scheduler = schedule.Scheduler()
    clock = FakeTime(utc(2026, 1, 10, 12))
    stop = threading.Event()

    serve(
        stop.set,
        at="02:00",
        timezone="UTC",
        scheduler=scheduler,
        stop=stop,
        clock=clock,
        sleep=clock.sleep,
    )

    assert scheduler.jobs == []


def test_setting_stop_from_another_thread_ends_a_real_wait_at_once() -> None:
    stop = threading.Event()
    thread = threading.Thread(
        target=serve, args=(lambda: None,), kwargs={"at": "02:00", "timezone": "UTC", "stop": stop}
    )
    thread.start()
    stop.set()
    thread.join(timeout=2)
    assert not thread.is_alive()


def test_stop_on_signals_turns_sigterm_into_a_stop_request() -> None:
    before = signal.getsignal(signal.SIGTERM)
    stop = threading.Event()

    with StopOnSignals(stop):
        os.kill(os.getpid(), signal.SIGTERM)  # would end the test run without the handler
        assert stop.wait(5)

    assert signal.getsignal(signal.SIGTERM) is before


# -- serve in a real process, stopped by real signals ---------------------------------------

SERVE_SCRIPT = """
import logging, sys, time
from datetime import UTC, datetime, timedelta
from sheetsync.ops.scheduler import serve

logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
busy = sys.argv[1] == "busy"

def job():
    print("job started", flush=True)
    time.sleep(1.0)  # the workbook in hand: a signal must not cut it short
    print("job finished", flush=True)

# busy: due in about a second; idle: due in about 23 hours.
soon = datetime.now(UTC) + (timedelta(seconds=1.5) if busy else timedelta(hours=-1))
serve(job, at=soon.strftime("%H:%M:%S"), timezone="UTC")
print("exited cleanly", flush=True)
"""


class Served:
    """A `serve` process whose stdout lines can be awaited with a deadline."""

    def __init__(self, mode: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", SERVE_SCRIPT, mode],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.stderr = ""
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())

    def wait_for_line(self, text: str, timeout: float = 5.0) -> None:
        while True:
            line = self.lines.get(timeout=timeout)
            if line == text:
                return

    def wait_for_log(self, text: str, timeout: float = 5.0) -> None:
        """Wait until stderr (the log) has shown `text`: serve is up and waiting."""
        assert self.proc.stderr is not None
        deadline = datetime.now() + timedelta(seconds=timeout)
        while text not in self.stderr:
            assert datetime.now() < deadline, f"no {text!r} in the log:\n{self.stderr}"
            self.stderr += self.proc.stderr.readline()

    def finish(self, timeout: float = 5.0) -> tuple[int, list[str]]:
        code = self.proc.wait(timeout=timeout)
        assert self.proc.stderr is not None
        self.stderr += self.proc.stderr.read()
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get())
        return code, rest

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=5)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream:
                stream.close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_a_signal_while_waiting(sig: signal.Signals) -> None:
    served = Served("idle")
    try:
        served.wait_for_log("next run at")
        served.proc.send_signal(sig)
        code, rest = served.finish()
    finally:
        served.kill()

    assert code == 0, served.stderr
    assert rest == ["exited cleanly"]
    assert f"received {sig.name}" in served.stderr
    assert "serve stopped" in served.stderr


def test_sigterm_during_a_run_lets_the_run_finish_then_exits_cleanly() -> None:
    served = Served("busy")
    try:
        served.wait_for_line("job started")
        served.proc.send_signal(signal.SIGTERM)
        code, rest = served.finish()
    finally:
        served.kill()

    assert code == 0, served.stderr
    assert rest == ["job finished", "exited cleanly"]
    assert "run finished in" in served.stderr


def test_a_second_sigint_stops_at_once_without_waiting_for_the_run() -> None:
    served = Served("busy")
    try:
        served.wait_for_line("job started")
        served.proc.send_signal(signal.SIGINT)
        served.wait_for_log("received SIGINT")
        served.proc.send_signal(signal.SIGINT)
        code, rest = served.finish()
    finally:
        served.kill()

    assert code != 0
    assert "job finished" not in rest
    assert "KeyboardInterrupt" in served.stderr
