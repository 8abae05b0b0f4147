"""The styles registry: fills and number formats reused or added once, a person's formatting of
an output cell kept."""

from __future__ import annotations

import re

import xlsxwriter
from lxml import etree

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.model import Colour
from tests.integration.conftest import SCORE, STATUS
from tests.integration.excel.conftest import (
    MAIN,
    OKRS_PART,
    assert_well_formed,
    entries,
    load,
    results_plan,
)


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


def test_a_styles_part_without_fills_or_cell_formats_is_completed_not_refused(
    okrs_file, edit_package
):
    def without_fills_and_cell_formats(xml: str) -> str:  # valid: LibreOffice, calamine open it
        return re.sub(r"<fills .*?</fills>|<cellXfs .*?</cellXfs>", "", xml)

    edit_package(
        okrs_file,
        {
            "xl/styles.xml": without_fills_and_cell_formats,
            OKRS_PART: lambda xml: re.sub(r' s="\d+"', "", xml),  # no cell formats to refer to
        },
    )
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(results_plan())

    assert_well_formed(okrs_file)
    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(2, SCORE).fill.fgColor.rgb == f"FF{Colour.RED.value}"
    assert okrs.cell(4, STATUS).fill.fgColor.rgb == f"FF{Colour.GREEN.value}"
    assert okrs.cell(2, SCORE).number_format == "0.00"
    fills = etree.fromstring(entries(okrs_file)["xl/styles.xml"]).find(f"{MAIN}fills")
    patterns = [fill[0].get("patternType") for fill in fills]
    assert patterns[:2] == ["none", "gray125"]  # the two fills Excel reserves
    assert not ExcelWorkbook(okrs_file).write(results_plan()).wrote
