"""Tabs sheetsync owns: created, grown, shrunk, compared by content, and only the rows that
differ rewritten."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
import xlsxwriter
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from sheetsync.backends.base import CellWrite, OwnedTab, WritePlan
from sheetsync.backends.excel import ExcelWorkbook, editor, sheet_text, worksheet
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import Colour
from tests.integration.conftest import build_okrs
from tests.integration.excel.conftest import (
    MAIN,
    assert_well_formed,
    calc_chain_edits,
    entries,
    load,
    sheet_xml,
    summary,
)


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
    monkeypatch.setattr(sheet_text.SheetText, "shown", decoded)
    again = ExcelWorkbook(okrs_file)
    again.read(["OKRs", "Log"])
    assert not again.write(WritePlan(owned_tabs=[tab])).wrote
    assert okrs_file.read_bytes() == data


def saved_by_excel(path: Path, tab: OwnedTab) -> Path:
    """A workbook holding `tab` as Excel writes it (XlsxWriter: shared strings, spans, its own
    XML declaration), not as sheetsync does."""
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("OKRs").write("A1", "Objective")
    log = book.add_worksheet(tab.name)
    green = book.add_format({"bg_color": "#" + Colour.GREEN.value, "pattern": 1})
    amber = book.add_format({"bg_color": "#" + Colour.AMBER.value, "pattern": 1})
    for r, row in enumerate(tab.rows):
        for c, value in enumerate(row):
            fill = None
            if c == 3 and r >= 2:
                fill = green if value == "On track" else amber
            log.write(r, c, value, fill)
    book.close()
    return path


def test_an_owned_tab_excel_saved_is_compared_by_content_and_its_rows_kept(tmp_path):
    path = saved_by_excel(tmp_path / "saved.xlsx", log_tab(2))
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


def test_an_owned_tab_with_rows_that_changed_keeps_every_other_byte_of_its_sheet(tmp_path):
    """Only the rows that show something else are written again: the rest of the sheet's XML
    (its declaration, columns, the rows Excel wrote its own way) keeps its bytes."""
    path = saved_by_excel(tmp_path / "saved.xlsx", log_tab(3))
    before = entries(path)["xl/worksheets/sheet2.xml"]

    result = ExcelWorkbook(path).write(WritePlan(owned_tabs=[log_tab(3, last="Off track")]))

    after = entries(path)["xl/worksheets/sheet2.xml"]
    assert result.cells_changed == 3  # the status of the last day's three rows
    last_day = re.compile(rb'<row r="(?:9|10|11)"[ >].*?</row>')
    assert len(last_day.findall(after)) == 3
    assert last_day.sub(b"", after) == last_day.sub(b"", before)
    log = ExcelWorkbook(path).read(["Log"]).tabs["Log"]
    assert log == [list(r) for r in log_tab(3, last="Off track").rows]
    assert load(path)["Log"]["D11"].fill.fgColor.rgb == "FF" + Colour.AMBER.value
    assert_well_formed(path)


def test_an_owned_tab_with_a_changed_row_is_patched_without_building_its_tree(
    okrs_file, monkeypatch
):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(WritePlan(owned_tabs=[log_tab(3, last="On track")]))

    def built(*_: object, **__: object) -> None:
        raise AssertionError("an owned tab's tree was built to write one row")

    monkeypatch.setattr(editor.PlanEditor, "_sheet", built)
    result = ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[log_tab(4)]))

    assert result.cells_changed == 3 * 4 + 3  # a day's rows added, the day before's statuses
    assert ExcelWorkbook(okrs_file).read(["Log"]).tabs["Log"] == [list(r) for r in log_tab(4).rows]
    dimension = sheet_xml(okrs_file, LOG_PART).find(f"{MAIN}dimension").get("ref")
    assert dimension == "A1:D14"
    assert_well_formed(okrs_file)


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
            **calc_chain_edits('<c r="C3" i="3"/><c r="E2" i="1"/>'),
        },
    )
    assert b"<f>1-1</f>" in entries(okrs_file)[LOG_PART]

    result = ExcelWorkbook(okrs_file).write(WritePlan(owned_tabs=[log_tab(1)]))

    assert result.cells_changed == 1
    assert b"<f>" not in entries(okrs_file)[LOG_PART]
    chain = etree.fromstring(entries(okrs_file)["xl/calcChain.xml"])
    assert [(c.get("r"), c.get("i")) for c in chain] == [("E2", "1")]


@pytest.mark.parametrize("exists", [False, True], ids=["new-tab", "rewritten-tab"])
def test_an_owned_tab_longer_than_a_worksheet_is_refused_and_nothing_written(okrs_file, exists):
    """An owned tab rewritten whole (the Alerts log; History rebuilt once its state tab was
    deleted) whose rows would pass the worksheet's last row (1,048,576): rows past it make a
    sheet Excel cannot open, so the workbook is left as it was, with a message naming the tab."""
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    if exists:
        workbook.write(WritePlan(owned_tabs=[OwnedTab("Alerts", [["Alerts"], ["Event ID"]])]))
        workbook = ExcelWorkbook(okrs_file)
        workbook.read(["OKRs", "Alerts"])
    before = okrs_file.read_bytes()
    row = ["alert-20261011-k1"]
    too_long = OwnedTab("Alerts", [["Alerts"], ["Event ID"], *[row] * 1_048_575])

    with pytest.raises(WorkbookLayoutError) as refused:
        workbook.write(WritePlan(owned_tabs=[too_long]))

    assert "'Alerts'" in str(refused.value) and "1,048,576" in str(refused.value)
    assert okrs_file.read_bytes() == before


_LOG_VALUES = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.sampled_from([0.25, 1.5, "On track", "At risk", "a & <b>", " padded "]),
)
_LOG_ROWS = st.lists(st.lists(_LOG_VALUES, min_size=0, max_size=4), max_size=8)


def _log(rows: list[list[object]], fills: dict[tuple[int, int], Colour]) -> OwnedTab:
    grid = [["Managed by sheetsync: log"], ["Day", "Item", "Score", "Status"], *rows]
    return OwnedTab("Log", grid, fills)  # type: ignore[arg-type]


@settings(max_examples=30, deadline=None)
@given(
    before=_LOG_ROWS,
    after=_LOG_ROWS,
    fills=st.dictionaries(
        st.tuples(st.integers(3, 10), st.integers(1, 5)), st.sampled_from(list(Colour)), max_size=6
    ),
)
def test_an_owned_tab_brought_to_new_rows_as_text_ends_as_on_the_tree(
    tmp_path_factory, before, after, fills
):
    """The text path (`_write_owned_as_text`) and the tree path leave the same values and
    count the same changed cells, whatever rows came, went or changed."""
    ends = []
    for path_taken in ("text", "tree"):
        path = build_okrs(tmp_path_factory.mktemp(path_taken) / "okrs.xlsx")
        workbook = ExcelWorkbook(path)
        workbook.read(["OKRs"])
        workbook.write(WritePlan(owned_tabs=[_log(before, {})]))
        with pytest.MonkeyPatch.context() as patched:
            if path_taken == "tree":
                patched.setattr(editor.PlanEditor, "_write_owned_as_text", lambda *_: False)
            result = ExcelWorkbook(path).write(WritePlan(owned_tabs=[_log(after, fills)]))
        book = load(path)["Log"]
        shown = {
            (c.row, c.column): (c.value, c.fill.fgColor.rgb if c.fill.fill_type else None)
            for row in book.iter_rows()
            for c in row
            if c.value is not None or c.fill.fill_type
        }
        ends.append((result.cells_changed, shown))
        assert_well_formed(path)
    assert ends[0] == ends[1]
