"""sheetsync benchmarks: ratios against the floor, not absolute times.

    python benchmarks/run.py [--quick] [--sizes 100,1000] [--latency 0.1] [--repeat 3]

1. Excel: a full `sheetsync run` of one workbook vs openpyxl loading and saving the same file
   (the least any tool that edits the file in place pays), and peak memory against the same floor.
2. Google, calls: Sheets API requests per sync against the local API stand-in, at every size,
   beside the request count of the per-row gspread loop people write by hand.
3. Google, time: sync time with an injected per-request latency (round trips, not rows).
4. Scoring core: validation + scoring + planning on in-memory grids, rows per second, and its
   share of the Excel sync.
5. Growth: how each cost grows from 1,000 to 10,000 to 50,000 rows (flags worse than linear).

Medians of repeated runs in one process; the table goes to benchmarks/results/latest.md (+ .json).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.workbooks import grids, write_xlsx  # noqa: E402
from sheetsync.backends.base import Snapshot  # noqa: E402
from sheetsync.config import parse_config  # noqa: E402
from sheetsync.runner import run_all  # noqa: E402
from sheetsync.sync import plan_writes, score_snapshot  # noqa: E402

AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 2, 0)
RESULTS = ROOT / "benchmarks" / "results"


def median_time(
    fn: Callable[[], object], repeat: int, setup: Callable[[], object] | None = None
) -> float:
    times = []
    for _ in range(repeat):
        if setup:
            setup()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def excel_config(path: Path) -> Any:
    return parse_config(
        {
            "workbooks": [{"name": "bench", "path": str(path)}],
            "alerts": {"enabled": False},
            "excel": {"backups": 0},
        },
        source=str(path.parent / "bench.toml"),
    )


def _peak_rss_mb(code: str) -> float:
    """Peak resident memory of a fresh Python process running `code` (its own VmHWM).

    Read inside the child: the rusage of a forked child also counts the pages it shared
    with this (large) parent before exec.
    """
    probe = "\nprint(open('/proc/self/status').read().split('VmHWM:')[1].split()[0])"
    out = subprocess.run(
        [sys.executable, "-c", code + probe], cwd=ROOT, check=True, capture_output=True, text=True
    )
    return int(out.stdout.split()[-1]) / 1024


def sync_and_floor(
    original: Path, target: Path, saved: Path
) -> tuple[Callable[[], None], Callable[[], None], Callable[[], None]]:
    """`fresh` (copy the original over the target), `sync` (a whole sheetsync run of the
    target) and `floor` (openpyxl loading and saving the target), for `median_time`."""
    config = excel_config(target)

    def fresh() -> None:
        shutil.copyfile(original, target)

    def floor() -> None:
        import openpyxl

        openpyxl.load_workbook(target).save(saved)

    def sync() -> None:
        report = run_all(config, as_of=AS_OF, now=NOW)
        assert not report.failed, report.failed[0].error

    return fresh, sync, floor


def bench_excel(n: int, work: Path, repeat: int) -> dict[str, Any]:
    original = write_xlsx(work / f"bench-{n}.xlsx", n)
    target = work / f"target-{n}.xlsx"
    saved = work / f"saved-{n}.xlsx"
    fresh, sync, floor = sync_and_floor(original, target, saved)

    floor_s = median_time(floor, repeat, fresh)
    sync_s = median_time(sync, repeat, fresh)
    fresh()
    sync()
    unchanged_s = median_time(sync, repeat)
    fresh()
    floor_mb = _peak_rss_mb(
        f"import openpyxl; openpyxl.load_workbook({str(target)!r}).save({str(saved)!r})"
    )
    fresh()
    sync_mb = _peak_rss_mb(
        "from benchmarks.run import excel_config, AS_OF, NOW\n"
        "from sheetsync.runner import run_all\nfrom pathlib import Path\n"
        f"run_all(excel_config(Path({str(target)!r})), as_of=AS_OF, now=NOW)"
    )
    return {
        "floor_s": floor_s,
        "sync_s": sync_s,
        "unchanged_s": unchanged_s,
        "ratio": sync_s / floor_s,
        "floor_mb": floor_mb,
        "sync_mb": sync_mb,
        "mem_ratio": sync_mb / floor_mb,
    }


def bench_core(n: int, repeat: int) -> dict[str, Any]:
    okrs, kpis = grids(n)
    snapshot = Snapshot({"OKRs": okrs, "KPIs": kpis})
    config = parse_config({"workbooks": [{"name": "bench", "path": "x.xlsx"}]})
    wb = config.workbooks[0]

    def core() -> None:
        scored = score_snapshot(snapshot, "bench", config, wb, AS_OF)
        plan_writes(snapshot, scored, config.tabs, "bench", AS_OF)

    seconds = median_time(core, repeat)
    return {"core_s": seconds, "rows_per_s": n / seconds}


def growth(results: dict[int, dict[str, Any]], key: str) -> list[str]:
    """Cost ratio between consecutive sizes >= 1,000, flagged when worse than linear."""
    sizes = [s for s in sorted(results) if s >= 1000 and key in results[s]]
    notes = []
    for a, b in itertools.pairwise(sizes):
        ratio = results[b][key] / results[a][key]
        rows = b / a
        flag = " WORSE THAN LINEAR" if ratio > rows * 1.3 else ""
        notes.append(f"{a:,}->{b:,}: x{ratio:.1f} for x{rows:.0f} rows{flag}")
    return notes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="skip the 50,000-row size")
    parser.add_argument("--sizes", help="comma-separated row counts (overrides --quick)")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measure (median)")
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per Google request")
    parser.add_argument("--no-google", action="store_true", help="skip the Google measures")
    args = parser.parse_args(argv)
    sizes = [100, 1000, 10_000] if args.quick else [100, 1000, 10_000, 50_000]
    if args.sizes:
        sizes = [int(s) for s in args.sizes.split(",")]

    results: dict[int, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-") as tmp:
        work = Path(tmp)
        google = None if args.no_google else _google_bench(args.latency)
        for n in sizes:
            repeat = args.repeat if n <= 10_000 else max(1, args.repeat - 1)
            print(f"… {n:,} rows", file=sys.stderr, flush=True)
            results[n] = bench_excel(n, work, repeat) | bench_core(n, repeat)
            results[n]["core_share"] = results[n]["core_s"] / results[n]["sync_s"]
            if google:
                results[n] |= google(n)
        if google:
            google(None)
    table = render(results, args)
    print(table)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.md").write_text(table + "\n", encoding="utf-8")
    payload = {"sizes": {str(k): v for k, v in results.items()}, "args": vars(args)}
    (RESULTS / "latest.json").write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    return 0


def _google_bench(latency: float) -> Callable[[int | None], dict[str, Any]] | None:
    try:
        from benchmarks.google_bench import GoogleBench
    except ImportError:
        return None
    return GoogleBench(latency)


def render(results: dict[int, dict[str, Any]], args: argparse.Namespace) -> str:
    lines = [
        f"# sheetsync benchmark ({datetime.now():%Y-%m-%d %H:%M}, Python {sys.version.split()[0]}, "
        f"{os.cpu_count()} cores)",
        "",
        "| rows | Excel sync / openpyxl load+save | unchanged re-run / floor "
        "| peak memory sync / floor | Google requests per sync (first / unchanged) "
        "| hand-written gspread loop requests "
        f"| Google sync: local / at {args.latency * 1000:.0f} ms per request (hand-written loop) "
        "| scoring core rows/s | core share of Excel sync |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, r in sorted(results.items()):
        lines.append(
            f"| {n:,} | **{r['ratio']:.2f}x** ({r['sync_s']:.2f}s / {r['floor_s']:.2f}s) "
            f"| {r['unchanged_s'] / r['floor_s']:.2f}x "
            f"| {r['mem_ratio']:.2f}x ({r['sync_mb']:.0f} / {r['floor_mb']:.0f} MB) "
            f"| {r.get('requests_first', '-')} / {r.get('requests_unchanged', '-')} "
            f"| {r.get('naive_requests', '-')} "
            f"| {_google_time(r)} "
            f"| {r['rows_per_s']:,.0f} | {r['core_share']:.1%} |"
        )
    lines += ["", "Growth (cost ratio between sizes; linear = the row ratio):", ""]
    for key, label in (
        ("sync_s", "Excel sync"),
        ("floor_s", "openpyxl floor"),
        ("core_s", "scoring core"),
        ("google_latency_s", "Google sync"),
    ):
        notes = growth(results, key)
        if notes:
            lines.append(f"- {label}: " + "; ".join(notes))
    return "\n".join(lines)


def _google_time(r: dict[str, Any]) -> str:
    if "google_latency_s" not in r:
        return "-"
    return f"{r['google_s']:.2f}s / {r['google_latency_s']:.2f}s ({r['naive_latency_s']:,.0f}s)"


if __name__ == "__main__":
    sys.exit(main())
