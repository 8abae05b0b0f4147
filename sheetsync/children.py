"""A parent workbook's children: each child's owned Summary read once, in the parent's own
sync (never a second sync of the child), with its as-of date."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sheetsync import config as cfg
from sheetsync.backends.base import (
    WorkbookBackend,
)
from sheetsync.core.alignment import (
    ChildObjective,
    parse_child_summary,
)
from sheetsync.core.errors import SheetsyncError
from sheetsync.core.model import (
    Problem,
)
from sheetsync.core.owned import is_owned


@dataclass
class ChildSummaries:
    """What a parent workbook's sync read from its child workbooks' Summary tabs."""

    objectives: list[ChildObjective] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    requests: int = 0


def read_children(
    wb: cfg.Workbook,
    config: cfg.Config,
    open_child: Callable[[cfg.Workbook], WorkbookBackend],
) -> ChildSummaries:
    """One read of each child workbook's Summary tab, never a sync of it.

    The child's own sync (in any process or shard) already scored it; this reads the result.
    A child that cannot be read, or has no Summary yet, is a problem on the parent's Summary,
    not a failure: the parent is still synced, without that child's objectives.
    """
    found = ChildSummaries()
    by_name = {w.name: w for w in config.workbooks}
    for name in wb.children:
        child = by_name[name]
        summary = config.tabs_for(child).summary or "Summary"
        where = f"'{name}' {summary}"
        backend = open_child(child)
        try:
            snapshot = backend.read_only([summary])
        except SheetsyncError as exc:
            found.problems.append(
                Problem(where, None, None, "a readable workbook", f"cannot read it: {exc}", False)
            )
            continue
        finally:
            found.requests += backend.requests
            backend.close()
        real = snapshot.find_tab(summary)
        grid = snapshot.tabs[real] if real else None
        if grid is None or not is_owned(grid):
            found.problems.append(
                Problem(
                    where,
                    None,
                    None,
                    "the child workbook synced at least once",
                    "the child workbook has no sheetsync Summary yet",
                    False,
                )
            )
            continue
        found.objectives += parse_child_summary(name, grid)
    return found
