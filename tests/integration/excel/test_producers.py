"""Workbooks other programs wrote: ClosedXML, the Open XML SDK and Tencent Docs put every
SpreadsheetML element under a prefix (`<x:worksheet>`, `<x:c>`); what sheetsync writes into
their sheets must be in the same namespace, so that every program sees it and it is written
once."""

from __future__ import annotations

from lxml import etree

from sheetsync.backends.base import CellWrite, OwnedTab, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.model import Colour
from tests.e2e.workbooks import write_like_excel
from tests.integration.excel.conftest import MAIN, assert_well_formed, entries, load
from tests.integration.excel.producers import real_file, with_prefixed_spreadsheetml

CONTACTS_PART = "xl/worksheets/sheet1.xml"


def results_for_contacts() -> WritePlan:
    """A score in a new column H on every contact row, and a status over one of their cells."""
    cells = [CellWrite("Contacts", 2, 8, "Score")]
    for row in range(3, 7):
        cells.append(CellWrite("Contacts", row, 8, row / 10, Colour.GREEN, "0.00"))
    cells.append(CellWrite("Contacts", 3, 2, "On track", Colour.AMBER))  # over FName
    return WritePlan(cells=cells)


def cells_outside_the_namespace(path, part: str) -> list[str]:
    """Rows, cells and their values that other programs do not see as SpreadsheetML."""
    root = etree.fromstring(entries(path)[part])
    return [
        etree.tostring(e, encoding=str)[:80]
        for e in root.iter()
        if isinstance(e.tag, str)
        and not e.tag.startswith(MAIN)
        and etree.QName(e).localname in ("row", "c", "v", "is", "t")
    ]


def test_output_cells_in_a_closedxml_workbook_are_seen_by_every_reader_and_written_once(
    tmp_path,
):
    path = real_file("closedxml-basic-table.xlsx", tmp_path)
    workbook = ExcelWorkbook(path, backups=0)
    workbook.read(["Contacts"])

    first = workbook.write(results_for_contacts())

    assert cells_outside_the_namespace(path, CONTACTS_PART) == []
    assert_well_formed(path)
    sheet = load(path)["Contacts"]
    assert [sheet.cell(row, 8).value for row in range(2, 7)] == ["Score", 0.3, 0.4, 0.5, 0.6]
    assert sheet["B3"].value == "On track"
    again = ExcelWorkbook(path, backups=0)
    grid = again.read(["Contacts"]).tabs["Contacts"]
    assert [grid[row - 1][7] for row in range(2, 7)] == ["Score", 0.3, 0.4, 0.5, 0.6]
    assert first.cells_changed == 6
    assert again.write(results_for_contacts()).wrote is False  # nothing appended again


def test_an_owned_tab_in_a_workbook_with_prefixed_sheets_is_rewritten_in_their_namespace(
    tmp_path,
):
    path = write_like_excel(
        tmp_path / "tencent.xlsx",
        {"Goals": [["Objective"], ["Grow"]], "Summary": [["Managed by sheetsync"], ["old"]]},
    )
    with_prefixed_spreadsheetml(path)
    rows = [["Managed by sheetsync"], ["Objective", "Score"], ["Grow", 0.5], ["Keep", 0.25]]
    summary = OwnedTab("Summary", rows, {(3, 2): Colour.GREEN}, widths={})  # type: ignore[arg-type]
    plan = WritePlan(cells=[CellWrite("Goals", 2, 2, 0.5)], owned_tabs=[summary])
    workbook = ExcelWorkbook(path, backups=0)
    workbook.read(["Goals", "Summary"])

    workbook.write(plan)

    for part in ("xl/worksheets/sheet1.xml", "xl/worksheets/sheet2.xml"):
        assert cells_outside_the_namespace(path, part) == []
    assert_well_formed(path)
    book = load(path)
    assert [book["Summary"].cell(4, c).value for c in (1, 2)] == ["Keep", 0.25]
    assert book["Goals"]["B2"].value == 0.5
    again = ExcelWorkbook(path, backups=0)
    assert again.read(["Goals", "Summary"]).tabs["Summary"] == rows
    assert again.write(plan).wrote is False


def test_a_formula_closedxml_wrote_is_overwritten_and_leaves_its_calculation_chain(tmp_path):
    path = real_file("closedxml-data-types.xlsx", tmp_path)  # C22 holds =1/0, in calcChain.xml
    plan = WritePlan([CellWrite("Data Types", 22, 3, "Off track", Colour.RED)])
    workbook = ExcelWorkbook(path, backups=0)
    workbook.read(["Data Types"])

    workbook.write(plan)

    assert cells_outside_the_namespace(path, CONTACTS_PART) == []
    assert_well_formed(path)
    assert b'r="C22"' not in entries(path).get("xl/calcChain.xml", b"")  # emptied: dropped
    again = ExcelWorkbook(path, backups=0)
    grid = again.read(["Data Types"]).tabs["Data Types"]
    assert grid[21][2] == "Off track"
    assert grid[2][2] == load(path, data_only=True)["Data Types"]["C3"].value  # a date, kept
    assert again.write(plan).wrote is False
