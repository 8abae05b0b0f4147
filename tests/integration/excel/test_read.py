"""Reading an .xlsx: tab names, cached formula results, errors naming the file, and the reader
giving exactly what openpyxl's read-only mode gives."""

from __future__ import annotations

import warnings
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.errors import BackendError
from tests.integration.conftest import NOTE, rewrite_parts
from tests.integration.excel.conftest import OKRS_PART, results_plan
from tests.integration.excel.producers import real_file


def test_read_matches_tab_names_case_insensitively_and_gives_cached_formula_results(okrs_file):
    snapshot = ExcelWorkbook(okrs_file).read(["okrs", "NOTES", "Missing"])

    assert sorted(snapshot.tabs) == ["Notes", "OKRs"]
    okrs = snapshot.tabs["OKRs"]
    assert okrs[0][:5] == ["Objective", "Key result", "Start", "Target", "Current"]
    assert okrs[1][4] == 7  # =2+5
    assert okrs[2][4] == 2.5  # =SUM(C3:D3)/4
    assert okrs[4][:5] == ["Grow sales", "KR 4", 0, 10, 4]
    assert len(okrs) == 5


def test_read_keeps_empty_rows_and_ignores_a_wrong_dimension(tmp_path, edit_package):
    path = tmp_path / "gaps.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "KPIs"
    book.active["A1"] = "Name"
    book.active["C4"] = 42
    book.save(path)
    edit_package(path, {OKRS_PART: lambda xml: xml.replace('ref="A1:C4"', 'ref="A1"')})

    grid = ExcelWorkbook(path).read(["KPIs"]).tabs["KPIs"]

    assert grid == [["Name"], [], [], [None, None, 42]]


def test_label_and_location_default_to_the_file(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    assert workbook.label == "okrs.xlsx"
    assert workbook.location == str(okrs_file.absolute())
    assert ExcelWorkbook(okrs_file, label="Sales OKRs").label == "Sales OKRs"


def test_not_a_zip_is_a_backend_error_naming_the_format(tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(b"\xd0\xcf\x11\xe0 an old binary workbook")

    with pytest.raises(BackendError, match=r"is not an \.xlsx workbook") as raised:
        ExcelWorkbook(path, label="Old").read(["OKRs"])
    assert raised.value.workbook == "Old"
    with pytest.raises(BackendError, match=r"is not an \.xlsx workbook"):
        ExcelWorkbook(path).write(results_plan())


def test_missing_file_is_a_backend_error_naming_the_path(tmp_path):
    path = tmp_path / "nowhere.xlsx"
    with pytest.raises(BackendError, match=r"file not found: .*nowhere\.xlsx"):
        ExcelWorkbook(path).read(["OKRs"])
    with pytest.raises(BackendError, match="file not found"):
        ExcelWorkbook(path).write(results_plan())


def openpyxl_grids(path: Path, tabs: list[str]) -> dict[str, list[list[object]]]:
    """What the backend read before it parsed the XML itself: openpyxl, read-only and
    data-only, every row there is (not the stored dimension), trailing blanks trimmed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path, read_only=True, data_only=True, keep_links=False)
    grids = {}
    for name in tabs:
        sheet = book[name]
        sheet.reset_dimensions()
        grid = []
        for values in sheet.iter_rows(values_only=True):
            row = list(values)
            while row and row[-1] is None:
                row.pop()
            grid.append(row)
        while grid and not grid[-1]:
            grid.pop()
        grids[name] = grid
    book.close()
    return grids


def typed(grid: list[list[object]]) -> list[list[tuple[str, object]]]:
    """A grid with each value's type beside it: 1, 1.0 and True are different cells."""
    return [[(type(v).__name__, v) for v in row] for row in grid]


def every_kind_of_cell(path: Path, *, date1904: bool = False) -> Path:
    """One tab with each kind of cell Excel stores, then hand-edited for what XlsxWriter
    does not write: inline and rich inline text with a phonetic hint, cells and a row
    without a reference."""
    book = xlsxwriter.Workbook(str(path), {"date_1904": date1904})
    sheet = book.add_worksheet("Data")
    bold = book.add_format({"bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    stamp = book.add_format({"num_format": "d-mmm-yy hh:mm"})
    clock = book.add_format({"num_format": "hh:mm"})
    elapsed = book.add_format({"num_format": "[h]:mm:ss"})
    percent = book.add_format({"num_format": "0.0%"})
    sheet.write_row(0, 0, ["Text", "  padded  ", "a & b < c > d", "line\nbreak", "é ✓ 😀", ""])
    sheet.write_row(1, 0, [5, 5.5, -3, 0, 1e20, 1.5e-7, 2**40])
    sheet.write_boolean(2, 0, True)
    sheet.write_boolean(2, 1, False)
    sheet.write_formula(2, 2, "=1/0", None, "#DIV/0!")
    sheet.write_formula(2, 3, "=NA()", None, "#N/A")
    sheet.write_formula(2, 4, "=2+5", None, 7)
    sheet.write_formula(2, 5, '="x"&"y"', None, "xy")
    sheet.write_formula(2, 6, "=1=1", None, True)
    sheet.write_formula(2, 7, "=0.1+0.2", None, 0.3)
    sheet.write_datetime(3, 0, date(2024, 2, 29), day)
    sheet.write_datetime(3, 1, datetime(2026, 11, 15, 2, 30), stamp)
    sheet.write_number(3, 2, 0.75, clock)
    sheet.write_number(3, 3, 1.5, elapsed)
    sheet.write_number(3, 4, 0.125, percent)
    sheet.write_number(3, 5, 45000, day)
    sheet.write_rich_string(4, 0, "plain ", bold, "bold", " tail")
    sheet.write_string(4, 1, "styled", bold)
    sheet.write_blank(4, 2, None, bold)  # a formatted empty cell: no value
    # rows 6 and 7 stay empty; row 8 is sparse; row 9 holds only formatted blanks
    sheet.write(7, 0, "A8")
    sheet.write(7, 5, "F8")
    sheet.write_blank(8, 3, None, bold)
    sheet.write(9, 2, "last numbered row")
    book.close()

    def by_hand(xml: str) -> str:
        extra = (
            '<c r="H10" t="inlineStr"><is><t xml:space="preserve"> inline </t></is></c>'
            '<c r="I10" t="inlineStr"><is><r><t>rich </t></r><r><rPr><b/></rPr><t>inline</t>'
            '</r><rPh sb="0" eb="1"><t>PHONETIC</t></rPh></is></c>'
            '<c t="inlineStr"><is><t>no reference</t></is></c><c><v>42</v></c>'
        )
        xml = xml.replace("</row></sheetData>", f"{extra}</row></sheetData>")
        return xml.replace(
            "</sheetData>", '<row><c r="A11"><v>11</v></c><c r="C11"><v>1</v></c></row></sheetData>'
        )

    rewrite_parts(path, {OKRS_PART: by_hand})
    return path


@pytest.mark.parametrize("date1904", [False, True])
def test_the_reader_returns_exactly_what_openpyxl_read_only_mode_returns(tmp_path, date1904):
    path = every_kind_of_cell(tmp_path / "kinds.xlsx", date1904=date1904)

    grid = ExcelWorkbook(path).read(["data"]).tabs["Data"]

    assert typed(grid) == typed(openpyxl_grids(path, ["Data"])["Data"])
    # and what that is, spelled out for the cases that matter downstream
    assert grid[0][:5] == ["Text", "  padded  ", "a & b < c > d", "line\nbreak", "é ✓ 😀"]
    assert typed([grid[1]]) == typed([[5, 5.5, -3, 0, 1e20, 1.5e-7, 2**40]])
    assert grid[2] == [True, False, "#DIV/0!", "#N/A", 7, "xy", True, 0.3]
    assert grid[3][:2] == [datetime(2024, 2, 29), datetime(2026, 11, 15, 2, 30)]
    assert grid[4] == ["plain bold tail", "styled"]
    assert grid[5:7] == [[], []]
    assert grid[7] == ["A8", None, None, None, None, "F8"]
    assert grid[8] == []
    assert grid[9][7:] == [" inline ", "rich inline", "no reference", 42]
    assert grid[10] == [11, None, 1]


def test_the_reader_reads_shared_strings_from_a_workbook_openpyxl_saved(tmp_path):
    path = tmp_path / "openpyxl.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["x", 1, 2.5, True, datetime(2024, 5, 6), None, "=1+1"])
    book.active.append([])
    book.active.append([None, "gap before"])
    book.save(path)

    grid = ExcelWorkbook(path).read(["Data"]).tabs["Data"]

    assert typed(grid) == typed(openpyxl_grids(path, ["Data"])["Data"])


def test_chart_sheets_are_skipped_and_missing_tabs_left_out(tmp_path):
    path = tmp_path / "charts.xlsx"
    book = xlsxwriter.Workbook(str(path))
    data = book.add_worksheet("Data")
    data.write_column(0, 0, [1, 2, 3])
    chart = book.add_chart({"type": "line"})
    chart.add_series({"values": "=Data!$A$1:$A$3"})
    book.add_chartsheet("Trend").set_chart(chart)
    book.close()

    tabs = ExcelWorkbook(path).read(["Trend", "data", "Nowhere"]).tabs

    assert tabs == {"Data": [[1], [2], [3]]}


def test_a_worksheet_that_is_not_xml_is_a_backend_error(okrs_file):
    rewrite_parts(okrs_file, {OKRS_PART: "<worksheet><sheetData><row>"})

    with pytest.raises(BackendError, match=r"is not an \.xlsx workbook"):
        ExcelWorkbook(okrs_file).read(["OKRs"])


def test_text_that_looks_like_an_excel_escape_reads_back_as_written(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, "_x0041_ and _x000D_")]))

    grid = ExcelWorkbook(okrs_file).read(["OKRs"]).tabs["OKRs"]

    assert grid[1][NOTE - 1] == "_x0041_ and _x000D_"  # Excel shows it so too


STRICT_REFUSED = "Strict Open XML is not supported: in Excel use Save As → Excel Workbook (.xlsx)"


def test_a_strict_open_xml_workbook_is_refused_when_read_saying_how_to_save_it(tmp_path):
    path = real_file("strict-open-xml-sdk-bevel.xlsx", tmp_path)  # saved so by Excel 2010
    before = path.read_bytes()

    with pytest.raises(BackendError) as refused:
        ExcelWorkbook(path).read(["Sheet1"])

    assert refused.value.detail == STRICT_REFUSED
    with pytest.raises(BackendError) as refused:  # a write without a read says the same
        ExcelWorkbook(path).write(WritePlan([CellWrite("Sheet1", 1, 1, "x")]))
    assert refused.value.detail == STRICT_REFUSED
    assert path.read_bytes() == before
