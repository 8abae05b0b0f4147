"""An unchanged sync finds that there is nothing to write without building what it would write:
owned tabs by the digests of what sheetsync last wrote to them (`digests.py`), output cells on
people's tabs by one search for the cells to be written (`SheetText.scan`). Whatever else a
person or a program changed is still found and put back."""

from __future__ import annotations

import re
import zipfile

import pytest

from sheetsync.backends.base import CellWrite, OutputColumn, OwnedTab, WritePlan
from sheetsync.backends.excel import ExcelWorkbook, editor
from sheetsync.backends.excel.digests import DIGEST_NAME
from sheetsync.core.model import Colour
from tests.integration.conftest import NOTE, SCORE, STATUS
from tests.integration.excel.conftest import (
    OKRS_PART,
    assert_well_formed,
    entries,
    load,
    results_plan,
    summary,
)

HISTORY_PART = "xl/worksheets/sheet3.xml"


def synced(path, plan):
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])
    assert workbook.write(plan).wrote
    return path.read_bytes()


def rows_never_built(monkeypatch):
    """Make building an owned tab's rows to compare them fail the test."""

    def built(*_: object, **__: object) -> None:
        raise AssertionError("an owned tab's rows were built to compare them")

    monkeypatch.setattr(editor, "OwnedRows", built)


def again(path, plan):
    workbook = ExcelWorkbook(path)
    workbook.read(["OKRs"])
    return workbook.write(plan)


def test_an_owned_tab_as_sheetsync_wrote_it_is_recognised_without_building_its_rows(
    okrs_file, monkeypatch
):
    data = synced(okrs_file, WritePlan(owned_tabs=[summary(3)]))
    workbook_xml = entries(okrs_file)["xl/workbook.xml"].decode()
    assert re.search(
        rf'<definedName name="{DIGEST_NAME}" localSheetId="2" hidden="1">"', workbook_xml
    )
    rows_never_built(monkeypatch)

    assert not again(okrs_file, WritePlan(owned_tabs=[summary(3)])).wrote
    assert okrs_file.read_bytes() == data
    assert "History" not in ExcelWorkbook(okrs_file).read(["OKRs"]).tabs  # names add no tab


def test_an_owned_tab_planned_otherwise_is_rewritten(okrs_file):
    synced(okrs_file, WritePlan(owned_tabs=[summary(3)]))
    other = summary(3)
    other.fills[(3, 4)] = Colour.RED  # the same values, one fill differs

    result = again(okrs_file, WritePlan(owned_tabs=[other]))

    assert result.wrote and result.cells_changed == 1
    assert load(okrs_file)["History"]["D3"].fill.fgColor.rgb == "FF" + Colour.RED.value


def test_a_value_a_person_typed_in_an_owned_tab_is_put_back(okrs_file, edit_package):
    synced(okrs_file, WritePlan(owned_tabs=[summary(3)]))
    edit_package(
        okrs_file,
        {HISTORY_PART: lambda xml: xml.replace("<t>Grow sales</t>", "<t>Shrink sales</t>", 1)},
    )
    assert "Shrink sales" in ExcelWorkbook(okrs_file).read(["History"]).tabs["History"][1]

    result = again(okrs_file, WritePlan(owned_tabs=[summary(3)]))

    assert result.wrote and result.cells_changed == 1
    assert load(okrs_file)["History"]["B2"].value == "Grow sales"


def test_cell_formats_renumbered_by_another_program_are_not_trusted(okrs_file, edit_package):
    """Same worksheet bytes, but the cell format its amber cells name now shows another fill:
    the digest of the styles part no longer holds, so the cells are compared and fixed."""
    synced(okrs_file, WritePlan(owned_tabs=[summary(2)]))
    amber = re.search(r'<c r="D2" s="(\d+)"', entries(okrs_file)[HISTORY_PART].decode())[1]

    def amber_becomes_red(xml: str) -> str:
        return xml.replace(Colour.AMBER.value, Colour.RED.value)

    edit_package(okrs_file, {"xl/styles.xml": amber_becomes_red})
    assert load(okrs_file)["History"]["D2"].fill.fgColor.rgb == "FF" + Colour.RED.value

    result = again(okrs_file, WritePlan(owned_tabs=[summary(2)]))

    assert result.wrote and result.cells_changed == 2
    history = load(okrs_file)["History"]
    assert history["D2"].fill.fgColor.rgb == "FF" + Colour.AMBER.value
    assert re.search(r'<c r="D2" s="(\d+)"', entries(okrs_file)[HISTORY_PART].decode())[1] != amber
    assert_well_formed(okrs_file)


def test_a_chart_a_program_changed_alone_is_put_back(tmp_path, edit_package):
    """The Summary's worksheet part is as written; only its chart part was edited."""
    from sheetsync.cli import main
    from tests.e2e.test_summary_charts import AS_OF, chart_parts
    from tests.e2e.test_summary_charts import synced as synced_summary

    path, config = synced_summary(tmp_path)
    chart = next(p for p in chart_parts(path) if p.startswith("xl/charts/"))
    original = entries(path)[chart]
    edit_package(path, {chart: lambda xml: xml.replace("<a:t>", "<a:t>Edited ", 1)})
    assert entries(path)[chart] != original

    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0

    assert entries(path)[chart] == original
    assert_well_formed(path)


def test_a_write_that_adds_a_cell_format_keeps_the_other_tabs_recognised(okrs_file, monkeypatch):
    log = OwnedTab("Log", [["Managed by sheetsync: log"], ["a", 1.5]])
    synced(okrs_file, WritePlan(owned_tabs=[summary(2), log]))
    purple = [CellWrite("OKRs", 2, SCORE, 0.5, Colour.GREY, "0.000")]  # a new cell format
    assert again(okrs_file, WritePlan(cells=purple, owned_tabs=[log])).wrote
    data = okrs_file.read_bytes()
    rows_never_built(monkeypatch)

    assert not again(okrs_file, WritePlan(cells=purple, owned_tabs=[summary(2), log])).wrote
    assert okrs_file.read_bytes() == data


def test_a_tab_sheetsync_appended_to_is_compared_whole_next_time(okrs_file):
    synced(okrs_file, WritePlan(owned_tabs=[summary(2)]))
    more = summary(3)
    appended = OwnedTab("History", more.rows[3:], {(4, 4): Colour.AMBER}, first_row=4)
    assert again(okrs_file, WritePlan(appends=[appended])).wrote

    result = again(okrs_file, WritePlan(owned_tabs=[summary(3)]))

    assert not result.wrote  # recognised by its rows: the appended rows are as planned
    assert load(okrs_file)["History"].max_row == 4


def with_a_new_note(plan: WritePlan) -> WritePlan:
    """`plan` with another note planned for row 5 (its last write)."""
    plan.cells[-1] = CellWrite("OKRs", 5, NOTE, "a new note")
    return plan


def output_cells(path):
    okrs = load(path)["OKRs"]
    return [[okrs.cell(row, col).value for col in (SCORE, STATUS, NOTE)] for row in range(1, 7)]


@pytest.mark.parametrize(
    "unusual",
    [
        pytest.param(lambda xml: xml.replace('<c r="A3"', '<c  r="A3"'), id="spaced"),
        pytest.param(
            lambda xml: re.sub(r'<c r="(\w+)" s="(\d+)"', r'<c s="\2" r="\1"', xml, count=1),
            id="reference-second",
        ),
    ],
)
def test_cells_the_quick_search_cannot_vouch_for_are_compared_one_by_one(
    okrs_file, edit_package, unusual
):
    synced(okrs_file, results_plan())
    edit_package(okrs_file, {OKRS_PART: unusual})
    before = output_cells(okrs_file)
    data = okrs_file.read_bytes()

    assert not again(okrs_file, results_plan()).wrote
    assert okrs_file.read_bytes() == data

    result = again(okrs_file, with_a_new_note(results_plan()))

    assert result.wrote and result.cells_changed == 1
    assert output_cells(okrs_file) == [*before[:4], [*before[4][:2], "a new note"], before[5]]


def test_output_cells_excel_saved_its_own_way_are_recognised_unchanged(okrs_file, edit_package):
    """Excel stores text as shared strings and numbers with 17 digits; the values are the
    same, so nothing is written."""
    synced(okrs_file, results_plan())
    strings = entries(okrs_file)["xl/sharedStrings.xml"].decode().count("<si>")

    def as_excel_saves(xml: str) -> str:
        xml = xml.replace("><v>0.3</v>", "><v>0.29999999999999999</v>")
        return xml.replace(' t="inlineStr"><is><t>On track</t></is>', f' t="s"><v>{strings}</v>')

    edit_package(
        okrs_file,
        {
            OKRS_PART: as_excel_saves,
            "xl/sharedStrings.xml": lambda xml: xml.replace(
                "</sst>", "<si><t>On track</t></si></sst>"
            ),
        },
    )
    saved = entries(okrs_file)[OKRS_PART].decode()
    assert f't="s"><v>{strings}</v>' in saved and "0.29999999999999999" in saved
    data = okrs_file.read_bytes()

    assert not again(okrs_file, results_plan()).wrote
    assert okrs_file.read_bytes() == data


def test_new_output_columns_on_a_row_the_text_path_refuses_go_to_the_tree_whole(
    okrs_file, edit_package
):
    """A row to change is checked only when a cell of it changes; when the text path refuses
    it then, the tab is done on the tree from the start: the header marks and widths too."""

    def swap_row_three(xml: str) -> str:
        first, second = (
            re.search(r'<c r="A3".*?</c>', xml)[0],
            re.search(r'<c r="B3".*?</c>', xml)[0],
        )
        return xml.replace(first + second, second + first)

    edit_package(okrs_file, {OKRS_PART: swap_row_three})
    plan = results_plan()
    plan.columns = [
        OutputColumn("OKRs", "Score", SCORE, 1, style_from=1, width=9),
        OutputColumn("OKRs", "Note", NOTE, 1, style_from=1, width=44),
    ]
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    result = workbook.write(plan)

    assert result.wrote and result.cells_changed == 12
    okrs = load(okrs_file)["OKRs"]
    assert okrs.column_dimensions[okrs.cell(1, NOTE).column_letter].width == 44
    assert okrs.cell(1, SCORE).font.b == okrs.cell(1, 1).font.b
    assert okrs.cell(3, NOTE).value == "checked row 3" and okrs["A3"].value == "Grow sales"
    markers = ExcelWorkbook(okrs_file).read(["OKRs"]).output_columns["OKRs"]
    assert markers == {"Score": SCORE, "Note": NOTE}
    with zipfile.ZipFile(okrs_file) as archive:
        assert archive.testzip() is None


def test_a_person_s_text_saved_as_a_shared_string_in_an_owned_tab_is_put_back(
    okrs_file, edit_package
):
    """Excel saves typed text in the workbook's shared strings, the sheet keeping only an
    index: an edit there leaves the sheet's bytes as they were, so the digests must cover the
    shared strings too or the person's text would stay in a tab sheetsync owns."""
    synced(okrs_file, WritePlan(owned_tabs=[summary(3)]))
    strings = entries(okrs_file)["xl/sharedStrings.xml"].decode()
    index = len(re.findall(r"<si>", strings))

    def one_more_string(text: str):
        return lambda xml: re.sub(
            r'count="\d+" uniqueCount="\d+">(.*)</sst>',
            lambda m: (
                f'count="{index + 1}" uniqueCount="{index + 1}">{m[1]}<si><t>{text}</t></si></sst>'
            ),
            xml,
            flags=re.S,
        )

    # as Excel saves the tab: B2's text moved to the shared strings (the same text)
    edit_package(
        okrs_file,
        {
            HISTORY_PART: lambda xml: re.sub(
                r'<c r="B2" t="inlineStr"><is><t>Grow sales</t></is></c>',
                f'<c r="B2" t="s"><v>{index}</v></c>',
                xml,
            ),
            "xl/sharedStrings.xml": one_more_string("Grow sales"),
        },
    )
    # a night that writes something else: the tab is compared, found the same, and recorded
    scores = results_plan(4)
    again(okrs_file, WritePlan(cells=scores.cells, owned_tabs=[summary(3)]))
    assert f'<c r="B2" t="s"><v>{index}</v></c>' in entries(okrs_file)[HISTORY_PART].decode()

    # the person types over B2: only the shared string changes, the sheet's bytes do not
    edit_package(
        okrs_file,
        {"xl/sharedStrings.xml": lambda xml: xml.replace(
            "<si><t>Grow sales</t></si></sst>", "<si><t>Shrink sales</t></si></sst>")},
    )  # fmt: skip
    assert load(okrs_file)["History"]["B2"].value == "Shrink sales"

    result = again(okrs_file, WritePlan(cells=scores.cells, owned_tabs=[summary(3)]))

    assert result.wrote
    assert load(okrs_file)["History"]["B2"].value == "Grow sales"
    assert_well_formed(okrs_file)


def results_and_summary() -> WritePlan:
    """Output cells on the OKRs tab and an owned tab, as a sync plans them."""
    plan = results_plan()
    plan.owned_tabs = [summary(2)]
    return plan


def test_a_person_s_tab_as_sheetsync_left_it_is_recognised_without_reading_its_cells(
    okrs_file, monkeypatch
):
    data = synced(okrs_file, results_and_summary())

    def read(*_: object, **__: object) -> None:
        raise AssertionError("the output cells of a person's tab were read to compare them")

    with monkeypatch.context() as patched:
        patched.setattr(editor, "SheetText", read)
        patched.setattr(editor.PlanEditor, "_sheet", read)
        assert not again(okrs_file, results_and_summary()).wrote
    assert okrs_file.read_bytes() == data

    result = again(okrs_file, with_a_new_note(results_and_summary()))

    assert result.wrote and result.cells_changed == 1
    assert load(okrs_file)["OKRs"].cell(5, NOTE).value == "a new note"


def test_an_output_cell_a_person_typed_over_is_put_back_after_a_recognised_night(
    okrs_file, edit_package
):
    synced(okrs_file, results_and_summary())
    assert not again(okrs_file, results_and_summary()).wrote
    edit_package(okrs_file, {OKRS_PART: lambda xml: xml.replace("checked row 3", "my own note")})

    result = again(okrs_file, results_and_summary())

    assert result.wrote and result.cells_changed == 1
    assert load(okrs_file)["OKRs"].cell(3, NOTE).value == "checked row 3"


def test_output_cells_alone_leave_the_workbook_part_as_it_was_then_are_recognised(okrs_file):
    """A write of output cells only records no digest (it would change the workbook part);
    the next write that changes the workbook part anyway records it."""
    before = entries(okrs_file)["xl/workbook.xml"]
    synced(okrs_file, results_plan())
    assert entries(okrs_file)["xl/workbook.xml"] == before

    okrs_digest = f'<definedName name="{DIGEST_NAME}" localSheetId="0"'  # the OKRs tab's own
    assert okrs_digest not in entries(okrs_file)["xl/workbook.xml"].decode()

    synced(okrs_file, results_and_summary())
    data = okrs_file.read_bytes()
    assert okrs_digest in entries(okrs_file)["xl/workbook.xml"].decode()

    def read(*_: object, **__: object) -> None:
        raise AssertionError("the output cells of a person's tab were read to compare them")

    with pytest.MonkeyPatch.context() as patched:
        patched.setattr(editor, "SheetText", read)
        patched.setattr(editor.PlanEditor, "_sheet", read)
        assert not again(okrs_file, results_and_summary()).wrote
    assert okrs_file.read_bytes() == data


def test_an_owned_tab_rewritten_and_appended_to_in_one_write_is_refused(okrs_file):
    """Rows appended below a tab the same write rewrites would land below rows that moved:
    a plan that does both is a programming error, whichever way the tab is rewritten."""
    log = OwnedTab("Log", [["Managed by sheetsync: log"], ["day 1"], ["day 2"]])
    synced(okrs_file, WritePlan(owned_tabs=[log]))
    changed = OwnedTab("Log", [["Managed by sheetsync: log"], ["day 1"], ["day 2, fixed"]])
    extra = OwnedTab("Log", [["day 3"]], first_row=4)
    data = okrs_file.read_bytes()

    with pytest.raises(ValueError, match="both rewritten and appended"):
        again(okrs_file, WritePlan(owned_tabs=[changed], appends=[extra]))
    assert okrs_file.read_bytes() == data


def test_a_person_s_tab_whose_cell_formats_another_program_changed_is_compared_again(
    okrs_file, edit_package
):
    """The OKRs tab's bytes are as sheetsync left them, but the fill its green Score cells
    name is now red in the styles part: its digest no longer holds and the cells are fixed."""
    synced(okrs_file, results_and_summary())
    assert not again(okrs_file, results_and_summary()).wrote

    def green_becomes_red(xml: str) -> str:
        return xml.replace(Colour.GREEN.value, Colour.RED.value)

    edit_package(okrs_file, {"xl/styles.xml": green_becomes_red})
    assert load(okrs_file)["OKRs"].cell(3, SCORE).fill.fgColor.rgb == "FF" + Colour.RED.value

    assert again(okrs_file, results_and_summary()).wrote

    okrs = load(okrs_file)["OKRs"]
    assert okrs.cell(3, SCORE).fill.fgColor.rgb == "FF" + Colour.GREEN.value
    assert okrs.cell(3, STATUS).fill.fgColor.rgb == "FF" + Colour.GREEN.value
    assert okrs.cell(2, SCORE).fill.fgColor.rgb == "FF" + Colour.RED.value
    assert_well_formed(okrs_file)
