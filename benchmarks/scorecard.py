"""KPI scorecards: Excel sync of a 12-month scorecard against openpyxl load+save of the file.

Measured the way `benchmarks/run.py` measures the Excel first sync (a whole `sheetsync run`
process with the default configuration against an openpyxl load+save process, CPU seconds,
medians of repeated runs): the same 1,000 key results beside a KPIs tab of N KPIs, once with
one Actual per KPI and once as a 12-month scorecard with a Target row per KPI (so the
scorecard tab has 2N rows and 12 more columns). Prints the ratios.

    python benchmarks/scorecard.py [--kpis 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.nightly import FIRST_NIGHT, excel_config, openpyxl_cost  # noqa: E402
from benchmarks.processes import measure as process_cost  # noqa: E402
from benchmarks.processes import median, sheetsync_run  # noqa: E402
from tests.e2e.workbooks import write_like_excel  # noqa: E402

MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def kpi_tab(count: int, scorecard: bool) -> list[list[object]]:
    if not scorecard:
        return [["KPI", "Target", "Actual"], *[[f"KPI {i}", 100, 90 + i % 7] for i in range(count)]]
    rows: list[list[object]] = [["KPI", "Kind", "Target", *MONTHS]]
    for i in range(count):
        rows.append([f"KPI {i}", None, 100, *[90 + m + i % 7 for m in range(11)], None])
        rows.append([None, "Target", None, *[95 + m for m in range(12)]])
    return rows


def measure(work: Path, count: int, scorecard: bool, repeat: int) -> tuple[float, float]:
    """CPU seconds of a first sync and of openpyxl load+save of the same file (medians)."""
    okrs = [["Objective", "Key Result", "Target", "Current"]]
    okrs += [[f"Objective {i // 5}", f"KR {i}", 100, i % 100] for i in range(1000)]
    folder = work / f"scorecard-{scorecard}"
    folder.mkdir()
    original = write_like_excel(
        folder / "original.xlsx", {"OKRs": okrs, "KPIs": kpi_tab(count, scorecard)}
    )
    target = folder / "okrs.xlsx"
    config = excel_config(folder, target)
    syncs, floors = [], []
    for _ in range(repeat):
        shutil.copyfile(original, target)
        shutil.rmtree(folder / ".sheetsync", ignore_errors=True)
        syncs.append(process_cost(sheetsync_run(config, FIRST_NIGHT)))
        floors.append(openpyxl_cost(original, folder / "saved.xlsx"))
    return median(syncs).cpu, median(floors).cpu


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kpis", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        for label, scorecard in (("one Actual per KPI", False), ("12-month scorecard", True)):
            sync_s, floor_s = measure(Path(folder), args.kpis, scorecard, args.repeat)
            print(
                f"{args.kpis} KPIs, {label}: sync {sync_s:.3f}s / openpyxl load+save "
                f"{floor_s:.3f}s = {sync_s / floor_s:.2f}x"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
