"""A team's workbook goes through `sheetsync run`: scores, statuses, colours, notes, Summary.

Parametrised over both backends (Excel files and the local Google Sheets API stand-in): the
pipeline must not care which one it drives.
"""

from __future__ import annotations

from datetime import date

import pytest

from sheetsync.alerts.cells import cell_date
from sheetsync.cli import main
from sheetsync.core.model import Colour
from tests.e2e.workbooks import write_config

AS_OF = "2026-11-15"  # half way through 2026-Q4 (expected progress 0.5)

OKRS = [
    ["ID", "Objective", "Key Result", "Owner", "Type", "Start", "Target", "Current", "Weight",
     "Period", "KPI", "Team notes"],
    ["S1", "Grow revenue", "New leads a month", "ana@example.com", "metric", 0, 100,
     ("=40+20", 60), 2, "2026-Q4", None, "from the CRM"],
    ["S2", None, "Average deal size", "Ana", None, "$10,000", "$12,000", "$10,800", None,
     "2026-Q4", None, None],
    ["S3", None, "Conversion rate", "Ben", None, "10%", "15%", "lots", None, "2026-Q4", None,
     "typo on purpose"],
    ["C1", "Delight customers", "Response time 4h -> 2h", "Dee", "metric", 4, 2, 3, None,
     "2026-Q4", None, None],
    ["C2", None, "Launch the help centre", "Dee", "milestone", None, None, "done", None,
     "2026-Q4", None, None],
    ["C3", None, "Retention 75% -> 80%", "Dee", None, "75%", "80%", None, None, "2026-Q4",
     "Retention", None],
    ["C4", None, "Q3 satisfaction 4.0 -> 4.5", "Dee", None, 4.0, 4.5, 4.2, None, "2026-Q3",
     None, None],
]  # fmt: skip

KPIS = [
    ["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual"],
    ["Revenue", "Ana", "$", "higher", 50000, 45000, ("=46000+1000", 47000)],
    ["Retention", "Dee", "%", "higher", 0.85, 0.8, 0.78],
    ["First response (h)", "Dee", "h", "lower", 2, 3, 1.5],
]


def run(config, *extra: str) -> int:
    return main(["run", "--config", str(config), "--as-of", AS_OF, *extra])


@pytest.fixture
def team(sheets, tmp_path):
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    return sheets, config


def column(values, header):
    head = values[0]
    idx = head.index(header)
    return [row[idx] if idx < len(row) else None for row in values[1:]]


def test_run_scores_every_key_result_and_colours_it(team):
    sheets, config = team
    assert run(config) == 1, "one row is invalid on purpose, so the exit code says so"
    okrs = sheets.values("team", "OKRs")
    assert okrs[0][12:15] == ["Score", "Status", "Note"], "outputs appended after the last header"
    scores = column(okrs, "Score")
    statuses = column(okrs, "Status")
    assert scores[0] == pytest.approx(0.6)  # 60 of 100, formula result
    assert scores[1] == pytest.approx(0.4)  # $10,800 of 10,000 -> 12,000
    assert scores[2] is None and statuses[2] == "Invalid"
    assert scores[3] == pytest.approx(0.5)  # decreasing: 4h -> 2h at 3h
    assert scores[4] == 1.0 and statuses[4] == "Done"  # milestone
    assert scores[5] == pytest.approx(0.6)  # from the Retention KPI's 78%
    assert statuses[6] == "Partly achieved"  # Q3 ended: graded 0.4
    assert statuses[:2] == ["On track", "At risk"]
    assert sheets.fill("team", "OKRs", "M2") == Colour.GREEN.value
    assert sheets.fill("team", "OKRs", "N3") == Colour.AMBER.value
    assert sheets.fill("team", "OKRs", "N4") == Colour.GREY.value


def test_an_invalid_row_says_where_and_why_and_the_others_still_score(team):
    sheets, config = team
    run(config)
    notes = column(sheets.values("team", "OKRs"), "Note")
    assert "H4" in notes[2] and "'lots'" in notes[2] and "not a number" in notes[2]
    assert notes[0] is None


def test_kpis_get_status_and_attainment(team):
    sheets, config = team
    run(config)
    kpis = sheets.values("team", "KPIs")
    assert column(kpis, "Status") == ["At risk", "Off track", "On track"]
    assert column(kpis, "Score")[0] == pytest.approx(0.94)
    assert sheets.fill("team", "KPIs", "I3") == Colour.RED.value


def test_summary_tab_lists_objectives_and_kpi_health(team):
    sheets, config = team
    run(config)
    summary = sheets.values("team", "Summary")
    assert summary[0][0].startswith("Managed by sheetsync")
    assert summary[1][0] == "As of" and cell_date(summary[1][1]) == date.fromisoformat(AS_OF)
    rows = {r[0]: r for r in summary if r and r[0]}
    assert rows["Grow revenue"][1] == pytest.approx((2 * 0.6 + 0.4) / 3, abs=1e-3)
    assert rows["Grow revenue"][-1] == "1 invalid key result left out"
    assert rows["Off track"][1] == 1  # KPI health


def test_person_cells_formulas_and_extra_columns_survive(team):
    sheets, config = team
    run(config)
    okrs = sheets.values("team", "OKRs")
    for r, row in enumerate(OKRS):
        for c, typed in enumerate(row):
            expected = typed[1] if isinstance(typed, tuple) else typed
            assert okrs[r][c] == expected, f"cell {r + 1},{c + 1} changed"
    assert sheets.formula("team", "OKRs", "H2") == "=40+20"
    assert sheets.formula("team", "KPIs", "G2") == "=46000+1000"


def test_the_second_night_reads_the_same_formula_results_and_changes_nothing(team):
    sheets, config = team
    run(config)
    first = sheets.values("team", "OKRs")
    before = sheets.snapshot("team")
    assert run(config, "--json") == 1
    assert sheets.values("team", "OKRs") == first
    assert sheets.snapshot("team") == before, "an unchanged sheet must not be written again"


def test_dry_run_writes_nothing(team):
    sheets, config = team
    before = sheets.snapshot("team")
    run(config, "--dry-run")
    assert sheets.snapshot("team") == before
    assert "Summary" not in sheets.tabs("team")


def test_text_that_looks_like_a_formula_is_written_as_text(sheets, tmp_path):
    okrs = [row[:] for row in OKRS[:2]]
    okrs[1][2] = "=HYPERLINK(1)"
    okrs[1][7] = "=1+1"  # typed as text in Current: invalid, echoed back in the Note as text
    entry = sheets.create("t", {"OKRs": okrs, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    run(config)
    note = column(sheets.values("t", "OKRs"), "Note")[0]
    assert "'=1+1'" in note
    assert sheets.formula("t", "OKRs", "O2") is None


def test_a_person_tab_named_summary_is_never_overwritten(sheets, tmp_path):
    entry = sheets.create("t", {"OKRs": OKRS, "KPIs": KPIS, "Summary": [["my own notes"]]})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    assert run(config) == 1
    assert sheets.values("t", "Summary") == [["my own notes"]]


def test_a_missing_tab_fails_that_workbook_and_the_others_still_sync(sheets, tmp_path):
    broken = sheets.create("broken", {"Goals": OKRS, "KPIs": KPIS})
    good = sheets.create("good", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [broken, good], sheets.config_extra())
    assert run(config) == 1
    assert "Summary" in sheets.tabs("good")
    assert "Summary" not in sheets.tabs("broken")


def test_a_person_edit_between_runs_is_picked_up(team):
    sheets, config = team
    run(config)
    sheets.edit("team", "OKRs", "H3", 12000)
    run(config)
    okrs = sheets.values("team", "OKRs")
    assert column(okrs, "Score")[1] == 1.0
    assert column(okrs, "Status")[1] == "Done"
