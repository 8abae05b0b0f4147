"""Text in cells: whatever a person or sheetsync puts in a cell reads back exactly as written.

Excel stores a character XML cannot hold (a control character) as `_xHHHH_`, and an underscore
that would start such an escape as `_x005F_`; text that merely looks like an escape must
survive the round trip, or the cell differs from what sheetsync wants and is rewritten every
night.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from sheetsync.backends.base import CellWrite, OwnedTab, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from tests.integration.conftest import NOTE, build_okrs
from tests.integration.excel.conftest import assert_well_formed, load

EXCEL_MAX_TEXT = 32767

pieces = st.one_of(
    st.sampled_from(["_", "x", "_x", "0041", "_x0041_", "_x005F_", "_x0000_", "\x00", "\x01"]),
    st.sampled_from(["\x1f", "\r", "\r\n", "\t", " ", "\ufffe", "\uffff", "€", "😀", "=1+1"]),
    st.text(max_size=6),
)
cell_texts = st.lists(pieces, max_size=12).map("".join)
"""Any text, weighted towards what looks like Excel's escapes and what XML cannot hold."""


def plan_with(text: str) -> WritePlan:
    """The text over a person's cell (B2), in a new output cell (H2) and on an owned tab."""
    return WritePlan(
        [CellWrite("OKRs", 2, 2, text), CellWrite("OKRs", 2, NOTE, text)],
        [OwnedTab("Summary", [["Managed by sheetsync"], [text]], {})],
    )


@settings(max_examples=60, deadline=None)
@given(text=cell_texts)
@example(text="_x0041_x0042_")
@example(text="_x0000_x0000_")
@example(text="_x1234\x01")
@example(text="a\x00b\x7f\x1b[31m")
def test_any_text_excel_can_hold_reads_back_as_written_and_is_written_once(tmp_path_factory, text):
    path = build_okrs(tmp_path_factory.mktemp("text") / "okrs.xlsx")
    ExcelWorkbook(path, backups=0).write(plan_with(text))

    workbook = ExcelWorkbook(path, backups=0)
    tabs = workbook.read(["OKRs", "Summary"]).tabs

    assert tabs["OKRs"][1][1] == text
    assert tabs["OKRs"][1][NOTE - 1] == text
    assert tabs["Summary"][1] == [text]
    assert workbook.write(plan_with(text)).wrote is False
    assert_well_formed(path)


def test_text_beyond_what_a_cell_holds_is_cut_to_excels_limit(okrs_file):
    long = "_x0041_" * 5000  # 35,000 characters
    ExcelWorkbook(okrs_file, backups=0).write(WritePlan([CellWrite("OKRs", 2, NOTE, long)]))

    workbook = ExcelWorkbook(okrs_file, backups=0)
    note = workbook.read(["OKRs"]).tabs["OKRs"][1][NOTE - 1]

    assert note == long[:EXCEL_MAX_TEXT]
    assert load(okrs_file)["OKRs"].cell(2, NOTE).value.startswith("_x005F_x0041_")
    assert workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, long)])).wrote is False
