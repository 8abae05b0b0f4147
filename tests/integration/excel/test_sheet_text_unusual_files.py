"""A person's tab written in a form the text path does not expect (a formula indented in its
cell, two prefixes for the spreadsheet namespace, hyphenated attributes, a comment naming
`<sheetData>`, a non-UTF-8 encoding) is still written correctly: the text path handles it or
leaves the tab to the tree, and the workbook stays one Excel opens."""

from __future__ import annotations

import re
import zipfile

from lxml import etree

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from tests.integration.conftest import NOTE, SCORE
from tests.integration.excel.conftest import (
    MAIN,
    OKRS_PART,
    assert_well_formed,
    calc_chain_edits,
    entries,
    load,
    sheet_xml,
)

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
E2 = '<c r="E2"><f>2+5</f><v>7</v></c>'


def write(path, *cells):
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])
    return workbook.write(WritePlan(list(cells)))


def cells_named(path, ref):
    return [c for c in sheet_xml(path).iter(f"{MAIN}c") if c.get("r") == ref]


def row_element(path, number):
    return next(r for r in sheet_xml(path).iter(f"{MAIN}row") if r.get("r") == str(number))


def test_a_formula_indented_in_its_cell_leaves_the_calculation_chain_when_overwritten(
    okrs_file, edit_package
):
    """Excel reports a damaged workbook if the chain names a cell that lost its formula."""
    edit_package(
        okrs_file,
        {
            **calc_chain_edits('<c r="E2" i="1"/><c r="E3"/>'),
            OKRS_PART: lambda xml: xml.replace(E2, '<c r="E2">\n      <f>2+5</f><v>7</v></c>'),
        },
    )

    write(okrs_file, CellWrite("OKRs", 2, 5, 1.0))  # E2's formula goes

    remaining = etree.fromstring(entries(okrs_file)["xl/calcChain.xml"])
    assert [(c.get("r"), c.get("i")) for c in remaining] == [("E3", "1")]
    assert load(okrs_file)["OKRs"]["E2"].value == 1.0


def test_a_cell_under_a_second_prefix_for_the_spreadsheet_namespace_is_overwritten_not_doubled(
    okrs_file, edit_package
):
    """The worksheet binds both the default namespace and `x:` to SpreadsheetML and one cell
    is written `<x:c>`: it is the same kind of cell, so writing it must not add a second F2."""

    def second_prefix(xml):
        xml = xml.replace(f'xmlns="{NS}"', f'xmlns="{NS}" xmlns:x="{NS}"', 1)
        return xml.replace(E2, E2 + '<x:c r="F2"><x:v>0.5</x:v></x:c>')

    edit_package(okrs_file, {OKRS_PART: second_prefix})
    assert len(cells_named(okrs_file, "F2")) == 1

    write(okrs_file, CellWrite("OKRs", 2, SCORE, 0.9))

    assert [c.findtext(f"{MAIN}v") for c in cells_named(okrs_file, "F2")] == ["0.9"]
    assert_well_formed(okrs_file)
    assert load(okrs_file)["OKRs"].cell(2, SCORE).value == 0.9


def test_a_row_with_a_hyphenated_attribute_keeps_its_number_when_a_cell_is_added(
    okrs_file, edit_package
):
    """An add-in marks row 2 `my-r="9"`; adding the Score cell widens the row's spans, and
    the row must still be row 2 (not renumbered 9 from the other attribute)."""
    edit_package(
        okrs_file,
        {
            OKRS_PART: lambda xml: xml.replace(
                '<row r="2" spans="1:8">', '<row r="2" spans="1:5" my-r="9">'
            )
        },
    )

    write(okrs_file, CellWrite("OKRs", 2, SCORE, 0.9))

    row = row_element(okrs_file, 2)
    assert row.get("my-r") == "9" and row.get("spans") == "1:6"
    assert [c.get("r") for c in row_element(okrs_file, 2)][-1] == "F2"
    assert_well_formed(okrs_file)
    assert load(okrs_file)["OKRs"].cell(2, SCORE).value == 0.9


def test_a_cell_with_a_hyphenated_attribute_keeps_its_own_format(okrs_file, edit_package):
    """`my-s="7"` on a cell is an add-in's attribute, not the cell's format: writing the cell
    must not give it cell format 7 (which the workbook does not have)."""
    edit_package(
        okrs_file,
        {OKRS_PART: lambda xml: xml.replace('<c r="D2">', '<c r="D2" my-s="7">')},
    )

    write(okrs_file, CellWrite("OKRs", 2, 4, 12.0))

    (cell,) = cells_named(okrs_file, "D2")
    assert cell.get("s") is None and cell.get("my-s") == "7"
    assert load(okrs_file)["OKRs"]["D2"].value == 12.0


def test_a_comment_naming_sheetdata_before_the_rows_does_not_stop_the_write(
    okrs_file, edit_package
):
    edit_package(
        okrs_file,
        {
            OKRS_PART: lambda xml: xml.replace(
                "<sheetData>", "<!-- <sheetData> is below --><sheetData>", 1
            )
        },
    )

    write(okrs_file, CellWrite("OKRs", 2, SCORE, 1.0))

    assert load(okrs_file)["OKRs"].cell(2, SCORE).value == 1.0
    assert b"<!-- <sheetData> is below -->" in entries(okrs_file)[OKRS_PART]


def test_a_tab_whose_xml_mentions_sheetsyncs_own_marker_is_written(okrs_file, edit_package):
    """Whatever text a tab holds outside its rows (here a comment quoting the marker the
    text path once used) cannot break the write; a new row grows the dimension, so the part
    around the rows is written again."""
    edit_package(
        okrs_file,
        {
            OKRS_PART: lambda xml: xml.replace(
                "<sheetData>", "<!-- <?sheetsync-rows?> --><sheetData>", 1
            )
        },
    )

    write(okrs_file, CellWrite("OKRs", 7, NOTE, "a new row"))

    assert load(okrs_file)["OKRs"].cell(7, NOTE).value == "a new row"
    assert b'<dimension ref="A1:H7"/>' in entries(okrs_file)[OKRS_PART]
    assert b"<!-- <?sheetsync-rows?> -->" in entries(okrs_file)[OKRS_PART]


def test_a_tab_saved_in_latin_1_keeps_its_accents(okrs_file):
    """A part may declare another encoding than UTF-8; its accented text is read and written
    in that encoding (not as UTF-8 bytes, which would show as mojibake)."""
    with zipfile.ZipFile(okrs_file) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    xml = parts[OKRS_PART].decode().replace('encoding="UTF-8"', 'encoding="ISO-8859-1"', 1)
    xml = xml.replace(E2, E2 + '<c r="F2" t="inlineStr"><is><t>café</t></is></c>')
    parts[OKRS_PART] = xml.encode("latin-1")
    with zipfile.ZipFile(okrs_file, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)

    write(
        okrs_file,
        CellWrite("OKRs", 2, SCORE, "café"),  # unchanged
        CellWrite("OKRs", 2, NOTE, "naïve"),
    )

    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(2, SCORE).value == "café"
    assert okrs.cell(2, NOTE).value == "naïve"
    assert re.search(r"<c r=\"H2\"", entries(okrs_file)[OKRS_PART].decode("latin-1"))
