"""The Excel backend on real .xlsx files: what it reads, writes, and leaves alone."""

from __future__ import annotations

import os
import re
import stat
import warnings
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sheetsync.backends.base import CellWrite, OwnedTab, RowGuard, WritePlan
from sheetsync.backends.excel import ExcelWorkbook, worksheet
from sheetsync.core.errors import BackendError, WorkbookBusyError, WorkbookLayoutError
from sheetsync.core.model import Colour
from tests.integration.conftest import NOTE, SCORE, STATUS, build_okrs, rewrite_parts

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
OKRS_PART = "xl/worksheets/sheet1.xml"
NOTES_PART = "xl/worksheets/sheet2.xml"


def results_plan(rows: int = 4) -> WritePlan:
    """Score, Status and Note for every key-result row, as the pipeline would plan them."""
    cells = []
    for row in range(2, rows + 2):
        score = round(row / 10, 2)
        colour = Colour.GREEN if score >= 0.3 else Colour.RED
        status = "On track" if colour is Colour.GREEN else "Off track"
        cells += [
            CellWrite("OKRs", row, SCORE, score, colour, "0.00"),
            CellWrite("OKRs", row, STATUS, status, colour),
            CellWrite("OKRs", row, NOTE, f"checked row {row}"),
        ]
    return WritePlan(cells=cells)


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def sheet_xml(path: Path, part: str = OKRS_PART) -> etree._Element:
    return etree.fromstring(entries(path)[part])


def load(path: Path, **options: object) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl on x14 extensions it skips
        return openpyxl.load_workbook(path, **options)


def load_warnings(path: Path) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(path)
    return sorted(str(w.message) for w in caught)


def assert_well_formed(path: Path) -> None:
    """Rows ascend, cells ascend within their row and name it, `count`s match their lists."""
    for name, data in entries(path).items():
        if not name.endswith(".xml"):
            continue
        root = etree.fromstring(data)
        if name.startswith("xl/worksheets/"):
            rows = [int(row.get("r")) for row in root.iter(f"{MAIN}row")]
            assert rows == sorted(set(rows)), f"{name}: rows out of order"
            for row in root.iter(f"{MAIN}row"):
                refs = [c.get("r") for c in row.iter(f"{MAIN}c")]
                cols = [openpyxl.utils.cell.coordinate_to_tuple(ref) for ref in refs]
                assert all(r == int(row.get("r")) for r, _ in cols), f"{name}: {refs}"
                assert [c for _, c in cols] == sorted({c for _, c in cols}), f"{name}: {refs}"
        if name == "xl/styles.xml":
            for section in ("numFmts", "fonts", "fills", "borders", "cellXfs"):
                element = root.find(f"{MAIN}{section}")
                if element is not None:
                    assert int(element.get("count")) == len(element), section


def cells_outside(path: Path, columns: set[int]) -> dict[str, bytes]:
    """Every `<c>` of the OKRs tab outside `columns`, serialised."""
    found = {}
    for cell in sheet_xml(path).iter(f"{MAIN}c"):
        _, col = openpyxl.utils.cell.coordinate_to_tuple(cell.get("r"))
        if col not in columns:
            found[cell.get("r")] = etree.tostring(cell)
    return found


# --- reading -------------------------------------------------------------------------------


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


# --- writing cells -------------------------------------------------------------------------


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


def compression(path: Path) -> dict[str, int]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: info.compress_type for info in archive.infolist()}


def test_everything_but_the_owned_cells_is_left_as_it_was(okrs_file):
    before = entries(okrs_file)
    with zipfile.ZipFile(okrs_file, "w") as archive:  # one part stored, not deflated
        for name, data in before.items():
            stored = name == "docProps/core.xml"
            archive.writestr(name, data, zipfile.ZIP_STORED if stored else zipfile.ZIP_DEFLATED)
    compressed = compression(okrs_file)
    user_cells = cells_outside(okrs_file, {SCORE, STATUS, NOTE})
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(results_plan())

    after = entries(okrs_file)
    assert list(after) == list(before)  # same parts, same order
    changed = {name for name in before if before[name] != after[name]}
    assert changed == {OKRS_PART, "xl/styles.xml"}
    for part in (NOTES_PART, "xl/charts/chart1.xml", "xl/media/image1.png", "xl/comments1.xml"):
        assert after[part] == before[part]  # as everything else but the two parts above
    # on the patched tab, all but sheetData is unchanged: sparklines (x14 extLst), data
    # validation, conditional formats, widths, frozen panes, drawing and comment links
    old, new = etree.fromstring(before[OKRS_PART]), etree.fromstring(after[OKRS_PART])
    assert old.nsmap == new.nsmap
    keep = [c for c in old if c.tag != f"{MAIN}sheetData"]
    assert [etree.tostring(c) for c in keep] == [
        etree.tostring(c) for c in new if c.tag != f"{MAIN}sheetData"
    ]
    assert {etree.QName(c).localname for c in keep} >= {
        "cols",
        "sheetViews",
        "dataValidations",
        "conditionalFormatting",
        "drawing",
        "legacyDrawing",
        "extLst",
    }
    assert b"x14:sparklineGroups" in after[OKRS_PART]
    assert cells_outside(okrs_file, {SCORE, STATUS, NOTE}) == user_cells
    assert compression(okrs_file) == compressed
    assert compressed["docProps/core.xml"] == zipfile.ZIP_STORED


def test_text_that_looks_like_a_formula_is_stored_as_text(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    texts = ["=1+1", "@SUM(A1)", "+A2", "  padded  ", "bell\x07 and tab\tkept", "_x0041_"]
    plan = WritePlan([CellWrite("OKRs", 2 + i, NOTE, text) for i, text in enumerate(texts)])

    workbook.write(plan)

    okrs = load(okrs_file)["OKRs"]
    values = [okrs.cell(2 + i, NOTE).value for i in range(len(texts))]
    assert values[:5] == ["=1+1", "@SUM(A1)", "+A2", "  padded  ", "bell and tab\tkept"]
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


def test_an_identical_fill_and_cell_format_is_reused(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    styles_before = etree.fromstring(entries(okrs_file)["xl/styles.xml"])

    workbook.write(results_plan())
    styles = etree.fromstring(entries(okrs_file)["xl/styles.xml"])

    def count(root, section):
        return len(root.find(f"{MAIN}{section}"))

    # one fill per colour used (red, green) and one format per (fill, number format) pair
    assert count(styles, "fills") == count(styles_before, "fills") + 2
    assert count(styles, "cellXfs") == count(styles_before, "cellXfs") + 4
    assert_well_formed(okrs_file)


def test_a_custom_number_format_is_added_once(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    plan = WritePlan(
        [CellWrite("OKRs", r, SCORE, 0.5, Colour.AMBER, '0.0" pts"') for r in range(2, 6)]
    )

    workbook.write(plan)

    styles = etree.fromstring(entries(okrs_file)["xl/styles.xml"])
    formats = styles.find(f"{MAIN}numFmts")
    ours = [f for f in formats if f.get("formatCode") == '0.0" pts"']
    assert len(ours) == 1 and int(ours[0].get("numFmtId")) >= 164
    assert load(okrs_file)["OKRs"].cell(2, SCORE).number_format == '0.0" pts"'
    assert not ExcelWorkbook(okrs_file).write(plan).wrote


def test_output_cells_keep_the_formatting_a_person_gave_them(tmp_path):
    path = tmp_path / "styled.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("OKRs")
    sheet.set_column("G:G", 14, book.add_format({"italic": True}))
    sheet.write_row(0, 0, ["Objective", "KR", "Start", "Target", "Current", "Score", "Status"])
    sheet.write("F2", 0.1, book.add_format({"bold": True, "border": 1}))
    book.close()
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])

    workbook.write(
        WritePlan(
            [
                CellWrite("OKRs", 2, SCORE, 0.9, Colour.GREEN, "0.00"),
                CellWrite("OKRs", 2, STATUS, "On track", Colour.GREEN),
            ]
        )
    )

    okrs = load(path)["OKRs"]
    score, status = okrs.cell(2, SCORE), okrs.cell(2, STATUS)
    assert score.font.b and score.border.left.style == "thin"  # the person's, kept
    assert score.fill.fgColor.rgb == "FF" + Colour.GREEN.value and score.number_format == "0.00"
    assert status.font.i  # a new cell takes its column's format, then our fill
    assert status.fill.fgColor.rgb == "FF" + Colour.GREEN.value


def test_writing_without_reading_first_starts_from_the_file_as_it_is(okrs_file):
    assert ExcelWorkbook(okrs_file).write(results_plan()).cells_changed == 12
    assert not ExcelWorkbook(okrs_file).write(results_plan()).wrote


def test_namespace_prefixes_and_ignorable_declarations_are_kept(okrs_file, edit_package):
    excel_root = (
        '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'mc:Ignorable="x14ac xr" '
        'xmlns:x14ac="http://schemas.microsoft.com/office/spreadsheetml/2009/9/ac" '
        'xmlns:xr="http://schemas.microsoft.com/office/spreadsheetml/2014/revision" '
        'xr:uid="{00000000-0001-0000-0000-000000000000}">'
    )

    def like_excel(xml: str) -> str:
        xml = re.sub(r"<worksheet [^>]*>", excel_root, xml)
        return xml.replace('<row r="2" ', '<row r="2" x14ac:dyDescent="0.25" ')

    edit_package(okrs_file, {OKRS_PART: like_excel})
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(results_plan())

    xml = entries(okrs_file)[OKRS_PART]
    root = etree.fromstring(xml)
    assert root.nsmap == etree.fromstring(excel_root.encode() + b"</worksheet>").nsmap
    assert root.get("{http://schemas.openxmlformats.org/markup-compatibility/2006}Ignorable") == (
        "x14ac xr"
    )
    assert b"<worksheet xmlns=" in xml and b" xr:uid=" in xml  # the same prefixes
    assert b'<row r="2" x14ac:dyDescent="0.25"' in xml
    assert load(okrs_file)["OKRs"].cell(2, SCORE).value == 0.2


# --- doing nothing, twice -----------------------------------------------------------------


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


# --- owned tabs ----------------------------------------------------------------------------


def summary(rows: int) -> OwnedTab:
    grid: list[list[object]] = [["Run", "Objective", "Score", "Status"]]
    fills = {}
    for r in range(rows):
        grid.append([date(2024, 1, 1 + r), "Grow sales", 0.25 * r, "At risk"])
        fills[(r + 2, 4)] = Colour.AMBER
    return OwnedTab("History", grid, fills, widths={1: 12, 2: 30})  # type: ignore[arg-type]


def test_an_owned_tab_is_created_with_its_values_fills_and_widths(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    result = workbook.write(WritePlan(owned_tabs=[summary(2)]))

    assert result.tabs_created == ["History"] and result.wrote
    book = load(okrs_file)
    assert book.sheetnames == ["OKRs", "Notes", "History"]
    history = book["History"]
    assert [[c.value for c in row] for row in history.iter_rows()] == [
        ["Run", "Objective", "Score", "Status"],
        [datetime(2024, 1, 1), "Grow sales", 0, "At risk"],
        [datetime(2024, 1, 2), "Grow sales", 0.25, "At risk"],
    ]
    assert history["D3"].fill.fgColor.rgb == "FF" + Colour.AMBER.value
    assert history["A2"].number_format == "yyyy-mm-dd"
    assert history.column_dimensions["B"].width == 30
    assert "History" in ExcelWorkbook(okrs_file).read(["history"]).tabs
    app = entries(okrs_file)["docProps/app.xml"]
    assert b"<vt:lpstr>History</vt:lpstr>" in app and b"<vt:i4>3</vt:i4>" in app
    assert_well_formed(okrs_file)


def test_an_owned_tab_is_rewritten_as_it_grows_and_left_alone_when_unchanged(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[summary(2)]))

    grown = workbook.write(WritePlan(owned_tabs=[summary(5)]))
    data = okrs_file.read_bytes()
    same = ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[summary(5)]))

    assert grown.wrote and grown.tabs_created == [] and grown.cells_changed == 12
    assert not same.wrote and okrs_file.read_bytes() == data
    history = load(okrs_file)["History"]
    assert history.max_row == 6 and history["C6"].value == 1.0
    assert history["D6"].fill.fgColor.rgb == "FF" + Colour.AMBER.value
    assert load(okrs_file).sheetnames == ["OKRs", "Notes", "History"]
    assert_well_formed(okrs_file)


def test_an_owned_tab_saved_by_a_person_is_compared_by_content_not_bytes(tmp_path):
    path = tmp_path / "saved.xlsx"
    book = openpyxl.Workbook()
    book.active.title = "OKRs"
    summary_tab = book.create_sheet("Summary")
    summary_tab.append(["Objective", "Score"])
    summary_tab.append(["Grow sales", 0.5])
    summary_tab["B2"].fill = openpyxl.styles.PatternFill("solid", fgColor="FF" + Colour.AMBER.value)
    book.save(path)
    data = path.read_bytes()
    plan = WritePlan(
        owned_tabs=[
            OwnedTab(
                "Summary", [["Objective", "Score"], ["Grow sales", 0.5]], {(2, 2): Colour.AMBER}
            )
        ]
    )

    assert not ExcelWorkbook(path).write(plan).wrote
    assert path.read_bytes() == data


def test_an_owned_tab_that_shrinks_loses_its_old_rows(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[summary(5)]))

    result = workbook.write(WritePlan(owned_tabs=[summary(2)]))

    assert result.cells_changed == 12  # three rows of four cells gone
    history = ExcelWorkbook(okrs_file).read(["History"]).tabs["History"]
    assert len(history) == 3
    assert (
        sheet_xml(okrs_file, "xl/worksheets/sheet3.xml").find(f"{MAIN}dimension").get("ref")
        == "A1:D3"
    )


def test_a_tab_name_excel_cannot_hold_is_a_layout_error(okrs_file):
    with pytest.raises(WorkbookLayoutError, match="cannot create tab 'Q1/Q2'"):
        ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[OwnedTab("Q1/Q2", [["x"]])]))


def test_writing_to_a_missing_tab_is_a_layout_error_naming_it(okrs_file):
    with pytest.raises(WorkbookLayoutError, match="tab 'KPIs' not found") as raised:
        ExcelWorkbook(okrs_file, label="Sales").write(WritePlan([CellWrite("KPIs", 2, 2, 1)]))
    assert raised.value.workbook == "Sales"


# --- formulas sheetsync overwrites ---------------------------------------------------------


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
    chain = (
        '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<c r="E2" i="1"/><c r="E3"/></calcChain>'
    )
    edit_package(
        okrs_file,
        {
            "xl/calcChain.xml": chain,
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                "</Relationships>",
                '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
            ),
            "[Content_Types].xml": lambda xml: xml.replace(
                "</Types>",
                '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxml'
                'formats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
            ),
        },
    )
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


# --- refusing to write ---------------------------------------------------------------------


@pytest.mark.parametrize("lock", ["~$okrs.xlsx", ".~lock.okrs.xlsx#"])
def test_a_workbook_open_in_excel_or_libreoffice_is_not_written(okrs_file, lock):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    (okrs_file.parent / lock).write_bytes(b"someone")
    data = okrs_file.read_bytes()

    with pytest.raises(WorkbookBusyError, match="close it in Excel/LibreOffice and run again"):
        workbook.write(results_plan())
    assert okrs_file.read_bytes() == data
    assert not (okrs_file.parent / "okrs.xlsx.bak").exists()


def test_a_workbook_changed_on_disk_after_read_is_not_written(okrs_file, make_okrs):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    make_okrs("okrs.xlsx", rows=6)  # someone saved a different version meanwhile
    data = okrs_file.read_bytes()

    with pytest.raises(WorkbookBusyError, match="changed on disk since sheetsync read it"):
        workbook.write(results_plan())
    assert okrs_file.read_bytes() == data


def test_a_touched_workbook_is_not_written(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    info = os.stat(okrs_file)
    os.utime(okrs_file, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))

    with pytest.raises(WorkbookBusyError, match="run again"):
        workbook.write(results_plan())


def test_row_guards_need_no_check_of_their_own(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    plan = results_plan()
    plan.guards.append(RowGuard("OKRs", 2, 2, "KR 1"))

    assert workbook.write(plan).wrote


# --- saving safely -------------------------------------------------------------------------


def test_a_crash_while_replacing_the_file_leaves_the_original_and_no_temp_file(
    okrs_file, monkeypatch
):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    data = okrs_file.read_bytes()

    def power_cut(*_: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(BackendError, match="could not save"):
        workbook.write(results_plan())

    assert okrs_file.read_bytes() == data
    assert sorted(p.name for p in okrs_file.parent.iterdir() if not p.name.endswith(".bak")) == [
        "okrs.xlsx"
    ]


def test_a_crash_while_writing_the_temp_file_leaves_the_original(okrs_file, monkeypatch):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    data = okrs_file.read_bytes()

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(BackendError, match="No space left on device"):
        workbook.write(results_plan())

    assert okrs_file.read_bytes() == data
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


def test_the_previous_version_is_kept_as_a_backup(okrs_file):
    original = okrs_file.read_bytes()
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(results_plan())

    assert (okrs_file.parent / "okrs.xlsx.bak").read_bytes() == original
    assert okrs_file.read_bytes() != original


def test_backups_rotate_through_their_generations(okrs_file):
    versions = [okrs_file.read_bytes()]
    for n in range(3):  # three nightly syncs, one object each
        workbook = ExcelWorkbook(okrs_file, backups=2)
        workbook.read(["OKRs"])
        workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, f"run {n}")]))
        versions.append(okrs_file.read_bytes())

    folder = okrs_file.parent
    assert (folder / "okrs.xlsx.bak.1").read_bytes() == versions[2]
    assert (folder / "okrs.xlsx.bak.2").read_bytes() == versions[1]
    assert not (folder / "okrs.xlsx.bak.3").exists() and not (folder / "okrs.xlsx.bak").exists()


def test_no_backup_when_backups_is_zero(okrs_file):
    workbook = ExcelWorkbook(okrs_file, backups=0)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


def test_the_file_keeps_its_permissions(okrs_file):
    os.chmod(okrs_file, 0o640)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    assert stat.S_IMODE(os.stat(okrs_file).st_mode) == 0o640


def test_a_read_only_file_is_not_replaced(okrs_file):
    os.chmod(okrs_file, 0o444)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    with pytest.raises(BackendError, match="is read-only"):
        workbook.write(results_plan())
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


# --- what other programs make of the result ------------------------------------------------


def test_the_patched_file_is_well_formed_and_loads_without_new_warnings(okrs_file):
    before = load_warnings(okrs_file)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    plan = results_plan()
    plan.owned_tabs.append(summary(3))

    workbook.write(plan)

    assert load_warnings(okrs_file) == before
    assert_well_formed(okrs_file)
    with zipfile.ZipFile(okrs_file) as archive:
        assert archive.testzip() is None
        for name in archive.namelist():
            if name.endswith((".xml", ".rels")):
                declaration = archive.read(name).split(b"?>")[0].replace(b"'", b'"')
                assert declaration.startswith(b'<?xml version="1.0" encoding="UTF-8"'), name
                assert b'standalone="yes"' in declaration, name


def test_a_workbook_made_by_openpyxl_is_patched_cleanly(tmp_path):
    path = tmp_path / "plain.xlsx"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "OKRs"
    for row in range(1, 30):
        sheet.append([f"KR {row}", row, f"=B{row}*2"] + [None] * 3)
    book.save(path)
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])
    plan = WritePlan([CellWrite("OKRs", r, 5, r / 100, Colour.GREY, "0%") for r in range(1, 30, 3)])

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        workbook.write(plan)
        result = openpyxl.load_workbook(path)["OKRs"]

    assert result["E4"].value == 0.04 and result["E4"].number_format == "0%"
    assert result["C4"].value == "=B4*2"
    assert result["E28"].fill.fgColor.rgb == "FF" + Colour.GREY.value
    assert_well_formed(path)


cell_values = st.one_of(
    st.none(),
    st.floats(allow_nan=False, allow_infinity=False, width=64),
    st.integers(-(10**12), 10**12),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=12).filter(
        lambda text: "_x" not in text  # Excel's escape syntax: Excel-correct, see above
    ),
)
cell_writes = st.lists(
    st.builds(
        CellWrite,
        tab=st.just("OKRs"),
        row=st.integers(1, 12),
        col=st.integers(1, 9),
        value=cell_values,
        fill=st.one_of(st.none(), st.sampled_from(Colour)),
        number_format=st.sampled_from([None, "0.00", "0%", '0.0" pts"']),
    ),
    max_size=25,
)


@settings(max_examples=40, deadline=None)
@given(writes=cell_writes)
def test_any_plan_reads_back_as_written_and_writing_it_again_changes_nothing(
    tmp_path_factory, writes
):
    path = build_okrs(tmp_path_factory.mktemp("fuzz") / "okrs.xlsx")
    workbook = ExcelWorkbook(path, backups=0)
    workbook.read(["OKRs"])

    workbook.write(WritePlan(list(writes)))

    grid = ExcelWorkbook(path).read(["OKRs"]).tabs["OKRs"]
    book = load(path)["OKRs"]
    for write in {(w.row, w.col): w for w in writes}.values():
        row = grid[write.row - 1] if write.row <= len(grid) else []
        got = row[write.col - 1] if write.col <= len(row) else None
        assert got == write.value, write
        fill = book.cell(write.row, write.col).fill
        assert (fill.fgColor.rgb[2:] if fill.fill_type else None) == (
            write.fill.value if write.fill else None
        )
    assert_well_formed(path)
    data = path.read_bytes()
    assert not ExcelWorkbook(path).write(WritePlan(list(writes))).wrote
    assert path.read_bytes() == data


# --- the reader: what openpyxl's read-only mode gives, faster -------------------------------


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


# --- owned tabs: only the rows that differ are written --------------------------------------


def log_tab(days: int, per_day: int = 3, *, last: str = "At risk") -> OwnedTab:
    """A History-like log: a row per item and day, the status column filled by status."""
    rows: list[list[object]] = [["Managed by sheetsync: log"], ["Day", "Item", "Score", "Status"]]
    fills = {}
    for day in range(days):
        for item in range(per_day):
            status = last if day == days - 1 else "At risk"
            rows.append([f"2026-11-{day + 1:02d}", f"Item {item} & <co>", day / 4, status])
            fills[(len(rows), 4)] = Colour.GREEN if status == "On track" else Colour.AMBER
    return OwnedTab("Log", rows, fills)  # type: ignore[arg-type]


def rows_xml(path: Path, part: str) -> dict[int, bytes]:
    return {
        int(row.get("r")): etree.tostring(row) for row in sheet_xml(path, part).iter(f"{MAIN}row")
    }


LOG_PART = "xl/worksheets/sheet3.xml"


def test_appending_to_an_owned_tab_writes_only_the_new_rows(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[log_tab(2)]))
    before = rows_xml(okrs_file, LOG_PART)

    result = ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[log_tab(3)]))

    after = rows_xml(okrs_file, LOG_PART)
    assert result.wrote and result.cells_changed == 3 * 4
    assert {r: after[r] for r in before} == before  # the rows there, byte for byte
    assert sorted(after) == list(range(1, 2 + 3 * 3 + 1))
    grid = ExcelWorkbook(okrs_file).read(["Log"]).tabs["Log"]
    assert grid == [[cell for cell in row] for row in log_tab(3).rows]
    dimension = sheet_xml(okrs_file, LOG_PART).find(f"{MAIN}dimension").get("ref")
    assert dimension == "A1:D11"
    assert_well_formed(okrs_file)


def test_rewriting_the_last_day_of_an_owned_tab_replaces_only_its_rows(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[log_tab(3)]))
    before = rows_xml(okrs_file, LOG_PART)

    result = workbook.write(WritePlan(owned_tabs=[log_tab(3, last="Off track")]))

    after = rows_xml(okrs_file, LOG_PART)
    assert result.cells_changed == 3  # the status of the last day's three rows
    changed = {r for r in before if before[r] != after[r]}
    assert changed == {9, 10, 11} and sorted(after) == sorted(before)
    log = load(okrs_file)["Log"]
    assert log["D11"].value == "Off track"
    assert log["D11"].fill.fgColor.rgb == "FF" + Colour.AMBER.value
    assert log["D8"].fill.fgColor.rgb == "FF" + Colour.AMBER.value


def test_an_unchanged_owned_tab_is_recognised_by_its_xml_alone(okrs_file, monkeypatch):
    tricky = [
        "a & b < c > d",
        "  padded  ",
        "carriage\r\nreturn",
        "_x0041_",
        "é ✓ 😀",
        "",
        "bell\x07",
        "x" * 40000,
    ]
    tab = OwnedTab(
        "Log",
        [["Managed by sheetsync: log"], tricky, [1, 2.5, -0.0, 1e-7, True, False, None, 3]],
        {(3, 7): Colour.GREY},
    )
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[tab]))
    data = okrs_file.read_bytes()

    def decoded(*_: object) -> None:
        raise AssertionError("a row sheetsync wrote was not recognised by its XML")

    monkeypatch.setattr(worksheet.Worksheet, "shown", decoded)
    again = ExcelWorkbook(okrs_file)
    again.read(["OKRs", "Log"])
    assert not again.write(WritePlan(owned_tabs=[tab])).wrote
    assert okrs_file.read_bytes() == data


def test_an_owned_tab_excel_saved_is_compared_by_content_and_its_rows_kept(tmp_path):
    path = tmp_path / "saved.xlsx"
    book = xlsxwriter.Workbook(str(path))  # shared strings, spans: Excel's way, not ours
    book.add_worksheet("OKRs").write("A1", "Objective")
    log = book.add_worksheet("Log")
    green = book.add_format({"bg_color": "#" + Colour.GREEN.value, "pattern": 1})
    amber = book.add_format({"bg_color": "#" + Colour.AMBER.value, "pattern": 1})
    for r, row in enumerate(log_tab(2).rows):
        for c, value in enumerate(row):
            fill = None
            if c == 3 and r >= 2:
                fill = green if value == "On track" else amber
            log.write(r, c, value, fill)
    book.close()
    data = path.read_bytes()
    before = rows_xml(path, "xl/worksheets/sheet2.xml")

    assert not ExcelWorkbook(path).write(WritePlan(owned_tabs=[log_tab(2)])).wrote
    assert path.read_bytes() == data
    result = ExcelWorkbook(path).write(WritePlan(owned_tabs=[log_tab(3)]))

    after = rows_xml(path, "xl/worksheets/sheet2.xml")
    assert result.cells_changed == 3 * 4
    assert {r: after[r] for r in before} == before  # shared-string rows kept as they were
    assert ExcelWorkbook(path).read(["Log"]).tabs["Log"] == [list(r) for r in log_tab(3).rows]
    assert_well_formed(path)


def test_an_owned_tab_twice_in_one_plan_ends_as_the_last(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[log_tab(1)]))

    result = workbook.write(WritePlan(owned_tabs=[log_tab(3), log_tab(2)]))

    assert result.wrote
    assert ExcelWorkbook(okrs_file).read(["Log"]).tabs["Log"] == [list(r) for r in log_tab(2).rows]
    assert_well_formed(okrs_file)


def test_a_formula_in_an_owned_tab_is_replaced_and_leaves_the_calculation_chain(
    okrs_file, edit_package
):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[log_tab(1)]))
    edit_package(
        okrs_file,
        {
            LOG_PART: lambda xml: xml.replace(
                '<c r="C3"><v>0</v></c>', '<c r="C3"><f>1-1</f><v>0</v></c>'
            ),
            "xl/calcChain.xml": (
                '<calcChain xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                '<c r="C3" i="3"/><c r="E2" i="1"/></calcChain>'
            ),
            "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
                "</Relationships>",
                '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
                '2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
            ),
            "[Content_Types].xml": lambda xml: xml.replace(
                "</Types>",
                '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxml'
                'formats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
            ),
        },
    )
    assert b"<f>1-1</f>" in entries(okrs_file)[LOG_PART]

    result = ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[log_tab(1)]))

    assert result.cells_changed == 1
    assert b"<f>" not in entries(okrs_file)[LOG_PART]
    chain = etree.fromstring(entries(okrs_file)["xl/calcChain.xml"])
    assert [(c.get("r"), c.get("i")) for c in chain] == [("E2", "1")]


def test_a_second_write_in_the_same_sync_keeps_the_backup_from_before_the_sync(okrs_file):
    before = okrs_file.read_bytes()
    workbook = ExcelWorkbook(okrs_file, backups=1)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, "scores")]))
    workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, "alert delivery")]))
    assert (okrs_file.parent / "okrs.xlsx.bak").read_bytes() == before
