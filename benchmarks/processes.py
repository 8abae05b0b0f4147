"""Whole processes, measured the way a user pays for them: CPU seconds and peak memory.

Every benchmark figure of issue #14 is a separate process from start to exit (imports and
start-up included), timed as CPU seconds (user + system) and peak resident memory of that
process alone (`os.wait4`), so that the benchmark's own work (a Sheets API stand-in serving
it, the references) is never counted in it.

Example:
    config = write_config(folder, [{"name": "bench", "path": "okrs.xlsx"}])
    cost = measure(sheetsync_run(config, date(2026, 10, 5)))
"""

from __future__ import annotations

import compileall
import json
import statistics
import subprocess
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from tests.e2e.workbooks import write_config

ROOT = Path(__file__).resolve().parent.parent

__all__ = ["ROOT", "Cost", "measure", "median", "sheetsync_run", "write_config"]


@dataclass(frozen=True)
class Cost:
    cpu: float
    """User + system CPU seconds of the process."""
    peak_mb: float
    """Its peak resident memory."""


LAUNCHER = """
import json, os, subprocess, sys, threading
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
errs = []
reader = threading.Thread(target=lambda: errs.append(proc.stderr.read()))
reader.start()
out = proc.stdout.read()
reader.join()
err = errs[0]
_, status, usage = os.wait4(proc.pid, 0)  # not proc.wait(): wait4 also returns its rusage
print(json.dumps({"code": os.waitstatus_to_exitcode(status), "err": err.decode()[-2000:],
                  "out": out.decode(), "cpu": usage.ru_utime + usage.ru_stime,
                  "peak_mb": usage.ru_maxrss / 1024}))
"""


def installed_bytecode(source: Path = ROOT) -> None:
    """Compile sheetsync's modules as `pip install` does (openpyxl, calamine and every other
    package measured beside it were compiled when installed). A checkout installed editable
    under PYTHONDONTWRITEBYTECODE=1 (set here, and in the Dockerfile) has none, so each
    measured process would compile every sheetsync module again: about 0.1 s of CPU that no
    installed sheetsync pays. Unchanged files are only checked, not compiled again."""
    compileall.compile_dir(source / "sheetsync", quiet=1)


def measure(argv: list[str], source: Path = ROOT) -> Cost:
    """Run one process to its end; its own CPU time and peak memory.

    Through a small launcher process: Linux counts in a child's peak memory the pages of the
    parent it was forked from, and the benchmark's own memory must not be counted. The
    sheetsync it runs has its bytecode, as an installed one has (`installed_bytecode`).
    `source`: the checkout whose sheetsync `python -m sheetsync.cli` runs (it is run from
    there, and `-m` imports from the working directory first).
    """
    installed_bytecode(source)
    done = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *argv], cwd=source, capture_output=True, text=True
    )
    result = json.loads(done.stdout)
    if result["code"] not in (0, 1):  # 1: invalid rows or alerts not delivered, still synced
        raise RuntimeError(f"{argv} exited {result['code']}: {result['err']}")
    if "--json" in argv:  # 1 is also a workbook that failed: that is no figure to print
        failed = [w for w in json.loads(result["out"])["workbooks"] if w.get("error")]
        if failed:
            raise RuntimeError(f"{argv}: {failed[0]['name']}: {failed[0]['error']}")
    return Cost(result["cpu"], result["peak_mb"])


def median(costs: list[Cost]) -> Cost:
    return Cost(
        statistics.median(c.cpu for c in costs), statistics.median(c.peak_mb for c in costs)
    )


def sheetsync_run(config: Path, as_of: date, *options: str) -> list[str]:
    """The command line of `sheetsync run` as cron runs it, with a `--json` report so that
    `measure` can tell a workbook that failed from a run that only left alerts pending."""
    return [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config),
            "--as-of", as_of.isoformat(), "--json", *options]  # fmt: skip
