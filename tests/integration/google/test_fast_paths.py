"""The per-cell fast paths of reading and diffing give what the general conversions give: a cell
of the API's answer read to the same value key and value, a fill to the same colour, a value
to write compared by the same key and number format."""

from __future__ import annotations

from datetime import date, datetime

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
from sheetsync.backends.google.tabs import RememberedColours, read_cell

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
