"""History's two ends as text (`sheet_tail`) on sheets other programs wrote: rows under a
namespace prefix, attributes in another order or in single quotes, rows without a number,
and a part with bytes that are not UTF-8."""

from __future__ import annotations

import zipfile

import pytest

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.backends.excel.sheet_tail import last_row
from sheetsync.core.errors import BackendError
from tests.integration.excel.conftest import OKRS_PART

NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
TEXT_ROWS = (
    '<row r="1"><c r="A1" t="inlineStr"><is><t>arrow row</t></is></c></row>'
    '<row r="7"><c r="A7" t="inlineStr"><is><t>a &lt;row r="9"&gt; in text</t></is></c></row>'
)


def sheet(rows: str, prefix: str = "") -> bytes:
    xmlns = f'xmlns:{prefix[:-1]}="{NS}"' if prefix else f'xmlns="{NS}"'
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><{prefix}worksheet {xmlns}>'
        f"<{prefix}sheetData>{rows}</{prefix}sheetData></{prefix}worksheet>"
    ).encode()


@pytest.mark.parametrize(
    "data",
    [
        sheet('<row r="1"/><row r="2"><c r="A2"><v>1</v></c></row><row r="7"/>'),
        sheet('<x:row r="1"/><x:row r="7"><x:c r="A7"><x:v>1</x:v></x:c></x:row>', "x:"),
        sheet('<row r="1"/><row spans="1:2" r="7" ht="15"/>'),
        sheet("<row r='1'/><row r='7'><c r='A7'><v>1</v></c></row>"),
        sheet('<row\n  r="1"/><row\tr = "7"><c r="A7"><v>1</v></c></row>'),
        sheet(TEXT_ROWS),
    ],
    ids=["plain", "x-prefix", "attribute-order", "single-quotes", "whitespace", "text"],
)
def test_the_last_row_is_found_however_the_row_tags_are_written(data):
    assert last_row(data) == 7


def test_rows_without_numbers_count_from_the_row_before():
    """`r` is optional: a row without it comes right after the row before."""
    assert last_row(sheet('<row r="3"/><row/><row><c><v>1</v></c></row>')) == 5
    assert last_row(sheet("<row/><row/>")) == 2


def test_a_sheet_without_rows_has_none():
    assert last_row(sheet("")) == 0
    assert last_row(sheet("").replace(b"<sheetData></sheetData>", b"<sheetData/>")) == 0


def test_bytes_that_are_not_utf8_in_a_cell_being_written_say_the_workbook_is_damaged(okrs_file):
    """A part that declares UTF-8 but holds other bytes in a cell sheetsync writes: reported
    as a damaged workbook, as the tree path reports it, not an uncaught decoding error."""
    with zipfile.ZipFile(okrs_file) as package:
        parts = {info.filename: package.read(info) for info in package.infolist()}
    xml = parts[OKRS_PART]
    at = xml.index(b"</row>", xml.index(b'<row r="2"'))  # F2 (Score), after E2
    parts[OKRS_PART] = xml[:at] + b'<c r="F2" t="inlineStr"><is><t>caf\xe9</t></is></c>' + xml[at:]
    with zipfile.ZipFile(okrs_file, "w", zipfile.ZIP_DEFLATED) as package:
        for name, data in parts.items():
            package.writestr(name, data)
    before = okrs_file.read_bytes()

    with pytest.raises(BackendError, match="damaged"):
        ExcelWorkbook(okrs_file).write(WritePlan([CellWrite("OKRs", 2, 6, 0.5)]))
    assert okrs_file.read_bytes() == before
