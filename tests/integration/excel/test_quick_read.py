"""A worksheet whose rows are written the way producers write them is read with one regular
expression over its text; the values, dates and number formats are exactly those the lxml
reader gives, and a sheet holding anything else is left to that reader."""

from __future__ import annotations

from datetime import datetime

import pytest

from sheetsync.backends.excel import ExcelWorkbook, read
from sheetsync.core.errors import BackendError

NOTES_PART = "xl/worksheets/sheet2.xml"
PERCENT = 3
"""The cell format added to the fixture's styles: 0.00% (a number format that is not a date)."""

ROWS = (
    '<row r="1" spans="1:9" ht="15" x14ac:dyDescent="0.25">'
    '<c r="A1" t="s"><v>13</v></c><c r="B1" s="2"><v>45352</v></c>'
    '<c r="C1"><v>5</v></c><c r="D1"><v>5.0</v></c><c r="E1"><v>1E-3</v></c>'
    f'<c r="F1" s="{PERCENT}"><v>0.125</v></c><c r="G1" t="b"><v>1</v></c>'
    '<c r="H1" t="e"><v>#N/A</v></c><c r="I1" s="2"/></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>a &amp; b &lt;c&gt; &#10;&#x41;</t></is></c>'
    '<c r="B2" t="inlineStr"><is><t xml:space="preserve">  padded  </t></is></c>'
    '<c r="C2" t="inlineStr"><is><t/></is></c><c r="D2" t="inlineStr"/>'
    '<c r="E2" t="inlineStr"><is><t>_x0041__x005F_x0042_</t></is></c>'
    '<c r="F2" t="str"><f>"x"&amp;"y"</f><v>xy</v></c>'
    '<c r="G2"><f t="shared" ref="G2:G3" si="0">1+1</f><v>2</v></c>'
    '<c r="H2" t="d"><v>2024-03-01T00:00:00</v></c><c r="I2"><v></v></c></row>'
    '<row r="3" spans=\'1:9\'><c r="G3"><f t="shared" si="0"/><v>2</v></c>'
    '<c r="H3"><v/></c></row>'
    '<row r="6"/>'
    '<row r="5"><c r="A5"><v>55</v></c></row>'
    '<row r="8">\n  <c r="B8" s="2"><v>45000.5</v></c>\n</row>'
    '<row><c r="AA9" t="s"><v>13</v></c></row>'
)
"""Numbers, dates, a percentage, booleans, errors, shared and inline text with entities and
Excel's escapes, formulas (shared ones too) with their cached results, empty values, a row out
of order, rows with and without numbers, whitespace between cells."""


@pytest.fixture
def notes(okrs_file, edit_package):
    """The fixture with its Notes tab's rows replaced by `rows` (a function of them)."""

    def make(rows: str = ROWS):
        edit_package(
            okrs_file,
            {
                NOTES_PART: lambda xml: xml.replace(
                    xml[xml.index("<sheetData>") : xml.index("</sheetData>") + 12],
                    f"<sheetData>{rows}</sheetData>",
                ).replace(
                    "<worksheet ",
                    '<worksheet xmlns:x14ac="http://schemas.microsoft.com/office/'
                    'spreadsheetml/2009/9/ac" ',
                ),
                "xl/styles.xml": lambda xml: xml.replace(
                    '<cellXfs count="3">', '<cellXfs count="4">'
                ).replace(
                    "</cellXfs>",
                    '<xf numFmtId="10" fontId="0" fillId="0" borderId="0" xfId="0"'
                    ' applyNumberFormat="1"/></cellXfs>',
                ),
            },
        )
        return okrs_file

    return make


def read_quickly(path, monkeypatch):
    """The Notes tab read as it is, which must take the quick path."""
    with monkeypatch.context() as patch:

        def no_lxml(*_: object, **__: object) -> None:
            raise AssertionError("the sheet was read with lxml")

        patch.setattr(read._Cells, "stream", no_lxml)
        quick = ExcelWorkbook(path).read(["Notes"])
    return quick


def test_the_quick_reader_gives_what_the_lxml_reader_gives(notes, edit_package, monkeypatch):
    path = notes()
    quick = read_quickly(path, monkeypatch)
    edit_package(
        path, {NOTES_PART: lambda xml: xml.replace("<sheetData>", "<sheetData><!-- lxml -->")}
    )
    streamed = ExcelWorkbook(path).read(["Notes"])

    assert quick.tabs == streamed.tabs
    assert quick.number_formats == streamed.number_formats
    grid = quick.tabs["Notes"]
    assert grid[0][2:8] == [5, 5.0, 0.001, 0.125, True, "#N/A"]
    assert isinstance(grid[0][2], int) and isinstance(grid[0][3], float)
    assert grid[1][:5] == ["a & b <c> \nA", "  padded  ", "", None, "A_x0042_"]
    assert grid[1][5:7] == ["xy", 2] and grid[2][6] == 2
    assert grid[3:7] == [[], [], [], []] and len(grid) == 9  # row 5 after row 6: skipped
    assert grid[7][1] == datetime(2023, 3, 15, 12, 0)
    assert grid[8][26] == grid[0][0]  # a row without its number follows the one before
    assert quick.number_formats["Notes"] == {(1, 6): "0.00%"}


@pytest.mark.parametrize(
    ("unusual", "expected"),
    [
        pytest.param('<row r="1"><c r="A1" s="0" cm="1"><v>1</v></c></row>', [[1]], id="attribute"),
        pytest.param('<row r="1"><c s="0" r="A1"><v>1</v></c></row>', [[1]], id="attribute-order"),
        pytest.param(
            '<row r="1"><c r="A1" t="inlineStr"><is><r><t>rich</t></r></is></c></row>',
            [["rich"]],
            id="rich-text",
        ),
        pytest.param(
            '<row r="1"><c r="A1"><v>1</v></c><!-- a comment --></row>', [[1]], id="comment"
        ),
        pytest.param('<row r="1"><c r="A1"><v>1</v><extLst/></c></row>', [[1]], id="extension"),
        pytest.param('<c r="A1"><v>1</v></c>', [], id="cell-outside-a-row"),
        pytest.param('<row r="1"><c r="A1"><v>1</v></c>', BackendError, id="row-not-closed"),
        pytest.param(
            '<row r="1"><c r="A1"><v>1</v></c></row></row>', BackendError, id="row-closed-twice"
        ),
        pytest.param(
            '<row r="1"><c r="A1" t="str"><v>&#1;</v></c></row>', BackendError, id="bad-character"
        ),
        pytest.param(
            '<row r="1"><c r="A1" t="str"><v>&nbsp;</v></c></row>', BackendError, id="entity"
        ),
    ],
)
def test_rows_in_another_form_are_left_to_lxml(notes, monkeypatch, unusual, expected):
    path = notes(unusual)
    streamed = []
    stream = read._Cells.stream

    def spy(self, *args, **kwargs):
        streamed.append(args)
        return stream(self, *args, **kwargs)

    monkeypatch.setattr(read._Cells, "stream", spy)

    if expected is BackendError:
        with pytest.raises(BackendError):
            ExcelWorkbook(path).read(["Notes"])
    else:
        assert ExcelWorkbook(path).read(["Notes"]).tabs["Notes"] == expected
    assert streamed
