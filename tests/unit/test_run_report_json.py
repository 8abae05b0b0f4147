"""`sheetsync run --json` prints what `json.dumps(indent=2, ensure_ascii=False)` would, byte for
byte: the report's text is written without Python's slow indenting encoder, and whoever parses
or diffs it sees no change."""

from __future__ import annotations

import json
import math
from collections import Counter
from datetime import date
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.core.model import Status
from sheetsync.runner import RunReport, indented_json
from sheetsync.sync import WorkbookReport

leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
)
keys = st.text() | st.integers() | st.floats() | st.booleans() | st.none()
values = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.lists(inner, max_size=3).map(tuple)
        | st.dictionaries(keys, inner, max_size=4)
    ),
    max_leaves=30,
)


def the_json_module(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


@settings(max_examples=300, deadline=None)
@given(values)
def test_any_json_value_is_written_as_the_json_module_writes_it(value):
    assert indented_json(value) == the_json_module(value)


def test_what_json_refuses_is_refused_the_same_way():
    for value in ({"when": date(2026, 11, 30)}, {(1, 2): "a tuple as a key"}):
        with pytest.raises(TypeError) as ours:
            indented_json(value)
        with pytest.raises(TypeError) as theirs:
            the_json_module(value)
        assert str(ours.value) == str(theirs.value)


def test_a_run_report_prints_as_before():
    sales = WorkbookReport(
        "Sales «EMEA»", location="books/sales.xlsx", problems=["B7: 'abc' is not a number"]
    )
    sales.key_results = Counter({Status.ON_TRACK: 3, Status.OFF_TRACK: 1})
    sales.duration = 0.1234567
    broken = WorkbookReport("Ops", error="cannot open books/ops.xlsx: it is not a workbook")
    report = RunReport(date(2026, 11, 30), [sales, broken], duration=math.pi)
    report.alert_errors.append('an "owner" with no address')

    assert report.dumps() == the_json_module(report.to_json())
    assert json.loads(report.dumps())["workbooks"][0]["name"] == "Sales «EMEA»"
