"""What a night costs, measured the way a user pays for it: whole `sheetsync run` processes.

    python benchmarks/nightly.py [--sizes 1000,10000] [--nights 30] [--repeat 3]

Every figure is a separate process from start to exit (imports and start-up included) with the
default configuration (alerts on, no mail server: alerts are logged in the Alerts tab), timed
as CPU seconds (user + system) and peak resident memory of that process alone (`os.wait4`).
Each is printed as a ratio against a reference measured in the same run, on the same file:

* openpyxl load + save: what any tool that edits the workbook in place pays;
* python-calamine reading every sheet: the fastest reader of the values (Rust).

Cases, per size: first sync (nothing written yet), an unchanged re-run, a re-run after 1% of
the Current values changed, and `--nights` nights in a row at the smallest size with the as-of
date advancing one day a night and nothing changed (History grows), night 1 against the last.
Results go to benchmarks/results/nightly.md (+ .json). The goals are issue #14's.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.workbooks import write_xlsx  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
FIRST_NIGHT = date(2026, 10, 5)

OPENPYXL = "import openpyxl, sys\nwb = openpyxl.load_workbook(sys.argv[1])\nwb.save(sys.argv[2])\n"
CALAMINE = (
    "import sys\nfrom python_calamine import CalamineWorkbook\n"
    "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
    "for name in wb.sheet_names:\n    wb.get_sheet_by_name(name).to_python()\n"
)


@dataclass(frozen=True)
class Cost:
    cpu: float
    """User + system CPU seconds of the process."""
    peak_mb: float
    """Its peak resident memory."""


LAUNCHER = """
import json, os, subprocess, sys
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "err": err.decode()[-2000:],
                  "cpu": usage.ru_utime + usage.ru_stime, "peak_mb": usage.ru_maxrss / 1024}))
"""


def measure(argv: list[str]) -> Cost:
    """Run one process to its end; its own CPU time and peak memory.

    Through a small launcher process: Linux counts in a child's peak memory the pages of the
    parent it was forked from, and this script's own memory must not be counted.
    """
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], cwd=ROOT, capture_output=True, text=True
    )
    result = json.loads(done.stdout)
    if result["code"] not in (0, 1):  # 1: invalid rows or alerts not delivered, still synced
        raise RuntimeError(f"{argv} exited {result['code']}: {result['err']}")
    return Cost(result["cpu"], result["peak_mb"])


def median(costs: list[Cost]) -> Cost:
    return Cost(
        statistics.median(c.cpu for c in costs), statistics.median(c.peak_mb for c in costs)
    )


def sheetsync_run(config: Path, as_of: date) -> list[str]:
    return [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config),
            "--as-of", as_of.isoformat()]  # fmt: skip


def write_config(folder: Path, workbook: Path) -> Path:
    config = folder / "sheetsync.toml"
    config.write_text(
        f'[[workbooks]]\nname = "bench"\npath = "{workbook.name}"\n\n[excel]\nbackups = 0\n',
        encoding="utf-8",
    )
    return config


def change_one_percent(path: Path) -> None:
    """Edit 1% of the Current values the way a person would (openpyxl saves the whole file)."""
    import openpyxl

    wb = openpyxl.load_workbook(path)
    sheet = wb["OKRs"]
    header = [c.value for c in sheet[1]]
    current = header.index("Current") + 1
    for row in range(2, sheet.max_row + 1, 100):
        cell = sheet.cell(row, current)
        if isinstance(cell.value, int | float):
            cell.value = cell.value + 1
    wb.save(path)


def bench_size(n: int, work: Path, repeat: int) -> dict[str, Any]:
    folder = work / f"n{n}"
    folder.mkdir()
    pristine = write_xlsx(folder / "pristine.xlsx", n)
    book = folder / "okrs.xlsx"
    config = write_config(folder, book)
    out = folder / "saved.xlsx"

    def fresh() -> None:
        shutil.copyfile(pristine, book)
        for owned in folder.glob("*.lock"):
            owned.unlink()

    first, unchanged, changed = [], [], []
    for _ in range(repeat):
        fresh()
        first.append(measure(sheetsync_run(config, FIRST_NIGHT)))
        unchanged.append(measure(sheetsync_run(config, FIRST_NIGHT)))
        change_one_percent(book)
        changed.append(measure(sheetsync_run(config, FIRST_NIGHT)))
    synced = folder / "synced.xlsx"
    fresh()
    measure(sheetsync_run(config, FIRST_NIGHT))
    shutil.copyfile(book, synced)
    openpyxl_cost = median(
        [measure([sys.executable, "-c", OPENPYXL, str(synced), str(out)]) for _ in range(repeat)]
    )
    calamine_cost = median(
        [measure([sys.executable, "-c", CALAMINE, str(synced)]) for _ in range(repeat)]
    )
    return {
        "rows": n,
        "first": median(first).__dict__,
        "unchanged": median(unchanged).__dict__,
        "changed_1pct": median(changed).__dict__,
        "openpyxl": openpyxl_cost.__dict__,
        "calamine": calamine_cost.__dict__,
    }


def bench_nights(n: int, nights: int, work: Path) -> dict[str, Any]:
    folder = work / f"nights{n}"
    folder.mkdir()
    book = folder / "okrs.xlsx"
    write_xlsx(book, n)
    config = write_config(folder, book)
    per_night = []
    for night in range(nights):
        cost = measure(sheetsync_run(config, FIRST_NIGHT + timedelta(days=night)))
        per_night.append(cost.__dict__)
    return {"rows": n, "nights": per_night, "file_mb": book.stat().st_size / 1e6}


def render(sizes: list[dict[str, Any]], nights: dict[str, Any]) -> str:
    lines = [
        "# Nightly cost, whole processes (CPU seconds, peak MB)",
        "",
        "| rows | first sync / openpyxl load+save (goal <= 0.5x) "
        "| unchanged / calamine read (goal <= 3x) | 1% changed / calamine read "
        "| peak memory first / openpyxl (goal <= 1x) | peak memory unchanged / openpyxl |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sizes:
        op, ca = r["openpyxl"], r["calamine"]
        lines.append(
            f"| {r['rows']:,} "
            f"| {r['first']['cpu'] / op['cpu']:.2f}x ({r['first']['cpu']:.2f}s / {op['cpu']:.2f}s) "
            f"| {r['unchanged']['cpu'] / ca['cpu']:.1f}x "
            f"({r['unchanged']['cpu']:.2f}s / {ca['cpu']:.2f}s) "
            f"| {r['changed_1pct']['cpu'] / ca['cpu']:.1f}x ({r['changed_1pct']['cpu']:.2f}s) "
            f"| {r['first']['peak_mb'] / op['peak_mb']:.2f}x "
            f"({r['first']['peak_mb']:.0f} / {op['peak_mb']:.0f} MB) "
            f"| {r['unchanged']['peak_mb'] / op['peak_mb']:.2f}x "
            f"({r['unchanged']['peak_mb']:.0f} MB) |"
        )
    if nights:
        first, last = nights["nights"][0], nights["nights"][-1]
        count = len(nights["nights"])
        lines += [
            "",
            f"{count} nights in a row at {nights['rows']:,} key results, nothing changed, "
            "History growing (goal: the last night within 1.2x the first unchanged night):",
            "",
            "| night | CPU s | peak MB |",
            "|---:|---:|---:|",
        ]
        for i in sorted({0, 1, count // 2, count - 1}):
            night = nights["nights"][i]
            lines.append(f"| {i + 1} | {night['cpu']:.2f} | {night['peak_mb']:.0f} |")
        second = nights["nights"][1] if count > 1 else first
        lines += [
            "",
            f"Last night / first unchanged night: CPU {last['cpu'] / second['cpu']:.2f}x, "
            f"memory {last['peak_mb'] / second['peak_mb']:.2f}x; workbook "
            f"{nights['file_mb']:.1f} MB after {count} nights.",
        ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    with tempfile.TemporaryDirectory(prefix="sheetsync-nightly-") as tmp:
        work = Path(tmp)
        results = [bench_size(n, work, args.repeat) for n in sizes]
        nights = bench_nights(min(sizes), args.nights, work) if args.nights else {}
    table = render(results, nights)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "nightly.md").write_text(table, encoding="utf-8")
    (RESULTS / "nightly.json").write_text(
        json.dumps({"sizes": results, "nights": nights}, indent=2), encoding="utf-8"
    )
    print(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
