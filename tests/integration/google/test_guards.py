"""Concurrent edits: a row inserted or a tab renamed between read and write stops the write
before anything is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.core.errors import (
    RowsMovedError,
)
from tests.integration.google.workbooks import okr_rows, open_book, score_plan
from tests.sheets_standin import SheetsStandIn


def test_a_row_inserted_between_read_and_write_stops_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    sheets_api.after_next(
        "get", lambda _: sheets_api.insert_rows(sid, "OKRs", 3, [["Objective 0", "New KR", 5, 1]])
    )
    book.read(["OKRs"])

    with pytest.raises(RowsMovedError, match=r"rows on tab 'OKRs' changed.*B3 was 'KR 1'"):
        book.write(score_plan(3))

    assert "batchUpdate" not in sheets_api.counts
    assert all(len(row) <= 4 for row in sheets_api.values(sid, "OKRs")[1:])


def test_a_tab_renamed_between_read_and_write_stops_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.spreadsheet(sid).sheet("OKRs").title = "OKRs (old)"

    with pytest.raises(RowsMovedError, match="renamed or deleted"):
        book.write(score_plan(2))

    assert "batchUpdate" not in sheets_api.counts
