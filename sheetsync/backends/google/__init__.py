"""The Google Sheets backend: one values read, one `batchUpdate` of the owned cells and tabs."""

from sheetsync.backends.google.workbook import (
    GoogleSheetsWorkbook,
    RetryPolicy,
    load_credentials,
    resolve_api_url,
)

__all__ = ["GoogleSheetsWorkbook", "RetryPolicy", "load_credentials", "resolve_api_url"]
