"""Forty nights of `sheetsync run`: History records changes, not nights, and a night never
reads it whole.

A team's workbook is synced every night from 5 October for forty nights. Three times a person
edits a number; otherwise nothing changes. History ends up with the first night's rows and one
row per change (plus the period-end rows, none within these forty nights), the alerts are
each sent once per change exactly as when History had a row per night, and from the second
night on the sync reads History only to its header.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from sheetsync.alerts.cells import cell_date
from sheetsync.alerts.state import HISTORY_ROWS_CELL, STATE_HEADER
from sheetsync.cli import main
from sheetsync.core.parse import a1
from tests.e2e.workbooks import GoogleSheets, write_config

OKRS = [
    ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period"],
    ["K1", "Grow", "Signed deals", "ana@example.com", 0, 100, 100, "2026-Q4"],
    ["K2", "Grow", "Website visits", "ben@example.com", 0, 1000, 1000, "2026-Q4"],
]
KPIS = [
    ["KPI", "Owner", "Direction", "Target", "Actual"],
    ["Uptime", "ana@example.com", "higher", 0.99, 0.995],
]
FIRST = date(2026, 10, 5)
EDITS = {  # night -> (tab, cell, value)
    10: ("OKRs", "G2", 2),  # Signed deals falls far behind: Off track
    20: ("OKRs", "G2", 100),  # and is done again
    30: ("KPIs", "E2", 0.5),  # Uptime falls far below target: Off track
}


def night(n: int) -> str:
    return (FIRST + timedelta(days=n - 1)).isoformat()


def test_forty_nights_record_three_changes_and_alert_once_per_change(sheets, tmp_path):
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    extra = sheets.config_extra() + '[email]\noutbox = "outbox"\n'
    config = write_config(tmp_path, [entry], extra)
    ranges: list[list[str]] = []
    for n in range(1, 41):
        if n in EDITS:
            sheets.edit("team", *EDITS[n])
        if sheets.kind == "google":
            sheets.api.reset_counts()
        assert main(["run", "--config", str(config), "--as-of", night(n)]) in (0, 1)
        if sheets.kind == "google":
            ranges += [r.params.get("ranges", []) for r in sheets.api.requests_of("get")]

    history = sheets.values("team", "History")[2:]
    rows = [(str(cell_date(r[0])), r[3], r[10]) for r in history]
    assert rows == [
        (night(1), "K1", "Done"),
        (night(1), "K2", "Done"),
        (night(1), "Uptime", "On track"),
        (night(10), "K1", "On track"),  # 2 of 100, early in the quarter
        (night(11), "K1", "Off track"),  # the same 2 a day later: behind pace
        (night(20), "K1", "Done"),
        (night(30), "Uptime", "Off track"),
    ], "the first night, then a row per change: 40 nights of 3 items would have been 120"

    alerts = [(a[2], a[9]) for a in sheets.values("team", "Alerts")[2:]]
    assert [(item, event.rsplit("-", 1)[0]) for item, event in alerts] == [
        ("K1", f"alert-{night(11).replace('-', '')}"),
        ("K1", f"reminder-{night(18).replace('-', '')}"),
        ("K1", f"recovered-{night(20).replace('-', '')}"),
        ("Uptime", f"alert-{night(30).replace('-', '')}"),
        ("Uptime", f"reminder-{night(37).replace('-', '')}"),
    ], "each change alerted once, reminded weekly while it lasts, recovered once"

    state = sheets.values("team", "History state")[2:]
    assert sum(r[4] for r in state if r[1] == "K2") == 40, "K2: 40 runs in one spell"
    assert len(state) < 20, "a spell per change and per alert, not a row per night (120)"
    if sheets.kind == "google":
        history_ranges = [r for request in ranges for r in request if "History'" in r]
        assert history_ranges and all(r == "'History'!1:2" for r in history_ranges[1:])


def test_a_night_never_parses_historys_old_rows(excel_sheets, tmp_path):
    # A cell in an old History row longer than the reader takes in would fail any run that
    # parsed History whole: a night that reads only History's header does not see it.
    entry = excel_sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], "[excel]\nmax_text_chars = 500\n")
    assert main(["run", "--config", str(config), "--as-of", night(1)]) == 0
    assert main(["run", "--config", str(config), "--as-of", night(2)]) == 0
    excel_sheets.edit("team", "History", "N4", "a note far too long to read " * 40)

    excel_sheets.edit("team", *EDITS[10])
    assert main(["run", "--config", str(config), "--as-of", night(10)]) == 0

    history = excel_sheets.values("team", "History")
    assert history[3][13].startswith("a note far too long"), "old rows kept as they were"
    added = [(str(cell_date(r[0])), r[3], r[10]) for r in history[5:]]
    assert added == [(night(10), "K1", "On track")]


def test_a_blanked_history_rows_cell_stops_the_workbook_instead_of_wiping_history(
    sheets, tmp_path, capsys
):
    """A person blanks 'History state'!Y1 (how many rows History has): History was read to its
    header only, so rewriting it would drop every earlier row. The workbook stops with a message
    saying how to rebuild the state, and History keeps every row."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) in (0, 1)
    before = sheets.values("team", "History")
    sheets.edit("team", "History state", HISTORY_ROWS_CELL, None)
    sheets.edit("team", "OKRs", "G2", 2)

    code = main(["run", "--config", str(config), "--as-of", night(10)])

    assert code != 0
    assert "History state" in capsys.readouterr().err
    assert sheets.values("team", "History") == before


def test_a_blanked_count_in_an_older_state_tab_is_named_where_it_is(excel_sheets, tmp_path, capsys):
    """A state tab written by an older version keeps History's row count in C1 (its label in
    B1): when that cell is blanked, the message names C1, the cell the person must look at."""
    entry = excel_sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry])
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    label = a1(1, len(STATE_HEADER) + 1)  # where "History rows" stands now, before the count
    for cell, value in ((label, None), (HISTORY_ROWS_CELL, None), ("B1", "History rows")):
        excel_sheets.edit("team", "History state", cell, value)
    excel_sheets.edit("team", *EDITS[10])
    capsys.readouterr()

    assert main(["run", "--config", str(config), "--as-of", night(10)]) != 0

    said = "".join(capsys.readouterr())
    assert "cell C1 (how many rows" in said.replace("\n", " "), said
    assert HISTORY_ROWS_CELL not in said


def _insert_history_row(sheets, before: int, values: list) -> None:
    """A person inserts a row inside History (Insert row above) and types in it."""
    if sheets.kind == "google":
        sheets.api.insert_rows(sheets.ids["team"], "History", before, [values])
        return
    import openpyxl

    book = openpyxl.load_workbook(sheets.path("team"))
    book["History"].insert_rows(before)
    for col, value in enumerate(values, start=1):
        book["History"].cell(before, col, value)
    book.save(sheets.path("team"))


def _two_nights_then_a_note_below_history(sheets, tmp_path):
    """Two nights synced, then a person types a note in the first empty row below History and
    edits a number (so the next night adds a row): the config, and the note's row."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) in (0, 1)
    below = len(sheets.values("team", "History")) + 1
    sheets.edit("team", "History", f"A{below}", "checked by Ana, 12 Oct")
    sheets.edit("team", *EDITS[10])
    return config, below


def test_a_note_typed_below_history_is_kept_and_new_rows_go_below_it(sheets, tmp_path):
    """A person types a note in the first empty row below History: the next night's new rows
    go below the note instead of over it (History's old rows are not read)."""
    config, below = _two_nights_then_a_note_below_history(sheets, tmp_path)

    assert main(["run", "--config", str(config), "--as-of", night(10)]) in (0, 1)

    history = sheets.values("team", "History")
    assert history[below - 1][0] == "checked by Ana, 12 Oct", "the note is not overwritten"
    added = [(str(cell_date(r[0])), r[3]) for r in history[below:]]
    assert added == [(night(10), "K1")]


def test_a_row_inserted_inside_history_does_not_lose_its_last_row(sheets, tmp_path):
    """A person inserts a row inside History: its rows move down one, and the next night's
    new rows go below the last of them instead of over it."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) in (0, 1)
    before = sheets.values("team", "History")
    _insert_history_row(sheets, 4, ["a person's row"])
    sheets.edit("team", *EDITS[10])

    assert main(["run", "--config", str(config), "--as-of", night(10)]) in (0, 1)

    history = sheets.values("team", "History")
    width = len(before[0])
    kept = [row[:width] for row in history[: len(before) + 1]]
    assert kept == [*before[:3], ["a person's row", *[None] * (width - 1)], *before[3:]]
    added = [(str(cell_date(r[0])), r[3]) for r in history[len(before) + 1 :]]
    assert added == [(night(10), "K1")]


def test_a_full_history_tab_stops_that_workbook_with_a_message_and_the_others_go_on(
    excel_sheets, tmp_path, capsys
):
    """History has reached Excel's last row (1,048,576; a note typed on that row stands for a
    year of rows here): the workbook whose new History rows would not fit stops with a message
    naming it and its tab, its file is left as it was (rows past the last one make a sheet
    Excel cannot open), and the other workbook syncs. Once rows are deleted there is room."""
    full = excel_sheets.create("full", {"OKRs": OKRS, "KPIs": KPIS})
    other = excel_sheets.create("other", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [full, other])
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    excel_sheets.edit("full", "History", "A1048576", "the last row a worksheet has")
    for name in ("full", "other"):
        excel_sheets.edit(name, *EDITS[10])
    before = excel_sheets.path("full").read_bytes()
    capsys.readouterr()

    assert main(["run", "--config", str(config), "--as-of", night(10)]) == 1

    err = capsys.readouterr()
    said = err.out + err.err
    assert "full" in said and "'History'" in said and "1,048,576" in said
    assert excel_sheets.path("full").read_bytes() == before, "the full workbook is untouched"
    added = [(str(cell_date(r[0])), r[3]) for r in excel_sheets.values("other", "History")[5:]]
    assert added == [(night(10), "K1")], "the other workbook synced"

    import openpyxl  # the row is deleted: room again

    book = openpyxl.load_workbook(excel_sheets.path("full"))
    book["History"].delete_rows(1_048_576)
    book.save(excel_sheets.path("full"))
    assert main(["run", "--config", str(config), "--as-of", night(11)]) == 0
    history = excel_sheets.values("full", "History")
    assert [(str(cell_date(r[0])), r[3]) for r in history[2:]][-2:] == [
        (night(1), "Uptime"),
        (night(11), "K1"),
    ], "the new row right below the rows left"


@pytest.mark.parametrize("applied", [True, False], ids=["applied", "not-applied"])
def test_history_rows_appended_below_a_note_are_not_doubled_when_the_answer_is_lost(
    sheets_api, service_account_file, tmp_path, caplog, applied
):
    """A note below History sends the night's new rows by appendCells, which adds rows each
    time it is applied. The write's answer is lost (a connection reset), whether Google
    applied it or not: the retry learns which, and the night's rows are there once."""
    sheets = GoogleSheets(sheets_api, service_account_file)
    config, below = _two_nights_then_a_note_below_history(sheets, tmp_path)
    sheets.api.drop_next(kind="batchUpdate", after_applying=applied)

    assert main(["run", "--config", str(config), "--as-of", night(10)]) in (0, 1)

    assert "retrying" in caplog.text, "the answer was lost and the write retried"
    history = sheets.values("team", "History")
    assert history[below - 1][0] == "checked by Ana, 12 Oct"
    added = [(str(cell_date(r[0])), r[3]) for r in history[below:] if any(r)]
    assert added == [(night(10), "K1")], "the night's row once"
    assert main(["run", "--config", str(config), "--as-of", night(11)]) in (0, 1)
    later = [(str(cell_date(r[0])), r[3]) for r in sheets.values("team", "History")[below:]]
    assert later == [(night(10), "K1"), (night(11), "K1")], "the next night goes right below"
