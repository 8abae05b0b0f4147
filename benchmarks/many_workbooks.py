"""Many small workbooks in one run: does `--workers N` use the machine's cores?

    python benchmarks/many_workbooks.py [--workbooks 200] [--workers 1,2] [--rounds 3]
                                        [--google 20] [--key-results 20] [--compare DIR]

Every figure is a whole `sheetsync run` process from start to exit (imports, start-up, alert
delivery and the Alerts tab's sent marks included), timed by the wall clock, with the default
config plus an `[email] outbox` so the alerts raised are delivered. Before each run every
workbook is put back to the same fresh copy, so each run is a first sync of every workbook.

The reference is the same run with `--workers 1`, measured in the same rounds (the worker
counts alternate within a round, so a busy machine slows each of them alike); each other worker
count is printed as its speed-up against it. Beside it, the ceiling the machine allowed in the
same rounds: a fixed CPU-bound loop split across that many separate processes against one
process doing all of it. On a machine shared with other people's work (Linux gives each login
session its fair share of the cores, however many processes it runs), that ceiling is well
below the number of cores, and no worker count can beat it.

Cases: `--workbooks` Excel workbooks, and the same number with `--google` of them Google
spreadsheets on the local Sheets API stand-in (served by this process's threads, so they compete
for the same cores). Goal (issue #14): 200 small Excel workbooks on 2 cores run at least 1.7x
faster with 2 workers than with 1.

`--compare DIR` also runs the sheetsync package found in DIR (another commit's tree, e.g.
`git archive COMMIT sheetsync | tar -x -C DIR`) in the same rounds, each run beside this
checkout's, and prints its figures too: a change's effect measured against the same load.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.processes import installed_bytecode  # noqa: E402
from benchmarks.workbooks import rows, write_xlsx  # noqa: E402

AS_OF = "2026-11-15"
GOAL = 1.7


CEILING_LOOP = "import sys\nn = int(sys.argv[1])\nwhile n:\n    n -= 1\n"
CEILING_WORK = 60_000_000
"""Iterations of the ceiling's loop, all processes together (a few CPU seconds)."""


def _ceiling(processes: int) -> float:
    """Wall seconds of `processes` separate processes sharing a fixed CPU-bound loop."""
    share = str(CEILING_WORK // processes)
    started = time.perf_counter()
    running = [
        subprocess.Popen([sys.executable, "-c", CEILING_LOOP, share]) for _ in range(processes)
    ]
    for proc in running:
        proc.wait()
    return time.perf_counter() - started


def _run(config: Path, workers: int, tree: Path | None = None) -> float:
    """Wall seconds of one `sheetsync run` process of this checkout's sheetsync, or of the one
    in `tree` (its bytecode compiled first, as an installed one has it: otherwise the parent
    and the fork server would each compile the modules they import, in every run)."""
    installed_bytecode()
    if tree is not None:
        compileall.compile_dir(tree / "sheetsync", quiet=1)
    argv = [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config),
            "--as-of", AS_OF, "--workers", str(workers), "--json"]  # fmt: skip
    started = time.perf_counter()
    # `python -m` finds the package in its working directory before any installed one.
    done = subprocess.run(argv, cwd=tree or ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 1):  # 1: invalid rows or alerts not delivered, still synced
        raise RuntimeError(f"{argv} exited {done.returncode}: {done.stderr[-2000:]}")
    report = json.loads(done.stdout)
    failed = [w for w in report["workbooks"] if w["error"]]
    if failed:
        raise RuntimeError(f"{len(failed)} workbooks failed, e.g. {failed[0]['error']}")
    return seconds


class _Google:
    """The Sheets API stand-in and a service-account key for it (only when Google is asked)."""

    def __init__(self, folder: Path) -> None:
        from tests.sheets_standin import SheetsStandIn
        from tests.sheets_standin.fixtures import write_service_account_file

        self.api = SheetsStandIn().start()
        self.key = write_service_account_file(folder / "sa.json", self.api)

    def spreadsheet(self, name: str, n: int) -> str:
        from tests.sheets_standin import Formula

        def cells(data: list[list[Any]]) -> list[list[Any]]:
            return [[Formula(v[0], effective=v[1]) if isinstance(v, tuple) else v for v in r]
                    for r in data]  # fmt: skip

        okrs, kpis = rows(n)
        return str(self.api.create_spreadsheet(name, {"OKRs": cells(okrs), "KPIs": cells(kpis)}))

    def close(self) -> None:
        self.api.stop()


def measure(
    workbooks: int = 200,
    workers: tuple[int, ...] = (1, 2),
    *,
    rounds: int = 3,
    google: int = 0,
    key_results: int = 20,
    compare: Path | None = None,
) -> list[dict[str, Any]]:
    """One row per worker count: median wall seconds of `rounds` runs and the speed-up against
    the first worker count (measured in the same rounds). `google` of the `workbooks` are
    Google spreadsheets on the stand-in, the rest .xlsx files of `key_results` rows each.
    With `compare`, the same rows again for the sheetsync in that tree (its "tree" says so),
    each of its runs right after this checkout's."""
    trees: list[Path | None] = [None] if compare is None else [None, compare]
    with tempfile.TemporaryDirectory(prefix="sheetsync-bench-many-") as tmp:
        folder = Path(tmp)
        pristine = write_xlsx(folder / "pristine.xlsx", key_results)
        books = folder / "books"
        books.mkdir()
        stand_in = _Google(folder) if google else None
        excel_names = [f"team-{i:03d}" for i in range(workbooks - google)]
        google_names = [f"gteam-{i:03d}" for i in range(google)]
        config = folder / "sheetsync.toml"
        times: dict[tuple[int, Path | None], list[float]] = {}
        ceiling: dict[int, list[float]] = {w: [] for w in workers}
        try:
            for _ in range(rounds):
                for count in workers:
                    for tree in trees:
                        ids = {}
                        if stand_in is not None:
                            ids = {n: stand_in.spreadsheet(n, key_results) for n in google_names}
                        for name in excel_names:
                            shutil.copyfile(pristine, books / f"{name}.xlsx")
                        shutil.rmtree(folder / "state", ignore_errors=True)
                        shutil.rmtree(folder / "outbox", ignore_errors=True)
                        config.write_text(_config(excel_names, ids, stand_in), encoding="utf-8")
                        times.setdefault((count, tree), []).append(_run(config, count, tree))
                    ceiling[count].append(_ceiling(count))
        finally:
            if stand_in is not None:
                stand_in.close()
    ceiling_reference = statistics.median(ceiling[workers[0]])
    return [
        {
            "tree": "this checkout" if tree is None else str(tree),
            "workbooks": workbooks,
            "google": google,
            "key_results": key_results,
            "workers": count,
            "seconds": statistics.median(times[count, tree]),
            "rounds": times[count, tree],
            "speedup": statistics.median(times[workers[0], tree])
            / statistics.median(times[count, tree]),
            "ceiling": ceiling_reference / statistics.median(ceiling[count]),
        }
        for tree in trees
        for count in workers
    ]


def _config(excel: list[str], google: dict[str, str], stand_in: _Google | None) -> str:
    lines = ['state_dir = "state"', ""]
    for name in excel:
        lines += ["[[workbooks]]", f'name = "{name}"', f'path = "books/{name}.xlsx"', ""]
    for name, sid in google.items():
        lines += ["[[workbooks]]", f'name = "{name}"', f'spreadsheet = "{sid}"', ""]
    lines += ["[email]", 'outbox = "outbox"', ""]
    lines += ["[excel]", "backups = 0", ""]
    if stand_in is not None:
        lines += ["[google]", f'api_url = "{stand_in.api.url}"', f'credentials = "{stand_in.key}"']
        lines += ["requests_per_minute = 100000", ""]
    return "\n".join(lines)


def render(results: list[dict[str, Any]]) -> str:
    lines = []
    for r in results:
        kind = f"{r['workbooks']} workbooks" + (f" ({r['google']} Google)" if r["google"] else "")
        if r["tree"] != "this checkout":
            kind = f"[{r['tree']}] {kind}"
        lines.append(
            f"{kind}, {r['key_results']} key results each, --workers {r['workers']}: "
            f"{r['seconds']:.2f} s, {r['speedup']:.2f}x against --workers 1 "
            f"(the machine allowed {r['ceiling']:.2f}x: a CPU-bound loop split across "
            f"{r['workers']} processes against 1, same rounds)"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workbooks", type=int, default=200)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--google", type=int, default=20, help="of them Google (0: skip the mix)")
    parser.add_argument("--key-results", type=int, default=20)
    parser.add_argument("--compare", type=Path, help="another tree's sheetsync, same rounds")
    args = parser.parse_args()
    workers = tuple(int(w) for w in args.workers.split(","))
    excel = measure(
        args.workbooks, workers, rounds=args.rounds, key_results=args.key_results,
        compare=args.compare,
    )  # fmt: skip
    print(render(excel), flush=True)
    mixed = []
    if args.google:
        mixed = measure(
            args.workbooks, workers, rounds=args.rounds, google=args.google,
            key_results=args.key_results, compare=args.compare,
        )  # fmt: skip
        print(render(mixed))
    mine = [r for r in excel if r["tree"] == "this checkout"][-1]
    best = mine["speedup"]
    verdict = "met" if best >= GOAL else "NOT met"
    print(f"goal: >= {GOAL}x with {workers[-1]} workers: {best:.2f}x, {verdict} "
          f"(ceiling on this machine during the run: {mine['ceiling']:.2f}x); "
          f"load average {os.getloadavg()[0]:.1f}")  # fmt: skip


if __name__ == "__main__":
    main()
