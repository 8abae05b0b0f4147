"""sheetsync writes only to columns it made, marked so it knows them wherever they move.

A person's own Status dropdown, Note column or Score formula is theirs: sheetsync adds its own
columns beside the table instead. Its columns carry a marker (Excel: a hidden defined name per
column; Google: developer metadata on the column), so renaming or moving them changes nothing;
workbooks synced by the version before markers keep working. New output headers look like the
person's headers and get a width that fits.
"""

from __future__ import annotations

import pytest

from sheetsync.cli import main
from sheetsync.core.owned import owned_grid
from tests.e2e.workbooks import write_config

AS_OF = "2026-11-15"

PERSON_OKRS = [
    ["Objective", "Key Result", "Owner", "Start", "Target", "Current", "Status", "Note", "Score"],
    ["Grow revenue", "New leads a month", "Ana", 0, 100, 60, "On Track",
     "Waiting for legal on 2 deals", ("=MIN(F2/E2,1)", 0.6)],
    [None, "Average deal size", "Ana", 10000, 12000, 10800, "At Risk", None,
     ("=MIN(F3/E3,1)", 0.9)],
]  # fmt: skip
KPIS = [["KPI", "Target", "Actual"], ["Revenue", 50000, 51000]]


def run(config, *extra):
    return main(["run", "--config", str(config), "--as-of", AS_OF, *extra])


def header(values):
    return values[0]


def column(values, name):
    idx = values[0].index(name)
    return [row[idx] if idx < len(row) else None for row in values[1:]]


@pytest.fixture
def person(sheets, tmp_path):
    entry = sheets.create("team", {"OKRs": PERSON_OKRS, "KPIs": KPIS})
    return sheets, write_config(tmp_path, [entry], sheets.config_extra())


def test_a_persons_status_note_and_score_columns_are_never_taken_over(person):
    sheets, config = person
    assert run(config) == 0
    okrs = sheets.values("team", "OKRs")
    for r, row in enumerate(PERSON_OKRS):
        for c, typed in enumerate(row):
            expected = typed[1] if isinstance(typed, tuple) else typed
            assert okrs[r][c] == expected, f"the person's cell {r + 1},{c + 1} changed"
    assert sheets.formula("team", "OKRs", "I2") == "=MIN(F2/E2,1)", "still a formula"
    assert header(okrs)[9:13] == [
        "Score (sheetsync)",
        "Status (sheetsync)",
        "Note (sheetsync)",
        "Trend",
    ]
    assert column(okrs, "Status (sheetsync)") == ["On track", "At risk"]
    assert column(okrs, "Score (sheetsync)") == [pytest.approx(0.6), pytest.approx(0.4)]
    assert sheets.width("team", "OKRs", "K") == pytest.approx(20, abs=0.5), "its header fits"


def test_validate_says_which_columns_it_chose(person, capsys):
    _, config = person
    assert main(["validate", "--config", str(config), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "Status to K (new column 'Status (sheetsync)')" in out
    assert "left alone: G 'Status', H 'Note', I 'Score'" in out


def test_the_name_for_sheetsyncs_column_is_configurable(sheets, tmp_path):
    entry = sheets.create("team", {"OKRs": PERSON_OKRS, "KPIs": KPIS})
    extra = sheets.config_extra() + '\n[outputs]\nif_taken = "sheetsync {name}"\n'
    config = write_config(tmp_path, [entry], extra)
    assert run(config) == 0
    assert header(sheets.values("team", "OKRs"))[9:11] == ["sheetsync Score", "sheetsync Status"]


def test_a_renamed_header_and_an_inserted_column_do_not_lose_sheetsyncs_columns(person):
    sheets, config = person
    run(config)
    sheets.edit("team", "OKRs", "K1", "Progress")  # a person renames sheetsync's Status
    sheets.insert_column("team", "OKRs", 2)  # and inserts a column after Objective
    sheets.edit("team", "OKRs", "G3", 12000)  # Current of row 3, now in column G
    assert run(config) == 0
    okrs = sheets.values("team", "OKRs")
    assert len(header(okrs)) == 14, "no column added: sheetsync found its own"
    assert column(okrs, "Progress") == ["On track", "Done"]
    assert column(okrs, "Status") == ["On Track", "At Risk"], "the person's column untouched"


def test_sheets_written_by_the_previous_version_keep_working(sheets, tmp_path):
    """Before markers, sheetsync wrote columns named Score/Status/Note and a Summary tab."""
    okrs = [
        ["Objective", "Key Result", "Start", "Target", "Current", "Score", "Status", "Note"],
        ["Grow revenue", "New leads a month", 0, 100, 60, 0.5, "On track", None],
    ]
    summary = owned_grid("summary of this workbook", ["As of", "2026-11-14"], [])
    entry = sheets.create("old", {"OKRs": okrs, "KPIs": KPIS, "Summary": summary})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    assert run(config) == 0
    values = sheets.values("old", "OKRs")
    assert header(values) == [*okrs[0], "Trend"], "its columns are recognised, not added again"
    assert values[1][5] == pytest.approx(0.6)
    sheets.edit("old", "OKRs", "G1", "State")  # now marked: a rename changes nothing
    sheets.edit("old", "OKRs", "E2", 100)
    assert run(config) == 0
    values = sheets.values("old", "OKRs")
    assert len(header(values)) == 9
    assert values[1][6] == "Done"


def test_a_workbook_never_synced_keeps_its_own_score_status_note(sheets, tmp_path):
    """Without a tab sheetsync made, columns named like its outputs are the person's."""
    okrs = [
        ["Objective", "Key Result", "Target", "Current", "Score", "Status", "Note"],
        ["Grow", "Leads", 100, 60, 0.6, "On Track", "my note"],
    ]
    entry = sheets.create("fresh", {"OKRs": okrs, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    assert run(config) == 0
    values = sheets.values("fresh", "OKRs")
    assert values[1][:7] == okrs[1]
    assert header(values)[7:10] == ["Score (sheetsync)", "Status (sheetsync)", "Note (sheetsync)"]


def test_new_output_headers_look_like_the_persons_and_get_a_width(sheets, tmp_path):
    okrs = [
        ["Objective", "Key Result", "Target", "Current", "Period"],
        ["Grow", "Leads", 100, 60, "2026-Q4"],
    ]
    entry = sheets.create("styled", {"OKRs": okrs, "KPIs": KPIS})
    sheets.style("styled", "OKRs", "A1:E1", bold=True, background="305496")
    config = write_config(tmp_path, [entry], sheets.config_extra())
    assert run(config) == 0
    for cell in ("F1", "G1", "H1", "I1"):
        assert sheets.look("styled", "OKRs", cell) == (True, "305496"), cell
    assert sheets.look("styled", "OKRs", "G2")[1] is not None, "Status cells keep their colour"
    assert sheets.width("styled", "OKRs", "H") == pytest.approx(44, abs=0.5), "Note fits text"
    assert sheets.width("styled", "OKRs", "F") == pytest.approx(9, abs=0.5)
    before = sheets.snapshot("styled")
    assert run(config) == 0
    assert sheets.snapshot("styled") == before, "the second night writes nothing"


def test_a_tab_added_after_marking_keeps_its_own_status_column(sheets, tmp_path):
    """Once sheetsync marks its columns, only marks count: a new KPIs tab's Status is yours."""
    entry = sheets.create("team", {"OKRs": PERSON_OKRS[:2]})
    extra = sheets.config_extra() + '\n[tabs]\nkpis = ""\n'
    config = write_config(tmp_path, [entry], extra)
    assert run(config) == 0
    kpis = [["KPI", "Target", "Actual", "Status"], ["Revenue", 50000, 51000, "mine"]]
    sheets.add_tab("team", "KPIs", kpis)
    config = write_config(tmp_path, [entry], sheets.config_extra())
    assert run(config) == 0
    values = sheets.values("team", "KPIs")
    assert values[1][3] == "mine"
    assert header(values)[5] == "Status (sheetsync)"
