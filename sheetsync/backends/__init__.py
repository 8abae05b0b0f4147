"""Workbook backends: the one port the pipeline talks to, and its implementations."""

from sheetsync.backends.base import (
    CellWrite,
    OwnedTab,
    RowGuard,
    Snapshot,
    WorkbookBackend,
    WritePlan,
    WriteResult,
)

__all__ = [
    "CellWrite",
    "OwnedTab",
    "RowGuard",
    "Snapshot",
    "WorkbookBackend",
    "WritePlan",
    "WriteResult",
]
