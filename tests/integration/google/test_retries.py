"""Transient failures (429, 5xx, dropped connections, timeouts) retried within the policy's
bounds, a lost batch answer retried safely, and the rate limiter called before every request."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from sheetsync.backends.google import (
    RetryPolicy,
)
from sheetsync.core.errors import (
    TransientBackendError,
)
from tests.integration.google.workbooks import okr_rows, open_book, score_plan
from tests.sheets_standin import SheetsStandIn


def test_429_with_retry_after_is_waited_out_then_succeeds(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.fail_next(429, retry_after=1, kind="get")

    started = time.monotonic()
    snapshot = book.read(["OKRs"])

    assert time.monotonic() - started >= 1.0
    assert "OKRs" in snapshot.tabs
    assert (book.requests, book.retries) == (2, 1)


def test_503_twice_then_the_batch_goes_through_once(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.fail_next(503, times=2, kind="batchUpdate")

    result = book.write(score_plan(2, history=1))

    assert result.wrote
    assert sheets_api.counts["batchUpdate"] == 3
    assert sheets_api.tabs(sid) == ["OKRs", "History"]
    assert sheets_api.value(sid, "OKRs", "G3") == "note 1"


def test_a_lost_answer_to_the_batch_does_not_create_the_tab_twice(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.drop_next(kind="batchUpdate", after_applying=True)

    result = book.write(score_plan(2, history=3))

    assert result.tabs_created == ["History"]
    assert sheets_api.tabs(sid) == ["OKRs", "History"]
    assert len(sheets_api.values(sid, "History")) == 4
    assert sheets_api.grid_size(sid, "History") == (4, 3)
    assert not book.write(score_plan(2, history=3)).wrote


def test_a_dropped_connection_is_retried(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.drop_next(kind="get")

    assert "OKRs" in book.read(["OKRs"]).tabs
    assert sheets_api.counts["get"] == 2


def test_a_slow_answer_times_out_and_is_retried(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, timeout=1.0)
    book.read(["OKRs"])
    sheets_api.delay_next(2.5, kind="batchUpdate")

    book.write(score_plan(1))

    # the timed-out batch may have been applied: the grid sizes are read again before the retry
    assert (sheets_api.counts["get"], sheets_api.counts["batchUpdate"]) == (2, 2)
    assert sheets_api.value(sid, "OKRs", "G2") == "note 0"


def test_retries_give_up_after_the_attempt_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, retry=RetryPolicy(3, 10, 0.01, 0.02))
    sheets_api.fail_next(503, times=10)

    with pytest.raises(TransientBackendError, match=r"kept failing .*HTTP 503.* after 3 attempts"):
        book.read(["OKRs"])

    assert book.requests == 3


def test_retries_give_up_rather_than_wait_past_the_time_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(1)})
    book = open_book(sheets_api, sid, service_account_file, retry=RetryPolicy(10, 2, 0.01, 0.02))
    sheets_api.fail_next(429, times=10, retry_after=30)

    started = time.monotonic()
    with pytest.raises(TransientBackendError, match=r"quota exceeded.*60 requests/min per user"):
        book.read(["OKRs"])

    assert time.monotonic() - started < 2
    assert book.requests == 1


def test_the_limiter_runs_before_every_request(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    class CountingLimiter:
        def __init__(self) -> None:
            self.asked: list[int] = []
            self.told: list[float] = []

        def acquire(self) -> None:
            self.asked.append(1)

        def finished(self, seconds: float) -> None:
            self.told.append(seconds)

    limiter = CountingLimiter()
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file, limiter=limiter)
    sheets_api.fail_next(429, kind="batchUpdate")

    book.read(["OKRs"])
    book.write(score_plan(2))

    assert len(limiter.asked) == book.requests == sheets_api.api_requests == 3
    assert len(limiter.told) == 3 and all(seconds > 0 for seconds in limiter.told)
