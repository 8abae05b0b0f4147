"""A year of nights: does the last night cost what the first unchanged night cost?

    python benchmarks/history_nights.py [--sizes 1000,10000] [--nights 365]
                                        [--backends excel,google] [--step 7] [--outbox]

Per size and backend, on a workbook of realistic shape (`benchmarks.workbooks`, period
2026-Q4 from 5 October) with the default configuration (alerts on, no mail server):

* night 1: the first sync, a whole `sheetsync run` process;
* night 2: nothing changed since night 1, a whole process, measured: the reference;
* nights 3 to N-1, simulated faster: every `step`-th night, 1% of the Current values change
  and the workbook is synced *in this process* (`runner.run_all`, the same code as
  `sheetsync run`, with that night's as-of date; not measured); the nights between are not
  run at all. What that leaves out: a night where nothing changed adds no History row, only
  one more run to each spell of the state tab; and with the default `remind_every_days = 7`
  a step of 7 raises the same alerts a week as running every night would (each reminder and
  repeated stale alert is due once a week; an alert on a changed value comes on the night
  of the change), so the Alerts tab and the state's alert spells grow as they would. A larger
  step raises fewer of them than a real year. The period ends on 31 December, so every key
  result also gets its period-end row in between;
* night N: nothing changed since the night before, a whole process, measured exactly like
  night 2;
* and, when the run goes past it, the night after the first simulated night a week past the
  period's end (31 December), measured the same way: by then every key result has its final
  grade and period-end row, so night N against it shows what the nights after the quarter
  cost (the state tab's spells of the quarter are kept `history_days`, 400 by default).

Without `--outbox` no mail server is configured (the default configuration): each e-mail
alert is logged `not sent: no mail server configured`, final, so nothing is owed. With
`--outbox` the alerts are written to an outbox folder and marked sent, as with a working mail
server (the marks are a second write of the night). Either way a night reads the Alerts tab
to its header only (the History state tab remembers what the rules need of it) and appends
its new rows below.

Printed per size and backend: CPU seconds and peak memory of night 2 and night N, their
ratio (goal, issue #14: night N <= 1.2x night 2), the rows of History, the Alerts tab and
the state tab at the end, the largest tab against Excel's 1,048,576 rows and the cells in
use against Google's 10 million per spreadsheet, and on Google the bytes each measured night
downloaded and which ranges it read (History is never among them). Excel is measured like
`benchmarks/nightly.py`, Google on the local Sheets API stand-in like
`benchmarks/google_bytes.py` (the stand-in answers in this process and is not counted).
`measure` is what `benchmarks/run.py` calls.
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
import time
import zipfile
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.google_bytes import Bench as GoogleBench  # noqa: E402
from benchmarks.nightly import _sheet_part, change_one_percent, excel_config  # noqa: E402
from benchmarks.processes import measure as measure_process  # noqa: E402
from benchmarks.processes import sheetsync_run  # noqa: E402
from benchmarks.workbooks import OKR_HEADER, rows, write_xlsx  # noqa: E402

FIRST_NIGHT = date(2026, 10, 5)
CURRENT = OKR_HEADER.index("Current")


def _in_process(config: Path, as_of: date) -> None:
    """One simulated night: the same sync as `sheetsync run`, in this process. Its CPU time
    goes to stderr as progress (in-process, no start-up: not a figure of the table)."""
    from sheetsync.config import load_config
    from sheetsync.runner import run_all

    started = time.process_time()
    report = run_all(
        load_config(config), as_of=as_of, now=datetime.combine(as_of, datetime.min.time())
    )
    failed = [w.error for w in report.workbooks if w.error]
    if failed:
        raise RuntimeError(failed[0])
    night = (as_of - FIRST_NIGHT).days + 1
    print(f"  simulated night {night}: {time.process_time() - started:.2f} s in-process CPU",
          file=sys.stderr, flush=True)  # fmt: skip


def _simulated_nights(nights: int, step: int) -> list[date]:
    """The nights run in between (3 .. N-1, every `step`-th, and always N-1)."""
    days = [FIRST_NIGHT + timedelta(days=n) for n in range(2, nights - 1, step)]
    last = FIRST_NIGHT + timedelta(days=nights - 2)
    return [*days, last] if nights > 3 and (not days or days[-1] != last) else days


EXCEL_ROWS, GOOGLE_CELLS = 1_048_576, 10_000_000
TABS = ("OKRs", "KPIs", "Summary", "History", "Alerts", "History state")


PERIOD_END = date(2026, 12, 31)
"""The workbook's key results end with 2026-Q4: from the first week after it, every key
result has its final grade and its period-end History row, and the state its spells."""


def _settled_night(simulated: list[date], last: date) -> date | None:
    """The night measured once the period is over (the day after the first simulated night a
    week past its end, nothing changed in between), or None when the run ends before."""
    after = next((d for d in simulated if d >= PERIOD_END + timedelta(days=7)), None)
    if after is None or after + timedelta(days=1) >= last:
        return None
    return after + timedelta(days=1)


def _xlsx_extent(path: Path, title: str) -> tuple[int, int]:
    """(rows, grid cells) of one tab: its rows, times the columns its dimension spans (Google
    counts every cell of a tab's grid against its limit, empty or not)."""
    with zipfile.ZipFile(path) as package:
        try:
            part = _sheet_part(path, title)
        except (AttributeError, KeyError):
            return 0, 0
        data = package.read(part)
        rows = data.count(b"<row ")
        found = re.search(rb'<dimension ref="[A-Z]+\d+:([A-Z]+)\d+"', data)
        width = 0
        for letter in found.group(1).decode() if found else "A":
            width = width * 26 + ord(letter) - 64
        return rows, rows * width


def _limits(extents: dict[str, tuple[int, int]]) -> dict[str, Any]:
    """Each tab's rows and grid cells, and the share of each product's limit used."""
    tallest = max(extents, key=lambda t: extents[t][0])
    cells = sum(c for _, c in extents.values())
    return {
        "history_rows": extents.get("History", (0, 0))[0],
        "alerts_rows": extents.get("Alerts", (0, 0))[0],
        "state_rows": extents.get("History state", (0, 0))[0],
        "tallest_tab": tallest,
        "excel_rows_used": extents[tallest][0] / EXCEL_ROWS,
        "google_cells_used": cells / GOOGLE_CELLS,
    }


def _with_outbox(config: Path) -> Path:
    config.write_text(config.read_text() + '[email]\noutbox = "outbox"\n', encoding="utf-8")
    return config


def excel(n: int, nights: int, step: int, work: Path, outbox: bool = False) -> dict[str, Any]:
    folder = work / f"excel-{n}"
    folder.mkdir()
    book = write_xlsx(folder / "okrs.xlsx", n)
    config = excel_config(folder, book)
    if outbox:
        _with_outbox(config)
    first = measure_process(sheetsync_run(config, FIRST_NIGHT))
    second = measure_process(sheetsync_run(config, FIRST_NIGHT + timedelta(days=1)))
    simulated = _simulated_nights(nights, step)
    end = FIRST_NIGHT + timedelta(days=nights - 1)
    settled_day, settled = _settled_night(simulated, end), None
    for day in simulated:
        change_one_percent(book)
        _in_process(config, day)
        if settled_day is not None and day + timedelta(days=1) == settled_day:
            settled = {**measure_process(sheetsync_run(config, settled_day)).__dict__,
                       "night": (settled_day - FIRST_NIGHT).days + 1}  # fmt: skip
    last = measure_process(sheetsync_run(config, end))
    return {
        "backend": "excel",
        "rows": n,
        "nights": [first.__dict__, second.__dict__, last.__dict__],
        "settled": settled,
        "simulated_nights": len(simulated),
        **_limits({tab: _xlsx_extent(book, tab) for tab in TABS}),
        "file_mb": book.stat().st_size / 1e6,
    }


def google(
    n: int, nights: int, step: int, bench: GoogleBench, outbox: bool = False
) -> dict[str, Any]:
    sid = bench.spreadsheet(n)
    config = bench.config([sid])
    if outbox:
        _with_outbox(config)
    api = bench.api
    changed_rows = list(range(2, n + 2, 100))

    def night(day: date) -> dict[str, Any]:
        api.reset_counts()
        cost = measure_process(sheetsync_run(config, day))
        ranges = [r.params.get("ranges", []) for r in api.requests_of("get")]
        return {"cpu": cost.cpu, "peak_mb": cost.peak_mb, "down": api.bytes_down,
                "requests": api.api_requests, "ranges": ranges}  # fmt: skip

    first = night(FIRST_NIGHT)
    second = night(FIRST_NIGHT + timedelta(days=1))
    simulated = _simulated_nights(nights, step)
    end = FIRST_NIGHT + timedelta(days=nights - 1)
    settled_day, settled = _settled_night(simulated, end), None
    letter = chr(ord("A") + CURRENT)
    okrs, _ = rows(n)
    for bump, day in enumerate(simulated, start=1):
        for row in changed_rows:
            value = okrs[row - 1][CURRENT]
            if isinstance(value, int | float):
                api.set_values(sid, "OKRs", f"{letter}{row}", [[value + bump]])
        _in_process(config, day)
        if settled_day is not None and day + timedelta(days=1) == settled_day:
            settled = {**night(settled_day), "night": (settled_day - FIRST_NIGHT).days + 1}
    last = night(end)
    extents = {}
    for tab in TABS:
        if tab in api.tabs(sid):
            grid_rows, grid_cols = api.grid_size(sid, tab)
            extents[tab] = (len(api.values(sid, tab)), grid_rows * grid_cols)
    return {
        "backend": "google",
        "rows": n,
        "nights": [first, second, last],
        "settled": settled,
        "simulated_nights": len(simulated),
        **_limits(extents),
        "down_second": second["down"],
        "down_last": last["down"],
    }


def measure(
    sizes: list[int], nights: int, backends: list[str], step: int = 7, outbox: bool = False
) -> list[dict[str, Any]]:
    """Per backend and size: night 1, night 2 (first unchanged) and night `nights` (unchanged
    since the night before) as whole processes (`nights`: [night 1, 2, N], each with `cpu`
    and `peak_mb`), `last_over_first_unchanged` (CPU ratio, goal <= 1.2), History's and the
    state tab's rows at the end."""
    nights = max(nights, 3)
    results = []
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-history-") as tmp:
        work = Path(tmp)
        google_bench = GoogleBench() if "google" in backends else None
        try:
            for n in sizes:
                for backend in backends:
                    if backend == "excel":
                        result = excel(n, nights, step, work, outbox)
                    else:
                        assert google_bench is not None
                        result = google(n, nights, step, google_bench, outbox)
                    second, last = result["nights"][1], result["nights"][-1]
                    result["night_count"] = nights
                    result["last_over_first_unchanged"] = last["cpu"] / second["cpu"]
                    result["peak_last_over_first_unchanged"] = last["peak_mb"] / second["peak_mb"]
                    settled = result.get("settled")
                    result["last_over_settled"] = last["cpu"] / settled["cpu"] if settled else None
                    results.append(result)
        finally:
            if google_bench is not None:
                google_bench.close()
    return results


def table(results: list[dict[str, Any]]) -> str:
    lines = [
        "| backend | items | night 2 CPU / peak | night N CPU / peak | N / 2 CPU (goal <= 1.2x) "
        "| N / 2 memory | night after the period's end CPU | N / that night CPU "
        "| History rows | Alerts rows | state rows | limits used | simulated nights |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        second, last, settled = r["nights"][1], r["nights"][-1], r.get("settled")
        after_end = (
            f"{settled['cpu']:.2f} s (night {settled['night']}) | {r['last_over_settled']:.2f}x"
            if settled
            else "- | -"
        )
        lines.append(
            f"| {r['backend']} | {r['rows']:,} "
            f"| {second['cpu']:.2f} s / {second['peak_mb']:.0f} MB "
            f"| {last['cpu']:.2f} s / {last['peak_mb']:.0f} MB (night {r['night_count']}) "
            f"| {r['last_over_first_unchanged']:.2f}x | {r['peak_last_over_first_unchanged']:.2f}x "
            f"| {after_end} | {r['history_rows']:,} | {r['alerts_rows']:,} | {r['state_rows']:,} "
            f"| Excel rows {r['excel_rows_used']:.1%} ({r['tallest_tab']}), Google cells "
            f"{r['google_cells_used']:.1%} | {r['simulated_nights']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--nights", type=int, default=365)
    parser.add_argument("--backends", default="excel,google")
    parser.add_argument("--step", type=int, default=7, help="simulate every STEP-th night")
    parser.add_argument(
        "--outbox", action="store_true", help="deliver alerts to an outbox (a mail server)"
    )
    args = parser.parse_args(argv)
    results = measure(
        [int(s) for s in args.sizes.split(",")],
        args.nights,
        args.backends.split(","),
        step=args.step,
        outbox=args.outbox,
    )
    print(table(results))
    print(
        f"Nights 1, 2 and {max(args.nights, 3)} are whole `sheetsync run` processes; in between "
        f"every {args.step}-th night is synced in-process (1% of the values changed) and the "
        "other nights are not run: they would add no History row, only runs to the state's "
        "spells"
        + (
            ", and (with remind_every_days = 7) no alert the simulated nights do not raise."
            if args.step == 7
            else f"; a step of {args.step} also leaves out the weekly reminders and repeated "
            "stale alerts due on the nights it skips (a smaller Alerts tab than a real year)."
        )
        if args.step > 1
        else "Every night is run."
    )
    for r in results:
        if r["backend"] == "google":
            print(f"google {r['rows']:,}: night 2 read {r['nights'][1]['ranges']}, "
                  f"{r['down_second']:,} B down; night {r['night_count']} read "
                  f"{r['nights'][-1]['ranges']}, {r['down_last']:,} B down")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
