"""Fixtures shared by every test folder: the local Google Sheets API stand-in."""

pytest_plugins = ["tests.sheets_standin.fixtures"]
