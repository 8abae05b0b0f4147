"""Output cells on people's tabs: values, fills and number formats written in place, formulas
there replaced (shared, array, calculation chain), and nothing written when nothing changed."""

from __future__ import annotations

import os
import re

import pytest
import xlsxwriter
from lxml import etree

from sheetsync.backends.base import CellWrite, OwnedTab, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import Colour
from tests.integration.conftest import NOTE, SCORE, STATUS
from tests.integration.excel.conftest import (
    MAIN,
    OKRS_PART,
    assert_well_formed,
    calc_chain_edits,
    entries,
    load,
    results_plan,
    sheet_xml,
)


def test_output_cells_get_their_values_fills_and_score_number_format(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    result = workbook.write(results_plan())

    assert result.wrote and result.cells_changed == 12 and result.tabs_created == []
    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(2, SCORE).value == 0.2
    assert okrs.cell(2, SCORE).number_format == "0.00"
    assert okrs.cell(2, SCORE).fill.fgColor.rgb == "FF" + Colour.RED.value
    assert okrs.cell(3, STATUS).value == "On track"
    assert okrs.cell(3, STATUS).fill.fgColor.rgb == "FF" + Colour.GREEN.value
    assert okrs.cell(5, NOTE).value == "checked row 5"
    assert okrs.cell(5, NOTE).fill.fill_type is None
    assert okrs.cell(1, SCORE).font.b  # the header keeps its bold


def test_formula_in_an_input_column_keeps_its_formula_and_cached_value(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())

    assert load(okrs_file)["OKRs"]["E2"].value == "=2+5"
    assert load(okrs_file)["OKRs"]["E3"].value == "=SUM(C3:D3)/4"
    assert load(okrs_file, data_only=True)["OKRs"]["E2"].value == 7
    assert load(okrs_file, data_only=True)["OKRs"]["E3"].value == 2.5
    again = ExcelWorkbook(okrs_file).read(["OKRs"]).tabs["OKRs"]
    assert again[1][4] == 7 and again[2][4] == 2.5


def test_text_that_looks_like_a_formula_is_stored_as_text(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    texts = ["=1+1", "@SUM(A1)", "+A2", "  padded  ", "bell\x07 and tab\tkept", "_x0041_"]
    plan = WritePlan([CellWrite("OKRs", 2 + i, NOTE, text) for i, text in enumerate(texts)])

    workbook.write(plan)

    okrs = load(okrs_file)["OKRs"]
    values = [okrs.cell(2 + i, NOTE).value for i in range(len(texts))]
    assert values[:4] == ["=1+1", "@SUM(A1)", "+A2", "  padded  "]
    assert values[4] == "bell_x0007_ and tab\tkept"  # Excel's escape: Excel shows the bell
    assert all(okrs.cell(2 + i, NOTE).data_type == "s" for i in range(len(texts)))
    xml = entries(okrs_file)[OKRS_PART]
    assert b"<f>" not in xml.split(b'r="H2"')[1].split(b"</c>")[0]
    assert b'xml:space="preserve">  padded  <' in xml
    assert b"_x005F_x0041_" in xml  # Excel would otherwise show "A"
    # and a second run sees the same text: nothing to write
    assert not workbook.write(plan).wrote


def test_a_formula_in_an_output_cell_is_replaced_by_the_value(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 2, 5, 0.5)]))  # E2 held =2+5

    assert load(okrs_file)["OKRs"]["E2"].value == 0.5
    assert ExcelWorkbook(okrs_file).read(["OKRs"]).tabs["OKRs"][1][4] == 0.5


def test_none_clears_a_value_and_its_fill(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())

    result = workbook.write(WritePlan([CellWrite("OKRs", 2, SCORE, None)]))

    assert result.cells_changed == 1
    cell = load(okrs_file)["OKRs"].cell(2, SCORE)
    assert cell.value is None and cell.fill.fill_type is None


def test_new_cells_and_rows_go_in_order_and_grow_the_dimension(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 9, NOTE, "far below")]))

    workbook.write(
        WritePlan(
            [
                CellWrite("OKRs", 7, 2, "a new row between rows 5 and 9"),
                CellWrite("OKRs", 9, 2, "before H9"),
                CellWrite("OKRs", 3, 10, 1.5),  # beyond the row's last cell
                CellWrite("OKRs", 1, 12, "beyond the header"),
            ]
        )
    )

    assert_well_formed(okrs_file)
    okrs = load(okrs_file)["OKRs"]
    assert okrs["H9"].value == "far below" and okrs["B9"].value == "before H9"
    assert okrs["B7"].value == "a new row between rows 5 and 9"
    assert okrs["J3"].value == 1.5 and okrs["L1"].value == "beyond the header"
    assert sheet_xml(okrs_file).find(f"{MAIN}dimension").get("ref") == "A1:L9"
    grid = ExcelWorkbook(okrs_file).read(["OKRs"]).tabs["OKRs"]
    assert len(grid) == 9 and grid[7] == []


def test_writing_without_reading_first_starts_from_the_file_as_it_is(okrs_file):
    assert ExcelWorkbook(okrs_file).write(results_plan()).cells_changed == 12
    assert not ExcelWorkbook(okrs_file).write(results_plan()).wrote


def test_the_same_plan_twice_writes_nothing_the_second_time(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    data, mtime = okrs_file.read_bytes(), os.stat(okrs_file).st_mtime_ns

    result = workbook.write(results_plan())

    assert (result.wrote, result.cells_changed) == (False, 0)
    assert okrs_file.read_bytes() == data
    assert os.stat(okrs_file).st_mtime_ns == mtime


def test_a_later_run_with_the_same_results_writes_nothing(okrs_file):
    first = ExcelWorkbook(okrs_file)
    first.read(["OKRs"])
    first.write(results_plan())
    data = okrs_file.read_bytes()

    later = ExcelWorkbook(okrs_file)
    later.read(["OKRs"])
    result = later.write(results_plan())

    assert not result.wrote and okrs_file.read_bytes() == data


def test_an_empty_plan_writes_nothing(okrs_file):
    data = okrs_file.read_bytes()
    assert not ExcelWorkbook(okrs_file).write(WritePlan()).wrote
    assert okrs_file.read_bytes() == data


def test_the_same_object_can_write_twice_in_a_run(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())

    result = workbook.write(
        WritePlan(owned_tabs=[OwnedTab("Alerts", [["Owner", "Sent"], ["ana@example.com", True]])])
    )

    assert result.tabs_created == ["Alerts"]
    book = load(okrs_file)
    assert book["Alerts"]["B2"].value is True and book["OKRs"].cell(2, SCORE).value == 0.2


def test_overwriting_the_first_cell_of_a_shared_formula_keeps_the_others(okrs_file, edit_package):
    def share(xml: str) -> str:
        """F2:F5 = E*2 filled down, stored the way Excel stores it: the text once, in F2."""
        for row in range(2, 6):
            formula = '<f t="shared" si="0"/>'
            if row == 2:
                formula = '<f t="shared" ref="F2:F5" si="0">E2*2</f>'
            cell = f'<c r="F{row}">{formula}<v>{2 * row - 2}</v></c>'
            xml = re.sub(f'(<c r="E{row}".*?</c>)', lambda m, cell=cell: m[1] + cell, xml)
        return xml

    edit_package(okrs_file, {OKRS_PART: share})
    assert load(okrs_file)["OKRs"]["F4"].value == "=E4*2"

    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 2, SCORE, 0.9, Colour.GREEN)]))

    okrs = load(okrs_file)["OKRs"]
    assert okrs["F2"].value == 0.9
    assert [okrs[f"F{r}"].value for r in (3, 4, 5)] == ["=E3*2", "=E4*2", "=E5*2"]
    assert load(okrs_file, data_only=True)["OKRs"]["F4"].value == 6  # E4 * 2, as cached
    assert b'si="0"' not in entries(okrs_file)[OKRS_PART]


def test_an_array_formula_reaching_into_output_cells_is_refused(tmp_path):
    path = tmp_path / "array.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("OKRs")
    sheet.write_row(0, 0, ["a", "b", "c", "d", "e", "Score"])
    sheet.write_array_formula("E2:F3", "{=C2:D3*2}", None, 0)
    book.close()
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])

    with pytest.raises(WorkbookLayoutError, match=r"array formula in OKRs!E2:F3"):
        workbook.write(WritePlan([CellWrite("OKRs", 2, SCORE, 1.0)]))


def test_overwritten_formulas_leave_the_calculation_chain(okrs_file, edit_package):
    edit_package(okrs_file, calc_chain_edits('<c r="E2" i="1"/><c r="E3"/>'))
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(WritePlan([CellWrite("OKRs", 2, 5, 1.0)]))  # E2's formula goes
    remaining = etree.fromstring(entries(okrs_file)["xl/calcChain.xml"])
    assert [(c.get("r"), c.get("i")) for c in remaining] == [("E3", "1")]

    workbook.write(WritePlan([CellWrite("OKRs", 3, 5, 1.0)]))  # E3's too: the chain goes
    parts = entries(okrs_file)
    assert "xl/calcChain.xml" not in parts
    assert b"calcChain" not in parts["xl/_rels/workbook.xml.rels"]
    assert b"calcChain" not in parts["[Content_Types].xml"]
    load(okrs_file)
