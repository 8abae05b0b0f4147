"""A status written back in a cell (History, Alerts) reads as that status, in any case."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.core.model import Status


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(st.sampled_from(Status), st.booleans(), st.sampled_from(["", " ", "\t"]))
def test_a_status_reads_back_whatever_its_case_and_surrounding_spaces(status, upper, space):
    text = status.value.upper() if upper else status.value.lower()
    assert Status.parse(f"{space}{text}{space}") is status


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(st.one_of(st.text(), st.integers(), st.none()))
def test_anything_else_is_no_status(value):
    names = {s.value.casefold() for s in Status}
    if not (isinstance(value, str) and value.strip().casefold() in names):
        assert Status.parse(value) is None
