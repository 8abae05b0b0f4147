"""Sheets laid out the way real OKR and KPI templates are, synced through the CLI on both backends.

Header names from public templates (`Start Value`, `Key Results`, `KPI Name` ...), a title row
above the headers, and several tables on one tab.
"""

from __future__ import annotations

import json

import pytest

from sheetsync.cli import main
from tests.e2e.workbooks import write_config

AS_OF = "2026-11-15"  # half way through 2026-Q4

TEMPLATE_OKRS = [
    ["Objectives", "Key Results", "Owner", "Base", "Target Value", "Current Actual Value",
     "Period", "Comments"],
    ["Grow revenue", "New leads a month", "Ana", 0, 100, 60, "2026-Q4", "from the CRM"],
    [None, "Average deal size", "Ana", 10000, 12000, 10800, "2026-Q4", None],
]  # fmt: skip
TEMPLATE_KPIS = [
    ["Metric / KPI", "Owner", "Baseline Value", "Target Value", "Actual Value"],
    ["Revenue", "Ana", 40000, 50000, 51000],
]


def column(values, header):
    idx = values[0].index(header)
    return [row[idx] if idx < len(row) else None for row in values[1:]]


def _config(sheets, tmp_path, tabs, name="team"):
    entry = sheets.create(name, tabs)
    return write_config(tmp_path, [entry], sheets.config_extra())


def test_header_names_from_real_templates_are_recognised(sheets, tmp_path):
    config = _config(sheets, tmp_path, {"OKRs": TEMPLATE_OKRS, "KPIs": TEMPLATE_KPIS})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    okrs = sheets.values("team", "OKRs")
    assert column(okrs, "Score")[:2] == [pytest.approx(0.6), pytest.approx(0.4)]
    assert column(okrs, "Status")[:2] == ["On track", "At risk"]
    kpis = sheets.values("team", "KPIs")
    assert column(kpis, "Status") == ["On track"]


def test_other_real_template_names_start_value_and_kpi_name(sheets, tmp_path):
    okrs = [
        ["Objective", "Key Result", "Start Value", "Target Value", "Current Value"],
        ["Grow", "Leads", 0, 10, 5],
    ]
    kpis = [["KPI Name", "Target", "Current Value"], ["Revenue", 10, 11]]
    config = _config(sheets, tmp_path, {"OKRs": okrs, "KPIs": kpis})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert column(sheets.values("team", "OKRs"), "Score") == [pytest.approx(0.5)]
    assert column(sheets.values("team", "KPIs"), "Status") == ["On track"]


def test_validate_says_which_column_was_taken_for_which_field(sheets, tmp_path, capsys):
    config = _config(sheets, tmp_path, {"OKRs": TEMPLATE_OKRS, "KPIs": TEMPLATE_KPIS})
    assert main(["validate", "--config", str(config), "--as-of", AS_OF]) == 0
    out = capsys.readouterr().out
    assert "OKRs: headers in row 1" in out
    assert "Objective = A 'Objectives'" in out
    assert "Key Result = B 'Key Results'" in out
    assert "Start = D 'Base'" in out
    assert "Current = F 'Current Actual Value'" in out
    assert "KPI = A 'Metric / KPI'" in out
    assert "Actual = E 'Actual Value'" in out


def test_validate_json_lists_the_layout_of_each_tab(sheets, tmp_path, capsys):
    config = _config(sheets, tmp_path, {"OKRs": TEMPLATE_OKRS, "KPIs": TEMPLATE_KPIS})
    main(["validate", "--config", str(config), "--as-of", AS_OF, "--json"])
    (wb,) = json.loads(capsys.readouterr().out)["workbooks"]
    okrs = next(tab for tab in wb["layout"] if tab["tab"] == "OKRs")
    assert okrs["header_row"] == 1
    assert okrs["columns"]["Target"] == {"column": "E", "header": "Target Value"}


TITLED_OKRS = [
    ["Q4 2026 OKRs — Sales"],
    [],
    ["Objective", "Key Result", "Start", "Target", "Current"],
    ["Grow revenue", "New leads a month", 0, 100, 60],
]


def test_a_title_row_above_the_headers_is_skipped(sheets, tmp_path, capsys):
    config = _config(sheets, tmp_path, {"OKRs": TITLED_OKRS, "KPIs": TEMPLATE_KPIS})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    okrs = sheets.values("team", "OKRs")
    assert okrs[0][0] == "Q4 2026 OKRs — Sales", "the title is the person's"
    assert okrs[2][5:8] == ["Score", "Status", "Note"], "outputs go on the header row"
    assert okrs[3][5] == pytest.approx(0.6)
    assert main(["validate", "--config", str(config), "--as-of", AS_OF]) == 0
    assert "OKRs: headers in row 3" in capsys.readouterr().out


def test_two_tables_stacked_on_one_tab_fail_with_a_clear_message(sheets, tmp_path, capsys):
    stacked = [
        *TITLED_OKRS,
        [],
        ["Q1 2027 OKRs — Sales"],
        ["Objective", "Key Result", "Start", "Target", "Current"],
        ["Grow revenue", "Leads", 0, 100, 10],
    ]
    config = _config(sheets, tmp_path, {"OKRs": stacked, "KPIs": TEMPLATE_KPIS})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 1
    out = capsys.readouterr().out
    assert "rows 3 and 7" in out and "one table per tab" in out
    assert "Summary" not in sheets.tabs("team"), "nothing is written from a wrong read"


def test_two_tables_side_by_side_fail_with_a_clear_message(sheets, tmp_path, capsys):
    side = [
        ["Objective", "Key Result", "Target", "Current", None, "Objective", "Key Result",
         "Target", "Current"],
        ["Grow", "Leads", 100, 60, None, "Delight", "NPS", 50, 40],
    ]  # fmt: skip
    config = _config(sheets, tmp_path, {"OKRs": side, "KPIs": TEMPLATE_KPIS})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 1
    out = capsys.readouterr().out
    assert "side by side" in out and "A1 and F1" in out and "one table per tab" in out


def test_no_header_row_in_the_top_rows_names_the_closest_row(sheets, tmp_path, capsys):
    okrs = [["Team OKRs"], ["Objective", "Key Result", "Current"], ["Grow", "Leads", 5]]
    config = _config(sheets, tmp_path, {"OKRs": okrs, "KPIs": TEMPLATE_KPIS})
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 1
    out = capsys.readouterr().out
    assert "required column 'Target' is missing from the header row (row 2)" in out
