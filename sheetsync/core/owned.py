"""Tabs sheetsync owns carry a marker in A1, so it never overwrites a person's tab of that name."""

from __future__ import annotations

from collections.abc import Sequence

from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.plan import CellValue, Grid

OWNED_MARKER = "Managed by sheetsync"
"""A1 of every tab sheetsync owns starts with this; edits below it are overwritten."""


def is_owned(grid: Grid | None) -> bool:
    if not grid or not grid[0]:
        return False
    first = grid[0][0]
    return isinstance(first, str) and first.startswith(OWNED_MARKER)


def check_owned(grid: Grid | None, tab: str, workbook: str) -> None:
    """Refuse to touch an existing tab that a person made."""
    has_content = grid is not None and any(any(v not in (None, "") for v in r) for r in grid)
    if has_content and not is_owned(grid):
        raise WorkbookLayoutError(
            f"tab '{tab}' exists but was not made by sheetsync; rename it (or set another "
            f"name for sheetsync's {tab} tab under [tabs] in the config) so it is not overwritten",
            workbook=workbook,
        )


def owned_grid(title: str, header: Sequence[str], rows: Sequence[Sequence[CellValue]]) -> Grid:
    """Marker row, header row, then data rows: the layout of every owned tab."""
    return [
        [f"{OWNED_MARKER}: {title}. Edits here are overwritten on the next run."],
        list(header),
        *[list(r) for r in rows],
    ]


def owned_body(grid: Grid | None) -> Grid:
    """The data rows of an owned tab (below the marker and header rows)."""
    return [list(r) for r in grid[2:]] if grid and is_owned(grid) else []
