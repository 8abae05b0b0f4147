"""Concurrent edits at the backend's seam: the write is checked in its own answer; a row that
moved under it has what the write replaced put back, and a tab renamed before it stops it."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from sheetsync.backends.base import WritePlan
from sheetsync.core.errors import BackendError, RowsMovedError
from tests.integration.google.workbooks import HEADER, okr_rows, open_book, score_plan
from tests.sheets_standin import Formula, SheetsStandIn


def test_a_row_inserted_before_the_write_is_applied_has_the_write_put_back(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.before_next(
        "batchUpdate",
        lambda _: sheets_api.insert_rows(sid, "OKRs", 3, [["Objective 0", "New KR", 5, 1]]),
    )

    with pytest.raises(
        RowsMovedError, match=r"rows or columns moved on tab 'OKRs' \(B3 was 'KR 1'"
    ):
        book.write(score_plan(3))

    assert sheets_api.counts["batchUpdate"] == 2, "the write, then the one putting it back"
    assert all(len(row) <= 4 for row in sheets_api.values(sid, "OKRs")[1:])


def test_a_column_inserted_before_the_write_gets_the_persons_cells_back_as_they_were(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    rows = okr_rows(3)
    rows[2][3] = Formula("=C3/2", 50)
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": rows})
    sheets_api.set_format(sid, "OKRs", "D2:D4", background="FFF2CC")
    sheets_api.set_format(sid, "OKRs", "D2", number_format={"type": "NUMBER", "pattern": "0.0"})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])

    def entered(a1: str) -> dict[str, object]:
        """What a person entered in a cell (the stand-in computes no formula results)."""
        return {k: v for k, v in sheets_api.cell(sid, "OKRs", a1).items() if k != "effectiveValue"}

    before = [entered(f"D{r}") for r in range(1, 5)]
    sheets_api.before_next("batchUpdate", lambda _: sheets_api.insert_columns(sid, "OKRs", 2))

    with pytest.raises(RowsMovedError, match="put back as it was"):
        book.write(score_plan(3))

    # Current moved from D to E, where the Score was written; it is back, formula and all
    assert [entered(f"E{r}") for r in range(1, 5)] == before
    assert sheets_api.formula(sid, "OKRs", "E3") == "=C3/2"
    assert [row[5:] for row in sheets_api.values(sid, "OKRs")] == [
        ["Score", "Status", "Note"],
        [],
        [],
        [],
    ]


def test_columns_inserted_on_two_tabs_get_both_tabs_put_back(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team", {"OKRs": okr_rows(3), "KPIs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs", "KPIs"])
    okrs = score_plan(3)
    kpis = [replace(item, tab="KPIs") for item in okrs.cells]
    plan = WritePlan(
        cells=okrs.cells + kpis, guards=okrs.guards + [replace(g, tab="KPIs") for g in okrs.guards]
    )

    def insert_on_both(_: object) -> None:
        for tab in ("OKRs", "KPIs"):
            sheets_api.insert_columns(sid, tab, 2)

    sheets_api.before_next("batchUpdate", insert_on_both)

    with pytest.raises(RowsMovedError, match=r"on tab 'KPIs' .* and on tab 'OKRs' "):
        book.write(plan)

    for tab in ("OKRs", "KPIs"):
        assert sheets_api.values(sid, tab) == [
            [HEADER[0], None, *HEADER[1:]],
            *[[row[0], None, *row[1:]] for row in okr_rows(3)[1:]],
        ]


def test_cells_moved_again_while_the_write_is_put_back_fail_with_where_to_look(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])

    def insert_twice(_: object) -> None:
        sheets_api.insert_columns(sid, "OKRs", 2)
        sheets_api.before_next("batchUpdate", lambda _: sheets_api.insert_columns(sid, "OKRs", 2))

    sheets_api.before_next("batchUpdate", insert_twice)

    with pytest.raises(BackendError, match=r"moved twice.*between E2 and G4.*Version history"):
        book.write(score_plan(3))


def test_a_tab_renamed_between_read_and_write_stops_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(2)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.spreadsheet(sid).sheet("OKRs").title = "OKRs (old)"

    with pytest.raises(RowsMovedError, match=r"renamed, deleted or shortened.*nothing was written"):
        book.write(score_plan(2))

    assert all(len(row) <= 4 for row in sheets_api.values(sid, "OKRs (old)")[1:])


def test_rows_deleted_under_the_outputs_stop_the_write(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": okr_rows(3)}, rows=4, cols=7)
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.delete_rows(sid, "OKRs", 2, 2)

    with pytest.raises(RowsMovedError, match=r"exceeds grid limits.*nothing was written"):
        book.write(score_plan(3))

    assert sheets_api.values(sid, "OKRs")[1] == ["Objective 0", "KR 2", 100, 2]
