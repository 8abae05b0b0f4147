"""At the quota bound, the rate limiter keeps every request inside Google's window even when
latency varies: Google counts a request when it arrives, not when it was sent."""

from __future__ import annotations

import time
from pathlib import Path

from sheetsync.backends.google import GoogleSheetsWorkbook
from sheetsync.ops.processes import WorkerProcesses, worker_context
from sheetsync.ops.ratelimit import RateLimiter
from tests.integration.google.workbooks import FAST, okr_rows, open_book
from tests.sheets_standin import SheetsStandIn

WINDOW = 2.0
QUOTA = 5


def test_a_slow_window_then_fast_requests_get_no_429_at_the_quota_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    sheets_api.set_quota(QUOTA, per_seconds=WINDOW)
    limiter = RateLimiter(QUOTA, window_seconds=WINDOW)  # exactly the quota: no headroom
    book = open_book(sheets_api, sid, service_account_file, limiter=limiter)
    sheets_api.delay_next(0.3, times=QUOTA, kind="get")  # the first window's requests are slow

    for _ in range(QUOTA * 2 + 1):
        book.read(["OKRs"])

    assert sheets_api.counts["get"] == QUOTA * 2 + 1
    assert sheets_api.refused_for_quota == 0
    assert limiter.transit >= 0.3


_shared: list[RateLimiter] = []
"""The limiter a worker process of the test below was given as it started."""


def _keep(limiter: RateLimiter) -> None:
    _shared.append(limiter)


def _read_times(url: str, sid: str, key: str, times: int) -> int:
    """In a worker process: read the spreadsheet `times` times under the shared limiter."""
    book = GoogleSheetsWorkbook(sid, credentials=key, api_url=url, limiter=_shared[0], retry=FAST)
    for _ in range(times):
        book.read(["OKRs"])
    return book.requests


def test_worker_processes_share_one_budget_and_get_no_429_at_the_quota_bound(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    """`--workers N` runs workbooks in N processes; together they stay within the quota."""
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    sheets_api.set_quota(QUOTA, per_seconds=WINDOW)
    limiter = RateLimiter(QUOTA, window_seconds=WINDOW, processes=worker_context())
    args = (sheets_api.url, sid, str(service_account_file), QUOTA)

    with WorkerProcesses(2, _keep, (limiter,)) as workers:
        started = time.monotonic()
        sent = workers.for_each(range(2), lambda slot, _: workers.call(slot, _read_times, *args))
        took = time.monotonic() - started

    assert sent == [QUOTA, QUOTA]
    assert sheets_api.refused_for_quota == 0
    assert took >= WINDOW, "the second process waited for the first one's requests to age out"
