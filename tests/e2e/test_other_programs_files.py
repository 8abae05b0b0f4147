"""Workbooks saved by other programs, synced night after night through the CLI."""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import write_config
from tests.integration.excel.conftest import kill_a_save
from tests.integration.excel.producers import with_prefixed_spreadsheetml


def test_a_workbook_with_prefixed_sheets_gets_its_scores_once_and_keeps_them(
    excel_sheets, tmp_path
):
    entry = excel_sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    with_prefixed_spreadsheetml(excel_sheets.path("team"))  # as the Open XML SDK lays it out
    config = str(write_config(tmp_path, [entry]))

    night = ["run", "--config", config, "--as-of", "2026-11-15"]
    assert main(night) == 1, "one row of the story is invalid on purpose"
    after_first = excel_sheets.snapshot("team")
    assert main(night) == 1

    assert excel_sheets.snapshot("team") == after_first, "the second night wrote nothing"
    okrs = excel_sheets.values("team", "OKRs")
    score = okrs[0].index("Score")
    assert okrs[1][score] == 0.6
    assert [row[score] for row in okrs].count("Score") == 1


def test_data_in_the_last_column_says_there_is_no_room_for_the_outputs(
    excel_sheets, tmp_path, capsys
):
    okrs = [list(row) for row in OKRS]
    okrs[1] = okrs[1] + [None] * (16384 - len(okrs[1]) - 1) + ["my note in XFD"]
    entry = excel_sheets.create("team", {"OKRs": okrs, "KPIs": KPIS})
    before = excel_sheets.snapshot("team")
    config = str(write_config(tmp_path, [entry]))

    assert main(["run", "--config", config, "--as-of", "2026-11-15"]) == 1

    out = capsys.readouterr()
    assert "team: no room for the output columns on tab 'OKRs'" in " ".join(out.out.split())
    assert "internal error" not in out.out + out.err and "Traceback" not in out.err
    assert excel_sheets.snapshot("team") == before


def test_a_run_removes_what_a_killed_save_left_beside_the_workbook(excel_sheets, tmp_path):
    entry = excel_sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    left = kill_a_save(excel_sheets.path("team"))  # a save killed between write and rename
    config = str(write_config(tmp_path, [entry]))

    assert main(["run", "--config", config, "--as-of", "2026-11-15"]) == 1

    assert not left.exists()
    assert sorted(p.name for p in tmp_path.glob(".team.xlsx*")) == []
