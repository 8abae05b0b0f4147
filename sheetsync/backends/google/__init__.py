"""The Google Sheets backend: one values read, one `batchUpdate` of the owned cells and tabs."""

from sheetsync.backends.google.addresses import resolve_api_url
from sheetsync.backends.google.auth import load_credentials
from sheetsync.backends.google.retries import RetryPolicy
from sheetsync.backends.google.workbook import GoogleSheetsWorkbook

__all__ = ["GoogleSheetsWorkbook", "RetryPolicy", "load_credentials", "resolve_api_url"]
