"""sheetsync benchmark: every row of issue #14's table, each goal beside its figure.

    python benchmarks/run.py [--quick] [--with-100k] [--sizes 1000,10000] [--repeat 3]
                             [--only excel,history,google,core,workers,google-many]

Every sync is a whole `sheetsync run` process from start to exit with the default
configuration (alerts on), measured by `benchmarks.processes` (CPU seconds, peak memory), and
each figure is printed as a ratio against its reference measured in the same run, on the same
file, beside issue #14's goal and whether it is met:

* Excel (`benchmarks.nightly`): first sync against openpyxl load+save, an unchanged sync and a
  sync after 1% of the values changed against a python-calamine read, peak memory against
  openpyxl; 100,000 rows only with `--with-100k`.
* History over many nights (`benchmarks.history_nights`): the last night against the first
  unchanged one.
* Google (`benchmarks.google_bytes`, on the local Sheets API stand-in): unchanged download
  against the OKRs and KPIs values, client CPU, first-sync upload per written cell, requests.
* The pure core (validation, scoring, write planning; in process, it has no I/O): rows per
  second and its share of a whole Excel sync of the same size.
* 200 small Excel workbooks (`benchmarks.many_workbooks`): `--workers 2` against 1.
* 200 small Google workbooks, one `sheetsync run` with its rate limit set exactly at the
  stand-in's quota (counted on arrival, as Google does): token requests, 429s.

`--quick` (1,000 rows, one round, fewer nights and workbooks) takes a few minutes on 2 cores.
The table goes to benchmarks/results/latest.md (+ .json). Needs `pip install -e ".[bench]"`.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import google_bytes, nightly  # noqa: E402
from benchmarks.processes import measure, median  # noqa: E402
from benchmarks.workbooks import grids  # noqa: E402
from sheetsync.backends.base import Snapshot  # noqa: E402
from sheetsync.backends.gcpause import cyclic_gc_paused  # noqa: E402
from sheetsync.config import parse_config  # noqa: E402
from sheetsync.sync import plan_writes, score_snapshot  # noqa: E402

AS_OF = date(2026, 11, 15)
RESULTS = ROOT / "benchmarks" / "results"
SECTIONS = ("startup", "excel", "history", "google", "core", "workers", "google-many")
GOOGLE_LARGEST = 10_000
"""Google sizes stop here: above it the stand-in (Python, in this process) is the bottleneck."""
SMALL_ROWS = 20
"""Key results in each of the many small Google workbooks."""


@dataclass
class Row:
    """One line of the table: a figure, its reference from the same run, and the goal."""

    what: str
    size: str
    figure: str
    reference: str
    ratio: float | None
    """figure / reference; None when the measure could not run (see `verdict`)."""
    goal: str = ""
    verdict: str = "no goal"
    percent: bool = False
    """The ratio reads as a share (of the reference) rather than a multiple of it."""

    def ratio_text(self) -> str:
        if self.ratio is None:
            return "-"
        return f"**{self.ratio:.1%}**" if self.percent else f"**{self.ratio:.2f}x**"


def judged(row: Row, at_most: float | None = None, at_least: float | None = None) -> Row:
    """`row` with its verdict against the goal (a ratio at most or at least a bound)."""
    assert row.ratio is not None
    met = (at_most is None or row.ratio <= at_most) and (at_least is None or row.ratio >= at_least)
    row.verdict = "met" if met else "NOT MET"
    return row


def not_measured(what: str, why: str, goal: str) -> Row:
    return Row(what, "-", "-", "-", None, goal, f"not measured: {why}")


def _s(seconds: float) -> str:
    return f"{seconds:.2f} s"


def _mb(mb: float) -> str:
    return f"{mb:,.0f} MB"


def _bytes(n: float) -> str:
    return f"{n / 1e6:.2f} MB" if n >= 1e6 else f"{n / 1e3:.0f} kB"


# --- start-up ------------------------------------------------------------------------------


def startup_rows(repeat: int) -> list[Row]:
    """What every run pays before it opens a workbook: `sheetsync --version` as a process,
    against the Python interpreter starting and doing nothing. No goal of its own; it is
    part of every whole-process figure below."""
    python = median([measure([sys.executable, "-c", "pass"]) for _ in range(repeat)])
    version = [sys.executable, "-m", "sheetsync.cli", "--version"]
    startup = median([measure(version) for _ in range(repeat)])
    return [
        Row("Start-up (`sheetsync --version`), CPU", "-", _s(startup.cpu),
            f"Python doing nothing {_s(python.cpu)}", startup.cpu / python.cpu)
    ]  # fmt: skip


# --- Excel -----------------------------------------------------------------------------------


def excel_rows(results: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for r in results:
        size = f"{r['rows']:,}"
        op, op_synced, ca = r["openpyxl"], r["openpyxl_synced"], r["calamine"]
        first, same, changed = r["first"], r["unchanged"], r["changed_1pct"]
        rows += [
            judged(
                Row("Excel first sync, CPU", size, _s(first["cpu"]),
                    f"openpyxl load+save {_s(op['cpu'])}", first["cpu"] / op["cpu"], "<= 0.5x"),
                at_most=0.5,
            ),
            judged(
                Row("Excel unchanged sync, CPU", size, _s(same["cpu"]),
                    f"python-calamine read {_s(ca['cpu'])}", same["cpu"] / ca["cpu"], "<= 3x"),
                at_most=3,
            ),
            Row("Excel sync after 1% of values changed, CPU", size, _s(changed["cpu"]),
                f"python-calamine read {_s(ca['cpu'])}", changed["cpu"] / ca["cpu"]),
            judged(
                Row("Excel first sync, peak memory", size, _mb(first["peak_mb"]),
                    f"openpyxl load+save {_mb(op['peak_mb'])}",
                    first["peak_mb"] / op["peak_mb"], "<= 1x"),
                at_most=1,
            ),
            judged(
                Row("Excel unchanged sync, peak memory", size, _mb(same["peak_mb"]),
                    f"openpyxl load+save of the synced file {_mb(op_synced['peak_mb'])}",
                    same["peak_mb"] / op_synced["peak_mb"], "<= 1x"),
                at_most=1,
            ),
        ]  # fmt: skip
    return rows


# --- History over many nights ----------------------------------------------------------------


def history_rows(sizes: list[int], nights: int, work: Path) -> list[Row]:
    """The last of `nights` nights against the first unchanged one, per backend and size.

    `benchmarks/history_nights.py` (both backends, a year simulated) is measured when it is
    there; until it lands, `benchmarks.nightly.bench_nights` (Excel, every night run).
    """
    try:
        history_nights = importlib.import_module("benchmarks.history_nights")
    except ModuleNotFoundError:
        r = nightly.bench_nights(min(sizes), nights, work)
        results = [{"backend": "excel", "rows": r["rows"], "nights": r["nights"],
                    "night_count": len(r["nights"])}]  # fmt: skip
    else:
        results = history_nights.measure(sizes, nights, ["excel", "google"])
    return [row for r in results for row in _night_rows(r)]


def _night_rows(r: dict[str, Any]) -> list[Row]:
    second = r["nights"][1] if len(r["nights"]) > 1 else r["nights"][0]
    last = r["nights"][-1]
    what = f"{r['backend'].capitalize()}: night {r['night_count']}, nothing changed that night"
    size = f"{r['rows']:,}"
    kept = ""
    if "history_rows" in r:
        kept = (
            f"; History {r['history_rows']:,} rows, Alerts {r.get('alerts_rows', 0):,}, "
            f"state tab {r['state_rows']:,}"
        )
    return [
        judged(
            Row(f"{what}, CPU", size, f"{_s(last['cpu'])}{kept}",
                f"night 2 (first unchanged) {_s(second['cpu'])}", last["cpu"] / second["cpu"],
                "<= 1.2x"),
            at_most=1.2,
        ),
        judged(
            Row(f"{what}, peak memory", size, _mb(last["peak_mb"]),
                f"night 2 {_mb(second['peak_mb'])}", last["peak_mb"] / second["peak_mb"],
                "flat (<= 1.2x)"),
            at_most=1.2,
        ),
    ]  # fmt: skip


# --- Google ----------------------------------------------------------------------------------


def google_rows(results: list[dict[str, Any]]) -> list[Row]:
    rows = []
    for r in results:
        size = f"{r['rows']:,}"
        u, f, ref = r["unchanged"], r["first"], r["reference"]
        rows += [
            judged(
                Row("Google unchanged sync, bytes down", size, _bytes(u["down"]),
                    f"OKRs+KPIs values {_bytes(ref['values'])}", r["unchanged_down_ratio"],
                    "<= 1.5x"),
                at_most=1.5,
            ),
            judged(
                Row("Google unchanged sync, client CPU", size, _s(u["cpu"]), "the goal, 1 s",
                    u["cpu"] / 1.0, "<= 1x (1 s at 10k)"),
                at_most=1,
            ),
            judged(
                Row("Google first sync, bytes up per written cell", size,
                    f"{r['first_up_per_cell']:.0f} B ({_bytes(f['up'])}, {f['cells']:,.0f} cells)",
                    "the goal, 40 B", r["first_up_per_cell"] / 40, "<= 1x (40 B)"),
                at_most=1,
            ),
            judged(
                Row("Google requests, unchanged sync", size, f"{u['requests']:.0f}", "the goal, 1",
                    u["requests"] / 1, "<= 1x (1)"),
                at_most=1,
            ),
            judged(
                Row("Google requests, first sync (something to write)", size,
                    f"{f['requests']:.0f}", "the goal, 2", f["requests"] / 2, "<= 1x (2)"),
                at_most=1,
            ),
        ]  # fmt: skip
    return rows


def google_many_rows(result: dict[str, Any], count: int, quota: int) -> list[Row]:
    size = f"{count} x {SMALL_ROWS}"
    return [
        judged(
            Row(f"{count} small Google workbooks: token requests per key file", size,
                f"{result['tokens']}", "1 key file", result["tokens"] / 1, "<= 1x (1 per file)"),
            at_most=1,
        ),
        judged(
            Row(f"{count} small Google workbooks: 429s at the quota bound ({quota}/min)", size,
                f"{result['refused_for_quota']} of {result['requests']} requests "
                f"({result['wall']:.0f} s)", f"{result['requests']} requests",
                result["refused_for_quota"] / result["requests"], "0", percent=True),
            at_most=0,
        ),
    ]  # fmt: skip


# --- the pure core ---------------------------------------------------------------------------


def bench_core(n: int, repeat: int) -> float:
    """CPU seconds of validation, scoring and write planning for `n` key results (median),
    as CPU like every other figure: on a shared machine wall time counts other people's work."""
    okrs, kpis = grids(n)
    snapshot = Snapshot({"OKRs": okrs, "KPIs": kpis})
    config = parse_config({"workbooks": [{"name": "bench", "path": "x.xlsx"}]})
    wb = config.workbooks[0]
    times = []
    for _ in range(repeat + 1):  # the first round warms up (lazy imports, caches), untimed
        start = time.process_time()
        with cyclic_gc_paused():  # as the runner syncs each workbook
            scored = score_snapshot(snapshot, "bench", config, wb, AS_OF)
            plan_writes(snapshot, scored, config.tabs, "bench", AS_OF)
        times.append(time.process_time() - start)
    return statistics.median(times[1:])


def core_rows(n: int, seconds: float, excel_first_cpu: float | None) -> list[Row]:
    size = f"{n:,}"
    rows = [
        judged(
            Row("Pure core (validate, score, plan), rows/s", size, f"{n / seconds:,.0f} rows/s",
                "the goal, 300,000 rows/s", n / seconds / 300_000, ">= 1x (300k rows/s)"),
            at_least=1,
        )
    ]  # fmt: skip
    if excel_first_cpu is not None:
        rows.append(
            judged(
                Row("Pure core, share of an Excel first sync", size, _s(seconds),
                    f"Excel first sync {_s(excel_first_cpu)}", seconds / excel_first_cpu,
                    "< 5%", percent=True),
                at_most=0.05,
            )
        )  # fmt: skip
    return rows


# --- many Excel workbooks, workers -----------------------------------------------------------


def workers_rows(count: int, repeat: int) -> list[Row]:
    goal = ">= 1.7x"
    what = f"{count} small Excel workbooks, --workers 2 vs 1"
    try:
        many = importlib.import_module("benchmarks.many_workbooks")
    except ModuleNotFoundError:
        return [not_measured(what, "benchmarks/many_workbooks.py has not landed", goal)]
    results = {r["workers"]: r for r in many.measure(count, (1, 2), rounds=repeat)}
    one, two = results[1], results[2]
    ceiling = f"; the machine allowed {two['ceiling']:.2f}x" if "ceiling" in two else ""
    row = Row(what, f"{count} x {SMALL_ROWS}", f"2 workers {_s(two['seconds'])} (wall){ceiling}",
              f"1 worker {_s(one['seconds'])}", one["seconds"] / two["seconds"], goal)  # fmt: skip
    return [judged(row, at_least=1.7)]


# --- the whole run ---------------------------------------------------------------------------


def measure_all(args: argparse.Namespace, work: Path) -> tuple[list[Row], dict[str, Any]]:
    """Every selected section, in the table's order; the raw figures and timings beside."""
    only = set(args.only.split(",")) if args.only else set(SECTIONS)
    rows: list[Row] = []
    raw: dict[str, Any] = {"seconds": {}}

    def section(name: str, fn: Callable[[], list[Row]]) -> None:
        if name not in only:
            return
        print(f"… {name}", file=sys.stderr, flush=True)
        started = time.monotonic()
        rows.extend(fn())
        raw["seconds"][name] = round(time.monotonic() - started, 1)
        print(f"  {name}: {raw['seconds'][name]:.0f} s", file=sys.stderr, flush=True)

    excel: list[dict[str, Any]] = []

    def do_excel() -> list[Row]:
        for n in args.sizes:
            repeat = args.repeat if n <= 10_000 else max(1, args.repeat - 2)
            excel.append(nightly.bench_size(n, work, repeat))
        raw["excel"] = excel
        return excel_rows(excel)

    def do_google() -> list[Row]:
        bench = google_bytes.Bench()
        try:
            results = [bench.measure(n, args.repeat) for n in args.sizes if n <= GOOGLE_LARGEST]
        finally:
            bench.close()
        raw["google"] = results
        return google_rows(results)

    def do_core() -> list[Row]:
        out = []
        for n in args.sizes:
            seconds = bench_core(n, args.repeat)
            first = next((r["first"]["cpu"] for r in excel if r["rows"] == n), None)
            out += core_rows(n, seconds, first)
        return out

    def do_google_many() -> list[Row]:
        count = args.google_workbooks
        quota = args.google_quota or count
        result = many_google_workbooks(count, quota)
        raw["google_many"] = result
        return google_many_rows(result, count, quota)

    section("startup", lambda: startup_rows(args.repeat))
    section("excel", do_excel)
    section("history", lambda: history_rows(args.night_sizes or args.sizes, args.nights, work))
    section("google", do_google)
    section("core", do_core)
    section("workers", lambda: workers_rows(args.workbooks, args.repeat))
    section("google-many", do_google_many)
    return rows, raw


def many_google_workbooks(count: int, quota: int) -> dict[str, Any]:
    """`count` small spreadsheets in one `sheetsync run --workers 2` whose rate limit is set
    exactly at the stand-in's quota of `quota` requests a minute (on a stand-in of its own)."""
    bench = google_bytes.Bench()
    try:
        config = bench.config([bench.spreadsheet(SMALL_ROWS) for _ in range(count)], quota)
        bench.api.set_quota(quota, per_seconds=60)
        started = time.monotonic()
        result = bench.sync(config, "--workers", "2")
        result["wall"] = time.monotonic() - started
        return result
    finally:
        bench.close()


def render(rows: list[Row], args: argparse.Namespace, raw: dict[str, Any]) -> str:
    seconds = ", ".join(f"{k} {v:.0f} s" for k, v in raw["seconds"].items())
    lines = [
        f"# sheetsync benchmark ({datetime.now():%Y-%m-%d %H:%M}, Python "
        f"{sys.version.split()[0]}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end)",
        "",
        f"`python benchmarks/run.py {' '.join(args.argv)}`".replace(" `", "`"),
        f"(medians of {args.repeat}; took {seconds}).",
        "",
        "| what | key results | figure | reference, same run | ratio | goal | |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.what} | {r.size} | {r.figure} | {r.reference} | {r.ratio_text()} "
            f"| {r.goal} | {r.verdict} |"
        )
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="1,000 rows, one round, 10 nights, 40 workbooks: a few minutes",
    )
    parser.add_argument(
        "--with-100k",
        action="store_true",
        help="add 100,000 rows (Excel and core; one round; adds about 10 min)",
    )
    parser.add_argument("--sizes", help="comma-separated key-result counts (default 1000,10000)")
    parser.add_argument("--repeat", type=int, help="rounds per measure, median (default 3)")
    parser.add_argument("--nights", type=int, help="nights in a row for History (default 30)")
    parser.add_argument("--night-sizes", help="key-result counts for the nights (default: sizes)")
    parser.add_argument("--workbooks", type=int, help="small Excel workbooks (default 200)")
    parser.add_argument("--google-workbooks", type=int, help="small Google workbooks (default 200)")
    parser.add_argument(
        "--google-quota",
        type=int,
        help="the stand-in's quota and the run's requests_per_minute "
        "(default: one per workbook, so the first sync spans two minutes)",
    )
    parser.add_argument("--only", help=f"comma-separated sections: {','.join(SECTIONS)}")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS / "latest",
        help="where the .md and .json go (default benchmarks/results/latest)",
    )
    args = parser.parse_args(argv)  # fmt: skip
    quick = args.quick
    args.argv = list(sys.argv[1:] if argv is None else argv)
    sizes = args.sizes or ("1000" if quick else "1000,10000")
    args.sizes = [int(s) for s in sizes.split(",") if s]
    if args.with_100k:
        args.sizes.append(100_000)
    if args.night_sizes:
        args.night_sizes = [int(s) for s in args.night_sizes.split(",") if s]
    args.repeat = args.repeat or (1 if quick else 3)
    args.nights = args.nights or (10 if quick else 30)
    args.workbooks = args.workbooks or (40 if quick else 200)
    args.google_workbooks = args.google_workbooks or (20 if quick else 200)
    if args.only and not set(args.only.split(",")) <= set(SECTIONS):
        parser.error(f"--only takes {','.join(SECTIONS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-") as tmp:
        rows, raw = measure_all(args, Path(tmp))
    table = render(rows, args, raw)
    print(table)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.with_suffix(".md").write_text(table, encoding="utf-8")
    payload = {
        "rows": [asdict(r) for r in rows],
        "raw": raw,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }
    args.out.with_suffix(".json").write_text(json.dumps(payload, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
