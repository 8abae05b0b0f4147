"""`sheetsync init`: a template that teaches the habits sheetsync reads well.

Real numbers with number formats (not `$10,000` typed as text), an instructions tab, prompts on
the header cells, dropdowns, and example rows that are obviously examples: `validate` warns
while they are still there.
"""

from __future__ import annotations

from datetime import date, timedelta

import openpyxl
import pytest

from sheetsync.cli import main
from sheetsync.core.parse import quarter_of
from sheetsync.template import example_grids
from tests.e2e.workbooks import write_config


@pytest.fixture
def template(tmp_path):
    path = tmp_path / "team.xlsx"
    assert main(["init", str(path)]) == 0
    return openpyxl.load_workbook(path)


def _column(ws, header):
    heads = [c.value for c in ws[1]]
    col = heads.index(header) + 1
    return [ws.cell(row, col) for row in range(2, ws.max_row + 1) if ws.cell(row, 1).value]


def test_numbers_are_real_numbers_with_number_formats(template):
    okrs = template["OKRs"]
    for header in ("Start", "Target", "Warning", "Weight"):
        for cell in _column(okrs, header):
            assert cell.value is None or isinstance(cell.value, int | float), cell.coordinate
    deal_start, deal_target = (_column(okrs, h)[1] for h in ("Start", "Target"))
    assert deal_start.value == 10000 and "$" in deal_start.number_format
    assert deal_target.value == 12000 and deal_target.number_format == deal_start.number_format
    conversion = _column(okrs, "Start")[2]
    assert conversion.value == pytest.approx(0.10) and "%" in conversion.number_format
    traffic = _column(okrs, "Current")[3]
    assert traffic.value == 21500 and "#,##0" in traffic.number_format
    kpis = template["KPIs"]
    scorecard = [i for i, cell in enumerate(_column(kpis, "KPI")) if cell.value == "New signups"]
    for header in ("Target", "Warning", "Actual"):
        for i, cell in enumerate(_column(kpis, header)):
            if i not in scorecard:  # the scorecard's numbers are in its month columns
                assert isinstance(cell.value, int | float), cell.coordinate
    first_month = [c.value for c in kpis[1]].index("Kind") + 2
    ramp = kpis.cell(scorecard[1] + 2, first_month)
    assert isinstance(ramp.value, int) and ramp.number_format == "#,##0"
    lead_conversion = _column(kpis, "Actual")[1]
    assert lead_conversion.value == pytest.approx(0.115)
    assert lead_conversion.number_format == "0.0%"


def test_an_instructions_tab_explains_every_column_and_works_an_example(template):
    assert template.sheetnames[:2] == ["OKRs", "KPIs"]
    (how,) = [name for name in template.sheetnames if name not in ("OKRs", "KPIs")]
    text = "\n".join(
        str(v) for row in template[how].iter_rows(values_only=True) for v in row if v is not None
    )
    for header in [c.value for c in template["OKRs"][1]] + [c.value for c in template["KPIs"][1]]:
        assert header in text, f"the instructions explain {header}"
    assert "metric, milestone, stay above, stay below" in text
    assert "0.60" in text and "On track" in text, "one worked example"
    assert "example.com" in text


def test_header_cells_prompt_what_to_type(template):
    okrs = template["OKRs"]
    prompts = {
        str(rng): dv.prompt
        for dv in okrs.data_validations.dataValidation
        if dv.showInputMessage and dv.prompt
        for rng in dv.sqref.ranges
    }
    heads = {c.value: c.coordinate for c in okrs[1]}
    assert "blank" in prompts[heads["Current"]].lower()
    assert "milestone" in prompts[heads["Type"]]
    assert all(coordinate in prompts for coordinate in heads.values())


def test_dropdowns_for_type_direction_and_the_coming_four_quarters(template):
    quarter = quarter_of(date.today())
    coming = []
    for _ in range(4):
        coming.append(quarter.label)
        quarter = quarter_of(quarter.end + timedelta(days=1))
    lists = {
        dv.formula1: str(dv.sqref)
        for dv in template["OKRs"].data_validations.dataValidation
        if dv.type == "list"
    }
    assert '"metric,milestone,stay above,stay below"' in lists
    assert '"increase,decrease"' in lists
    assert f'"{",".join(coming)}"' in lists
    kpi_lists = [dv.formula1 for dv in template["KPIs"].data_validations.dataValidation]
    assert '"higher,lower"' in kpi_lists


def test_every_example_row_is_owned_on_the_reserved_example_domain(template):
    for tab in ("OKRs", "KPIs"):
        owners = [c.value for c in _column(template[tab], "Owner")]
        assert owners and all(o.endswith("@example.com") for o in owners), tab


def test_init_refuses_a_name_that_is_not_xlsx(tmp_path, capsys):
    assert main(["init", str(tmp_path / "notes.csv")]) == 2
    assert ".xlsx" in capsys.readouterr().err
    assert not (tmp_path / "notes.csv").exists()


def test_the_synced_template_keeps_its_formats(tmp_path):
    path = tmp_path / "team.xlsx"
    main(["init", str(path)])
    config = write_config(tmp_path, [{"name": "team", "path": str(path)}])
    assert main(["run", "--config", str(config)]) == 0
    okrs = openpyxl.load_workbook(path)["OKRs"]
    assert "$" in _column(okrs, "Start")[1].number_format


def test_validate_warns_while_the_template_examples_are_there(sheets, tmp_path, capsys):
    grids = example_grids(date(2026, 11, 15))
    examples = {tab: len(rows) - 1 for tab, rows in grids.items()}
    config = write_config(tmp_path, [sheets.create("team", grids)], sheets.config_extra())
    main(["validate", "--config", str(config), "--as-of", "2026-11-15"])
    out = capsys.readouterr().out
    assert f"OKRs!D2:D{examples['OKRs'] + 1}: {examples['OKRs']} rows are still" in out
    assert f"{examples['KPIs']} rows are still the template's examples" in out
    sheets.edit("team", "KPIs", "B2", "maria@acme.test")
    main(["validate", "--config", str(config), "--as-of", "2026-11-15"])
    out = capsys.readouterr().out
    assert f"{examples['KPIs'] - 1} rows are still the template's examples" in out


def test_no_warning_once_the_examples_are_replaced(sheets, tmp_path, capsys):
    grids = example_grids(date(2026, 11, 15))
    for tab in grids.values():
        for row in tab[1:]:
            row[tab[0].index("Owner")] = "maria@acme.test"
    config = write_config(tmp_path, [sheets.create("team", grids)], sheets.config_extra())
    main(["validate", "--config", str(config), "--as-of", "2026-11-15"])
    assert "template's examples" not in capsys.readouterr().out
