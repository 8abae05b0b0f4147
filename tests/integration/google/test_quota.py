"""At the quota bound, the rate limiter keeps every request inside Google's window even when
latency varies: Google counts a request when it arrives, not when it was sent."""

from __future__ import annotations

from pathlib import Path

from sheetsync.ops.ratelimit import RateLimiter
from tests.integration.google.workbooks import okr_rows, open_book
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
