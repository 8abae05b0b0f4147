"""The port between the pipeline and a workbook: read some tabs, apply a write plan.

The pipeline reads plain values, computes everything, and hands back a `WritePlan` that says
the *desired* content of the cells and tabs sheetsync owns. A backend compares that with what
is there and writes only the difference (nothing at all when nothing changed), in as few
operations as its medium allows: one file save for Excel, one batch request for Google.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence

from sheetsync.core.plan import (
    OUTPUT_MARKER,
    CellValue,
    CellWrite,
    Grid,
    GuardedRows,
    OutputColumn,
    OwnedTab,
    RowGuard,
    Snapshot,
    WritePlan,
    WriteResult,
)

HEAD_ROWS = 2
"""Rows read of a tab named in `read(heads=...)`: an owned tab's marker and header."""

__all__ = [
    "HEAD_ROWS",
    "OUTPUT_MARKER",
    "CellValue",
    "CellWrite",
    "Grid",
    "GuardedRows",
    "OutputColumn",
    "OwnedTab",
    "RowGuard",
    "Snapshot",
    "WorkbookBackend",
    "WritePlan",
    "WriteResult",
]


class WorkbookBackend(ABC):
    """One workbook, for one sync: `read` once, then `write` at most once."""

    label: str
    """How messages name this workbook (file path or spreadsheet title)."""

    location: str = ""
    """Where a person opens it: a path or a URL (used in alert emails)."""

    @abstractmethod
    def read(self, tabs: Sequence[str], heads: Mapping[str, str] | None = None) -> Snapshot:
        """Read the named tabs (matched case-insensitively); missing tabs are simply absent.

        `heads` maps a tab to another: when that other tab exists in the workbook, only the
        first `HEAD_ROWS` rows of the first are read (its marker and header: History once its
        state tab exists, so a long log costs nothing to read).
        """

    def read_only(self, tabs: Sequence[str]) -> Snapshot:
        """`read` for a reader that will not write (a parent reading a child's Summary), so a
        backend may fetch less: only these tabs, nothing it would need to write."""
        return self.read(tabs)

    @abstractmethod
    def write(self, plan: WritePlan) -> WriteResult:
        """Bring the owned cells and tabs to the plan's content; raise WorkbookError on failure.

        Must refuse (WorkbookBusyError) rather than write if the workbook changed since `read`
        in a way that moves a guarded row.
        """

    @property
    def requests(self) -> int:
        """Remote API requests made so far (0 for local files)."""
        return 0

    def close(self) -> None:  # noqa: B027 - optional hook
        """Release files or sessions."""
