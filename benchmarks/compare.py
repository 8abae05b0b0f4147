"""Two versions of sheetsync on the same Excel nights, run in turns: what a change saves.

    git worktree add /tmp/base <commit>      # the version to compare against
    python benchmarks/compare.py /tmp/base [--sizes 10000] [--rounds 3]

The checkout this script is in is the new version; BASE is another checkout (any directory
holding a `sheetsync` package). Each round runs the base, then the new version, each on its
own fresh copy of the same workbook (`benchmarks.workbooks`, default configuration, as
`benchmarks/nightly.py`): a first sync, an unchanged night, and a night after 1% of the Current
values changed. Every figure is a whole `sheetsync run` process (`benchmarks.processes`): CPU
seconds and peak memory. Printed per night: the medians of both versions and new/base. The two
alternate within each round, so a machine others are busy on slows them alike; the ratio is
the figure, not the seconds.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.nightly import FIRST_NIGHT, change_one_percent, excel_config  # noqa: E402
from benchmarks.processes import Cost, measure, sheetsync_run  # noqa: E402
from benchmarks.workbooks import write_xlsx  # noqa: E402

NIGHTS = ("first", "unchanged", "changed_1pct")


def nights(pristine: Path, folder: Path, source: Path) -> dict[str, Cost]:
    """The three nights of one version, on its own copy of `pristine` in `folder`."""
    folder.mkdir()
    book = folder / "okrs.xlsx"
    shutil.copyfile(pristine, book)
    config = excel_config(folder, book)
    costs: dict[str, Cost] = {}
    for night in NIGHTS:
        if night == "changed_1pct":
            change_one_percent(book)
        costs[night] = measure(sheetsync_run(config, FIRST_NIGHT), source)
    return costs


def compare(base: Path, size: int, rounds: int, work: Path) -> list[str]:
    pristine = write_xlsx(work / f"pristine-{size}.xlsx", size)
    runs: dict[str, list[dict[str, Cost]]] = {"base": [], "new": []}
    for round_ in range(rounds):
        for name, source in (("base", base), ("new", ROOT)):
            runs[name].append(nights(pristine, work / f"{name}-{size}-{round_}", source))
    lines = []
    for night in NIGHTS:
        cpu = {k: statistics.median(r[night].cpu for r in v) for k, v in runs.items()}
        peak = {k: statistics.median(r[night].peak_mb for r in v) for k, v in runs.items()}
        lines.append(
            f"| {night} | {size:,} | {cpu['base']:.2f} s | {cpu['new']:.2f} s "
            f"| **{cpu['new'] / cpu['base']:.2f}x** | {peak['base']:,.0f} MB "
            f"| {peak['new']:,.0f} MB | **{peak['new'] / peak['base']:.2f}x** |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base", type=Path, help="the other checkout (holding `sheetsync/`)")
    parser.add_argument("--sizes", default="10000", help="key-result counts (default 10000)")
    parser.add_argument("--rounds", type=int, default=3, help="rounds, median (default 3)")
    args = parser.parse_args(argv)
    if not (args.base / "sheetsync" / "cli.py").is_file():
        parser.error(f"{args.base} holds no sheetsync checkout")
    print(f"`python benchmarks/compare.py {args.base} --sizes {args.sizes} --rounds {args.rounds}`")
    print(
        "\n| night | key results | CPU base | CPU new | new/base | peak base | peak new"
        " | new/base |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with tempfile.TemporaryDirectory(prefix="sheetsync-compare-") as work:
        for size in (int(s) for s in args.sizes.split(",")):
            for line in compare(args.base.resolve(), size, args.rounds, Path(work)):
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
