"""The per-cell fast paths of reading and diffing give what the general conversions give: a cell
of the API's answer read to the same value key and value, a fill to the same colour, a value
to write compared by the same key and number format."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.backends.google.cells import (
    MAX_CELL_TEXT,
    desired_key,
    desired_value,
    hex_colour,
    python_value,
    value_key,
)
from sheetsync.backends.google.diff import FILL, NUMBER_FORMAT, VALUE, diff_cell, owned_tab_ops
from sheetsync.backends.google.tabs import (
    CellState,
    RememberedColours,
    cells_of,
    load_tabs,
    read_cell,
)
from sheetsync.core.model import Colour
from sheetsync.core.plan import CellWrite, OwnedTab

numbers = st.one_of(st.integers(-(10**6), 10**6), st.floats(allow_nan=False), st.just(-0.0))
extended_values = st.one_of(
    st.none(),
    st.just({}),
    st.builds(lambda x: {"numberValue": x}, numbers),
    st.builds(lambda t: {"stringValue": t}, st.one_of(st.just(""), st.text(max_size=6))),
    st.builds(lambda b: {"boolValue": b}, st.booleans()),
    st.builds(lambda t: {"errorValue": {"type": t}}, st.sampled_from(["DIV_ZERO", "N_A", "X"])),
)
formulas = st.one_of(st.none(), st.just({}), st.builds(lambda f: {"formulaValue": f}, st.text()))


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(formulas, extended_values)
def test_a_cell_read_fast_is_the_same_as_converted_the_general_way(entered, effective):
    key, value = read_cell(entered, effective)
    assert repr(key) == repr(value_key(entered if entered else effective))
    assert repr(value) == repr(python_value(effective))


channel = st.floats(min_value=0, max_value=1)
colours = st.one_of(
    st.none(),
    st.fixed_dictionaries({}, optional={"red": channel, "green": channel, "blue": channel}),
)


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(st.lists(colours, max_size=20))
def test_fills_worked_out_once_per_colour_are_the_same_as_each_worked_out_alone(fills):
    remembered = RememberedColours()
    assert [remembered.hex(f) for f in fills] == [hex_colour(f) for f in fills]


values_to_write = st.one_of(
    st.none(),
    st.text(max_size=6),
    st.just("x" * (MAX_CELL_TEXT + 5)),
    st.integers(),
    st.floats(),
    st.booleans(),
    st.dates(),
    st.just(datetime(2026, 11, 15, 9, 30)),
    st.just(date(2026, 11, 15)),
)


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(values_to_write)
def test_a_value_compared_by_its_key_alone_has_the_key_and_format_of_its_payload(value):
    _, fmt, key = desired_value(value)
    assert repr(desired_key(value)) == repr((key, fmt))


# --- an owned tab compared with the tab as read --------------------------------------------

fills = st.sampled_from([None, {"red": 1, "green": 0.78, "blue": 0.808}, {"red": 0.776}])
number_formats = st.sampled_from(
    [None, {"type": "DATE", "pattern": "yyyy-mm-dd"}, {"type": "NUMBER", "pattern": "0.00"}]
)
read_values = st.one_of(
    st.none(),
    st.builds(lambda x: {"numberValue": x}, st.sampled_from([0, 1, 1.0, -0.0, 2.5, 46341.0])),
    st.builds(lambda t: {"stringValue": t}, st.sampled_from(["", "a", "1", "On track"])),
    st.just({"stringValue": "x" * (MAX_CELL_TEXT + 1)}),
    st.builds(lambda b: {"boolValue": b}, st.booleans()),
    st.just({"errorValue": {"type": "DIV_ZERO"}}),
)


@st.composite
def read_cells(draw: st.DrawFn) -> dict[str, Any]:
    """One cell of a `spreadsheets.get` answer: a value, maybe a formula, maybe a format
    (most cells of a tab are plain: a value and nothing else)."""
    cell: dict[str, Any] = {}
    effective = draw(read_values)
    if effective is not None:
        cell["effectiveValue"] = effective
    if draw(st.booleans()):
        return cell
    if draw(st.integers(0, 5)) == 0:
        cell["userEnteredValue"] = {"formulaValue": "=A1"}
    fill, number_format = draw(fills), draw(number_formats)
    if fill or number_format or draw(st.integers(0, 9)) == 0:  # sometimes an empty format
        cell["userEnteredFormat"] = {
            k: v for k, v in (("backgroundColor", fill), ("numberFormat", number_format)) if v
        }
    return cell


planned_values = st.one_of(
    st.none(),
    st.sampled_from([0, 1, 1.0, -0.0, 2.5, 46341.0, float("nan"), True, False]),
    st.sampled_from(["", "a", "1", "On track", "x" * (MAX_CELL_TEXT + 1)]),
    st.just(date(2026, 11, 15)),
)
planned_colours = st.sampled_from(list(Colour))


@st.composite
def owned_and_read(draw: st.DrawFn) -> tuple[OwnedTab, dict[str, Any]]:
    """A planned owned tab and an answer for the same tab, often alike (most rows of an owned
    tab are as sheetsync last wrote them), sometimes not."""
    width = draw(st.integers(1, 5))
    read_rows = draw(st.lists(st.lists(read_cells(), max_size=width + 1), max_size=6))
    planned = []
    for i in range(draw(st.integers(0, 7))):
        source = read_rows[i] if i < len(read_rows) and draw(st.booleans()) else []
        row = [python_value(cell.get("effectiveValue")) for cell in source]
        row += draw(st.lists(planned_values, max_size=width))
        if row and draw(st.booleans()):
            row[draw(st.integers(0, len(row) - 1))] = draw(planned_values)
        planned.append(row)
    cells = st.tuples(st.integers(1, 8), st.integers(1, width + 1))
    owned = OwnedTab(
        name="Log",
        rows=planned,
        fills=draw(st.dictionaries(cells, planned_colours, max_size=4)),
        formats=draw(st.dictionaries(cells, st.sampled_from(["0.00", "yyyy-mm-dd"]), max_size=4)),
        column_formats=draw(st.dictionaries(st.integers(1, width), st.just("yyyy-mm-dd"))),
        first_row=draw(st.sampled_from([1, 1, 3])),
    )
    answer = {
        "sheets": [
            {
                "properties": {"sheetId": 7, "title": "Log"},
                "data": [{"rowData": [{"values": row} for row in read_rows]}],
            }
        ]
    }
    return owned, answer


def reference_state(cell: dict[str, Any]) -> CellState:
    """A read cell's value key, fill and number format, worked out the general way."""
    key, _ = read_cell(cell.get("userEnteredValue"), cell.get("effectiveValue"))
    fmt = cell.get("userEnteredFormat") or {}
    pattern = (fmt.get("numberFormat") or {}).get("pattern")
    return CellState(key, hex_colour(fmt.get("backgroundColor")), pattern)


def reference_ops(owned: OwnedTab, answer: dict[str, Any]) -> list[tuple[Any, ...]]:
    """Every cell of the tab compared one by one, in rows and columns up to the last cell
    planned or read: the changes a write must make."""
    read = {(r, c): reference_state(cell) for r, c, cell in cells_of(answer["sheets"][0])}
    widths: dict[int, int] = {}
    for r, c in read:
        widths[r] = max(widths.get(r, 0), c + 1)
    top = owned.first_row - 1
    height = max(len(owned.rows), max(widths, default=-1) + 1)
    found = []
    for r in range(height):
        want = owned.rows[r] if r < len(owned.rows) else []
        for c in range(max(len(want), widths.get(r, 0))):
            value = want[c] if c < len(want) else None
            key, fmt = desired_key(value)
            if key is not None:
                fmt = owned.number_format(top + r + 1, c + 1) or fmt
            colour = owned.fills.get((top + r + 1, c + 1))
            fill = colour.value if colour else None
            have = read.get((r, c), CellState(None, None, None))
            changes = (VALUE if have.value != key else 0) | (FILL if have.fill != fill else 0)
            if fmt is not None and have.number_format != fmt:
                changes |= NUMBER_FORMAT
            if changes:
                payload = desired_value(value)[0]
                found.append((top + r, c, repr(payload), fill, fmt, repr(key), changes))
    return found


@settings(deadline=None, max_examples=400)  # timings on a loaded machine say nothing here
@given(owned_and_read())
def test_an_owned_tab_compared_row_by_row_needs_the_writes_of_one_compared_cell_by_cell(case):
    owned, answer = case
    tab = load_tabs(answer)[0]["Log"]
    ops = owned_tab_ops(owned, "Log", tab)
    got = [
        (op.row, op.col, repr(op.value), op.fill, op.number_format, repr(op.key), op.changes)
        for op in ops
    ]
    assert got == reference_ops(owned, answer)


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(owned_and_read())
def test_a_cell_kept_as_its_value_alone_reads_as_the_cell_read_the_general_way(case):
    _, answer = case
    tab = load_tabs(answer)[0]["Log"]
    read = {(r, c): reference_state(cell) for r, c, cell in cells_of(answer["sheets"][0])}
    for r in range(8):
        for c in range(8):
            assert repr(tab.cell(r, c)) == repr(read.get((r, c), CellState(None, None, None)))


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(
    values_to_write,
    st.one_of(st.none(), planned_colours),
    st.sampled_from([None, "0.00", "yyyy-mm-dd"]),
    st.booleans(),
    read_cells(),
)
def test_an_output_cell_needs_the_write_the_general_comparison_says(
    value, colour, number_format, keep_format, cell
):
    answer = {
        "sheets": [{"properties": {"title": "OKRs"}, "data": [{"rowData": [{"values": [cell]}]}]}]
    }
    tabs = load_tabs(answer)[0]
    write = CellWrite("OKRs", 1, 1, value, colour, number_format, keep_format)
    op = diff_cell(write, "OKRs", tabs, "book")
    key, _ = desired_key(value)
    have = reference_state(cell)
    fill = colour.value if colour else None
    if keep_format:
        changes = VALUE if have.value != key else 0
    else:
        changes = (VALUE if have.value != key else 0) | (FILL if have.fill != fill else 0)
        if number_format is not None and have.number_format != number_format:
            changes |= NUMBER_FORMAT
    assert (op.changes if op else 0) == changes
    if op is not None:
        assert repr(op.key) == repr(key)
        assert repr(op.value) == repr(desired_value(value)[0])
