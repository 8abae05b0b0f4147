"""A person's tab is patched as text: the output cells change, and every other row keeps the
exact bytes the person's program wrote (indentation, empty-text forms, attribute quoting)."""

from __future__ import annotations

import re
import zipfile

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from tests.integration.conftest import NOTE, SCORE, STATUS
from tests.integration.excel.conftest import OKRS_PART, assert_well_formed, load, results_plan


def part_text(path, part=OKRS_PART):
    with zipfile.ZipFile(path) as archive:
        return archive.read(part).decode()


def row_text(xml, number):
    return re.search(rf"<row r=[\"']{number}[\"'][^>]*>.*?</row>", xml, re.S)[0]


def indent_rows_and_add_a_row_of_notes(xml):
    """What an XML tool or an older producer leaves: rows one per line, a row the plan does
    not touch with an empty text written open and closed and single-quoted attributes."""
    xml = xml.replace("<row ", "\n  <row ").replace("</sheetData>", "\n</sheetData>")
    notes = (
        "\n  <row r='9' spans='1:8'><c r='A9' t='inlineStr'><is><t></t></is></c>"
        "<c r='B9' t='inlineStr'><is><t xml:space='preserve'> kept as typed </t></is></c></row>"
    )
    return xml.replace("\n</sheetData>", notes + "\n</sheetData>")


def test_rows_without_output_cells_keep_their_exact_bytes(okrs_file, edit_package):
    edit_package(okrs_file, {OKRS_PART: indent_rows_and_add_a_row_of_notes})
    before = part_text(okrs_file)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    result = workbook.write(results_plan())

    assert result.wrote and result.cells_changed == 12
    after = part_text(okrs_file)
    assert row_text(after, 9) == row_text(before, 9)  # not re-serialised
    assert row_text(after, 1) == row_text(before, 1)
    assert '\n  <row r="3"' in after  # the indentation between rows stays
    assert_well_formed(okrs_file)
    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(2, SCORE).value == 0.2 and okrs.cell(2, SCORE).number_format == "0.00"
    assert okrs.cell(3, STATUS).value == "On track"
    assert okrs.cell(9, 2).value == " kept as typed "
    assert okrs["E2"].value == "=2+5"  # a formula beside the output cells stays


def test_an_unchanged_tab_is_left_byte_for_byte_and_a_changed_cell_alone_is_rewritten(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    written = okrs_file.read_bytes()

    again = ExcelWorkbook(okrs_file)
    again.read(["OKRs"])
    assert not again.write(results_plan()).wrote
    assert okrs_file.read_bytes() == written

    before = part_text(okrs_file)
    once_more = ExcelWorkbook(okrs_file)
    once_more.read(["OKRs"])
    changed = [CellWrite("OKRs", 4, NOTE, "a new note")]
    result = once_more.write(WritePlan(cells=changed))
    assert result.wrote and result.cells_changed == 1
    after = part_text(okrs_file)
    assert [row_text(after, n) for n in (1, 2, 3, 5)] == [row_text(before, n) for n in (1, 2, 3, 5)]
    assert load(okrs_file)["OKRs"].cell(4, NOTE).value == "a new note"


def test_a_tab_in_a_prefixed_namespace_is_written_in_that_prefix(okrs_file, edit_package):
    """ClosedXML, the Open XML SDK and Tencent Docs write `<x:row>`, `<x:c>`."""

    def prefixed(xml):
        xml = xml.replace('xmlns="http://schemas', 'xmlns:x="http://schemas', 1)
        return re.sub(r"<(/?)(?!\?)(\w+)([ />])", r"<\1x:\2\3", xml)

    edit_package(okrs_file, {OKRS_PART: prefixed})
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())

    after = part_text(okrs_file)
    assert '<x:c r="' in after and "<c " not in after
    assert_well_formed(okrs_file)
    assert load(okrs_file)["OKRs"].cell(5, NOTE).value == "checked row 5"


def test_an_unchanged_summary_whose_chart_a_person_removed_gets_it_back(tmp_path, edit_package):
    """The Summary's rows are as sheetsync wrote them, so they are recognised as text; the
    chart's anchor in the sheet is put back without rewriting a row."""
    from sheetsync.cli import main
    from tests.e2e.test_summary_charts import AS_OF, chart_parts, synced

    path, config = synced(tmp_path)
    parts = chart_parts(path)
    summary_part = next(p for p in zipfile.ZipFile(path).namelist() if p.endswith("sheet3.xml"))
    rows_before = re.search(r"<sheetData>.*</sheetData>", part_text(path, summary_part), re.S)[0]
    edit_package(path, {summary_part: lambda xml: re.sub(r"<drawing [^>]*/>", "", xml)})
    assert "<drawing " not in part_text(path, summary_part)

    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0

    after = part_text(path, summary_part)
    assert "<drawing " in after
    assert set(parts) <= set(chart_parts(path))
    assert re.search(r"<sheetData>.*</sheetData>", after, re.S)[0] == rows_before
    assert_well_formed(path)


def test_a_row_with_its_cells_out_of_order_is_written_on_the_tree(okrs_file, edit_package):
    """Some producers write a row's cells out of column order; the text path leaves such a
    sheet to the tree (found before anything is changed, not half way through)."""

    def swap_first_cells(xml):
        first, second = (
            re.search(r'<c r="A2".*?</c>', xml)[0],
            re.search(r'<c r="B2".*?</c>', xml)[0],
        )
        return xml.replace(first + second, second + first)

    edit_package(okrs_file, {OKRS_PART: swap_first_cells})
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    result = workbook.write(results_plan())

    assert result.wrote and result.cells_changed == 12
    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(2, SCORE).value == 0.2 and okrs.cell(2, NOTE).value == "checked row 2"
    assert okrs["A2"].value == "Grow sales" and okrs["B2"].value == "KR 1"
