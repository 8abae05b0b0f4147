"""Start the worker processes' fork server early, while this process is still importing.

The fork server imports what every worker needs (`worker_modules`) once, then forks each
worker from that state. Started only when the runner asks for the first worker, its imports
ran while this process waited with nothing to do, a serial step at the start of every run with
`--workers N`. Started as soon as the config says workers will be used, those imports run on
another core beside this process's own. Light on purpose: `sheetsync run` calls it before it
imports the runner.
"""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync import config as cfg
from sheetsync.ops.cpus import default_workers
from sheetsync.ops.shard import parse_shard, select


def worker_modules(workbooks: Sequence[cfg.Workbook]) -> list[str]:
    """What the fork server imports for workers syncing `workbooks`."""
    modules = ["sheetsync.workers", "sheetsync.runner", "sheetsync.backends.excel"]
    return modules + (
        ["sheetsync.backends.google"] if any(w.spreadsheet for w in workbooks) else []
    )


def start_workers_early(config: cfg.Config, workers: int | None, shard: str | None) -> None:
    """Start the fork server now when the run will certainly use worker processes: more than
    one worker and more than one workbook in this shard, none of them a parent of another (a
    chain of children may leave one workbook per wave: the runner then decides)."""
    index, count = parse_shard(shard) if shard else (0, 1)
    workbooks = select(config.workbooks, index, count, key=lambda w: w.name)
    if min(workers or default_workers(), len(workbooks)) < 2 or any(w.children for w in workbooks):
        return
    from sheetsync.ops.processes import start_fork_server

    start_fork_server(worker_modules(workbooks))
