"""The exceptions sheetsync raises, each with a message a spreadsheet user can act on.

    SheetsyncError
    ├── ConfigError          the TOML config is wrong (exit code 2)
    ├── LockHeldError        another run holds the lock (exit code 3)
    ├── WorkbookError        one workbook cannot be synced; the others go on
    │   ├── WorkbookLayoutError   a tab or required header is missing, an owned tab is a person's
    │   ├── WorkbookBusyError     open in Excel/LibreOffice, or changed while we worked
    │   └── BackendError          the file or the API failed (permission, quota, not found ...)
    │       └── TransientBackendError   worth retrying (429, 5xx, timeouts)
    └── DeliveryError        an email could not be delivered

Library code raises these; only the CLI turns them into exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence


class SheetsyncError(Exception):
    """Base of every error sheetsync raises on purpose."""


class ConfigError(SheetsyncError):
    """The configuration file is invalid; names the file and the key.

    `also` holds the other problems found in the same file, one per key, so a person fixes
    them all in one go; `str()` gives one line per problem.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        key: str | None = None,
        also: Sequence[ConfigError] = (),
    ) -> None:
        self.path = path
        self.key = key
        self.message = message
        self.also = tuple(also)
        where = ", ".join(part for part in (path, f"key '{key}'" if key else None) if part)
        first = f"{where}: {message}" if where else message
        super().__init__("\n".join([first, *(str(other) for other in self.also)]))


class LockHeldError(SheetsyncError):
    """Another sheetsync run holds the lock."""


class WorkbookError(SheetsyncError):
    """One workbook failed; carries the workbook's name so the summary can list it."""

    def __init__(self, message: str, *, workbook: str | None = None) -> None:
        self.workbook = workbook
        self.detail = message
        super().__init__(f"{workbook}: {message}" if workbook else message)


class WorkbookLayoutError(WorkbookError):
    """A tab or header the sync needs is missing, or a tab sheetsync would write is a person's."""


class WorkbookBusyError(WorkbookError):
    """The workbook is open in a spreadsheet program or changed while sheetsync worked on it."""


class BackendError(WorkbookError):
    """Reading or writing the workbook failed for a reason outside sheetsync."""


class TransientBackendError(BackendError):
    """A failure that may go away if retried (rate limit, server error, timeout)."""


class DeliveryError(SheetsyncError):
    """An email could not be handed to the mail server."""


class RowsMovedError(WorkbookBusyError):
    """Rows were inserted, deleted or reordered between sheetsync's read and its write."""
