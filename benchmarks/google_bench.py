"""Google measures against the local Sheets API stand-in: requests per sync and time per sync.

The hand-written baseline is the loop people write with gspread: read the sheet, then one
`worksheet.update()` per row for its Score/Status/Note cells.
"""

from __future__ import annotations

import tempfile
import time
from datetime import date, datetime
from pathlib import Path
from typing import Any

from benchmarks.workbooks import rows
from sheetsync.config import Config, parse_config
from sheetsync.runner import run_all
from tests.sheets_standin import Formula, SheetsStandIn
from tests.sheets_standin.fixtures import write_service_account_file

AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 2, 0)
NAIVE_MEASURED_UP_TO = 1000
"""Above this the per-row loop is not run (it would take minutes); its count is rows + 1."""


def _cells(data: list[list[Any]]) -> list[list[Any]]:
    return [[Formula(v[0], effective=v[1]) if isinstance(v, tuple) else v for v in r] for r in data]


class GoogleBench:
    def __init__(self, latency: float) -> None:
        self.latency = latency
        self.api = SheetsStandIn()
        self.api.start()
        self.tmp = tempfile.TemporaryDirectory(prefix="sheetsync-bench-google-")
        self.key = write_service_account_file(Path(self.tmp.name) / "sa.json", self.api)

    def _spreadsheet(self, n: int) -> str:
        okrs, kpis = rows(n)
        return self.api.create_spreadsheet(
            f"bench-{n}", {"OKRs": _cells(okrs), "KPIs": _cells(kpis)}
        )

    def _sync(self, sid: str) -> int:
        config = bench_config(self.api, self.key, sid, Path(self.tmp.name))
        report = run_all(config, as_of=AS_OF, now=NOW)
        (wb,) = report.workbooks
        assert wb.error is None, wb.error
        return wb.requests

    def _naive(self, sid: str, n: int) -> int | str:
        if n > NAIVE_MEASURED_UP_TO:
            return f"{n + 1:,} (computed)"
        client = self.api.gspread_client()
        before = self.api.api_requests
        ws = client.open_by_key(sid).worksheet("OKRs")
        values = ws.get_all_values()
        for i, _ in enumerate(values[1:], start=2):
            ws.update([[0.5, "On track", ""]], f"M{i}:O{i}")
        return f"{self.api.api_requests - before:,}"

    def __call__(self, n: int | None) -> dict[str, Any]:
        if n is None:
            self.api.stop()
            self.tmp.cleanup()
            return {}
        sid = self._spreadsheet(n)
        first = self._sync(sid)
        unchanged = self._sync(sid)
        naive = self._naive(self._spreadsheet(n), n)
        no_latency = self._timed_sync(self._spreadsheet(n))
        self.api.latency = self.latency
        with_latency = self._timed_sync(self._spreadsheet(n))
        self.api.latency = 0.0
        return {
            "requests_first": first,
            "requests_unchanged": unchanged,
            "naive_requests": naive,
            "naive_latency_s": _naive_seconds(naive, self.latency),
            "google_s": no_latency,
            "google_latency_s": with_latency,
            "round_trip_share": (with_latency - no_latency) / with_latency,
        }

    def _timed_sync(self, sid: str) -> float:
        start = time.perf_counter()
        self._sync(sid)
        return time.perf_counter() - start


def bench_config(api: SheetsStandIn, key: Path, sid: str, folder: Path, **extra: Any) -> Config:
    """The config of one benchmark sync of spreadsheet `sid` (alerts off, no rate limit)."""
    raw: dict[str, Any] = {
        "workbooks": [{"name": "bench", "spreadsheet": sid}],
        "google": {
            "api_url": api.url,
            "credentials": str(key),
            "requests_per_minute": 1_000_000,
            "timeout": 300,
        },
        "alerts": {"enabled": False},
    }
    return parse_config(raw | extra, source=str(folder / "bench.toml"))


def _naive_seconds(count: int | str, latency: float) -> float:
    """What the per-row loop spends waiting alone: one round trip per request."""
    number = int(str(count).split()[0].replace(",", ""))
    return number * latency
