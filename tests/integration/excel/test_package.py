"""The package as a whole: every part but the owned cells left as it was, and a result that
is well formed and that Excel-like readers load without new warnings."""

from __future__ import annotations

import re
import warnings
import zipfile
from pathlib import Path

import openpyxl
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.model import Colour
from tests.integration.conftest import NOTE, SCORE, STATUS, build_okrs
from tests.integration.excel.conftest import (
    MAIN,
    OKRS_PART,
    assert_well_formed,
    entries,
    load,
    results_plan,
    sheet_xml,
    summary,
)

NOTES_PART = "xl/worksheets/sheet2.xml"


def load_warnings(path: Path) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        openpyxl.load_workbook(path)
    return sorted(str(w.message) for w in caught)


def cells_outside(path: Path, columns: set[int]) -> dict[str, bytes]:
    """Every `<c>` of the OKRs tab outside `columns`, serialised."""
    found = {}
    for cell in sheet_xml(path).iter(f"{MAIN}c"):
        _, col = openpyxl.utils.cell.coordinate_to_tuple(cell.get("r"))
        if col not in columns:
            found[cell.get("r")] = etree.tostring(cell)
    return found


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
        lambda text: "_x" not in text  # Excel's escape syntax: Excel-correct, see test_read.py
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
