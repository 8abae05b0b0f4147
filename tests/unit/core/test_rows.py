"""A tab's cells read column by column give exactly what reading each cell on its own gives:
the same meaning, the same number and style, the same problem naming the same cell."""

from __future__ import annotations

import math
from datetime import date, datetime
from functools import partial

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.core.checkin import parse_checkin, parse_confidence
from sheetsync.core.layout import OKR_FIELDS, OKR_REQUIRED, find_layout
from sheetsync.core.override import parse_override
from sheetsync.core.parse import (
    ParseError,
    is_blank,
    parse_cadence,
    parse_direction,
    parse_done,
    parse_kpi_direction,
    parse_kr_type,
    parse_period,
    text_or_none,
)
from sheetsync.core.relative import parse_change
from sheetsync.core.rows import NumberReading, TabCells, Unreadable, parse_cells
from sheetsync.core.scorecard import parse_row_kind

TYPED = [
    "", "  ", "metric", "Milestone", "stay above", "done", "no", "increase", "lower", "2026-Q4",
    "Q1 2027", "2026-12-15", "2026-02-30", "high", "7", "11", "weekly", "On track", "Done",
    "+30%", "-2 h", "0", "12k", "$1,200", "4,5", "80.000", "(5)", "15%", "abc", " 3.50 ",
    "Target", "Actual",
]  # fmt: skip
cell_values = st.one_of(
    st.none(),
    st.sampled_from(TYPED),
    st.text(max_size=8),
    st.integers(min_value=-5, max_value=50_000),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0, 1.0, 1, True, False, 2026, 46349.0]),
    st.dates(min_value=date(1980, 1, 1), max_value=date(2300, 1, 1)),
    st.just(datetime(2026, 11, 15, 9, 30)),
)
PARSERS = [
    parse_kr_type, parse_period, parse_override, parse_cadence, parse_confidence,
    parse_checkin, parse_done, parse_direction, parse_kpi_direction, parse_row_kind,
    partial(parse_change, decimal=None), partial(parse_change, decimal=","), text_or_none,
]  # fmt: skip


def one_by_one(parser, cells):
    found = []
    for value in cells:
        try:
            found.append(parser(value))
        except ParseError as exc:
            found.append(Unreadable(exc.expected, str(exc)))
    return found


@settings(max_examples=300, deadline=None)
@given(st.lists(cell_values, max_size=30), st.sampled_from(PARSERS))
def test_a_column_parsed_at_once_means_what_each_cell_means_alone(cells, parser):
    # repr, not ==: 1, 1.0 and True are equal, -0.0 == 0.0, and a parser tells them apart
    assert repr(parse_cells(parser, cells)) == repr(one_by_one(parser, cells))


HEADER = ["Objective", "Key Result", "Start", "Target", "Current", "Warning", "Period"]
NUMBER_FIELDS = ("start", "target", "current", "warning")
FORMATS = ["0%", '"$"#,##0', "0.00", "General", "yyyy-mm-dd", '#,##0 "h"']


@st.composite
def tabs(draw):
    """A grid under the OKRs header with random cells, read column by column."""
    width = len(HEADER)
    rows = draw(
        st.lists(st.lists(cell_values, min_size=0, max_size=width + 1), min_size=1, max_size=12)
    )
    grid = [list(HEADER), *rows]
    formats = {
        (r, c): draw(st.sampled_from(FORMATS))
        for r, line in enumerate(grid, start=1)
        for c, value in enumerate(line, start=1)
        if r > 1 and isinstance(value, int | float) and draw(st.booleans())
    }
    decimal = draw(st.sampled_from([None, ".", ","]))
    layout = find_layout(grid, "OKRs", OKR_FIELDS, OKR_REQUIRED)
    return TabCells(grid, layout, NumberReading(decimal, formats))


@settings(max_examples=200, deadline=None)
@given(tabs())
def test_numbers_read_per_column_match_each_cell_read_alone(cells):
    layout = cells.layout
    for row in cells.rows():
        for name in NUMBER_FIELDS:
            for required in (False, True):
                by_column, alone = cells.row(row), cells.row(row)
                number = by_column.number(name, required=required)
                value = alone.raw(name)
                expected = None
                if required or not is_blank(value):
                    col = layout.columns[name]
                    found = alone.number_at(col, alone.header(name), value)
                    expected = found[0] if found else None
                    if found:
                        assert by_column.styles[name] == found[1]
                same = number == expected or (
                    number is not None and expected is not None and math.isnan(number)
                )
                assert same or (number is None and expected is None)
                assert by_column.problems == alone.problems


@settings(max_examples=200, deadline=None)
@given(tabs())
def test_empty_rows_per_column_are_the_rows_with_no_field_filled(cells):
    grid, layout = cells.grid, cells.layout
    for ignore in ((), ("objective",)):
        for row in cells.rows():
            line = grid[row - 1]
            expected = all(
                is_blank(line[col - 1] if col <= len(line) else None)
                for name, col in layout.columns.items()
                if name not in ignore
            )
            assert cells.row(row).is_empty(ignore) == expected
