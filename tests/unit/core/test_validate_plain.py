"""The OKRs tab read with its plain rows taken whole from their columns gives exactly what
reading every row cell by cell gives: the same key results, the same invalid rows with the
same problems, the same grouping rows, objectives and warnings."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.core.model import KeyResult, Period, with_fields
from sheetsync.core.rows import NumberReading
from sheetsync.core.validate import read_okrs

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
HEADER = [
    "ID", "Objective", "Key Result", "Owner", "Type", "Start", "Target", "Current", "Direction",
    "Warning", "Weight", "Period", "KPI", "Objective ID", "Status override", "Override until",
    "Team", "Objective owner", "Confidence", "Updated", "Change", "Cadence", "Comments",
]  # fmt: skip
KPI_NAMES = {"nps": "NPS", "churn": "Churn"}
INVALID_KPIS = {"broken": "KPIs!A4"}


def mostly(usual: st.SearchStrategy, odd: st.SearchStrategy) -> st.SearchStrategy:
    """Usually a value a plain row has, now and then one that needs care (or a problem)."""
    return st.integers(0, 15).flatmap(lambda k: odd if k == 0 else usual)


# Mostly valid values, so that many rows take the plain path and many do not.
numbers = mostly(
    st.integers(min_value=-20, max_value=300),
    st.sampled_from(
        [0.0, -0.0, 1.5, 100.0, float("inf"), float("nan"), True, "15%", "$1,200", "12k",
         "abc", "4,5", "(5)", " 7 ", "", None, date(2026, 11, 1)]
    ),
)  # fmt: skip
COLUMNS = {
    "ID": mostly(st.none(), st.sampled_from(["K1", "k1", "K2", "K3", " ", "K4"])),
    "Objective": mostly(st.sampled_from([None, None, "Grow", "Keep"]), st.just("  ")),
    "Key Result": mostly(st.sampled_from(["Leads", "Churn", "Signups"]), st.none()),
    "Owner": mostly(st.sampled_from([None, "ana@example.com", "Bo"]), st.just(3.0)),
    "Type": mostly(
        st.sampled_from([None, "metric", "Milestone", "stay above", "stay below"]),
        st.sampled_from(["kind of", "", 3]),
    ),
    "Start": numbers,
    "Target": numbers,
    "Current": st.one_of(numbers, st.sampled_from(["done", "no", "yes", "maybe"])),
    "Direction": mostly(st.none(), st.sampled_from(["increase", "down", "sideways"])),
    "Warning": numbers,
    "Weight": mostly(st.sampled_from([None, 1, 2.5, 0]), st.sampled_from([-1, "x"])),
    "Period": mostly(
        st.sampled_from([None, "2026-Q4", "Q1 2027"]),
        st.sampled_from(["2026-12-15", "2026-02-30", "soon", 2026, date(2026, 12, 1)]),
    ),
    "KPI": mostly(st.none(), st.sampled_from(["NPS", "churn", "broken", "gone"])),
    "Objective ID": mostly(st.none(), st.sampled_from(["O1", "O2"])),
    "Status override": mostly(st.none(), st.sampled_from(["On track", "Missed"])),
    "Override until": mostly(st.none(), st.sampled_from(["2026-12-01", "x"])),
    "Team": mostly(st.sampled_from([None, "Sales"]), st.just(" ")),
    "Objective owner": mostly(st.none(), st.just("Cy")),
    "Confidence": mostly(st.sampled_from([None, "high", 7]), st.sampled_from([11, "meh"])),
    "Updated": mostly(
        st.sampled_from([None, "2026-11-01"]),
        st.sampled_from(["yesterday", 46300, datetime(2026, 11, 2, 9)]),
    ),
    "Change": mostly(st.none(), st.sampled_from(["+30%", "-2 h", "x"])),
    "Cadence": mostly(st.sampled_from([None, "weekly"]), st.just("hourly")),
    "Comments": st.one_of(st.none(), st.just("note")),
}


@st.composite
def okr_tabs(draw):
    """An OKRs tab with some of the optional columns, in any order, and random rows."""
    optional = [h for h in HEADER if h not in ("Objective", "Key Result", "Target", "Current")]
    kept = draw(st.lists(st.sampled_from(optional), unique=True))
    header = draw(st.permutations(["Objective", "Key Result", "Target", "Current", *kept]))
    rows = draw(
        st.lists(
            st.one_of(
                st.fixed_dictionaries({h: COLUMNS[h] for h in header}),
                st.just({}),  # a blank row
            ),
            max_size=25,
        )
    )
    grid = [list(header), *[[row.get(h) for h in header] for row in rows]]
    formats = {
        (r, c): draw(st.sampled_from(["0%", '"$"#,##0', "0.00", '#,##0 "h"']))
        for r, line in enumerate(grid, start=1)
        for c, value in enumerate(line, start=1)
        if r > 1 and isinstance(value, int | float) and draw(st.booleans())
    }
    return grid, NumberReading(draw(st.sampled_from([None, ".", ","])), formats)


@settings(max_examples=400, deadline=None)
@given(okr_tabs())
def test_plain_rows_taken_from_their_columns_read_as_each_row_read_cell_by_cell(tab):
    grid, reading = tab

    def read(plain_rows: bool) -> str:
        found = read_okrs(
            grid,
            "OKRs",
            default_period=Q4,
            kpi_names=KPI_NAMES,
            invalid_kpis=INVALID_KPIS,
            reading=reading,
            plain_rows=plain_rows,
        )
        # repr, not ==: -0.0 == 0.0 and 1 == 1.0, but a cell and a message tell them apart
        return repr(found)

    assert read(plain_rows=True) == read(plain_rows=False)


def test_a_key_result_made_from_its_fields_is_the_one_its_constructor_makes():
    made = KeyResult(row=3, objective="Grow", text="Leads", id="K1", target=10.0, weight=2.0)
    values = dict(made.__dict__)
    assert with_fields(KeyResult, values) == made
    assert repr(with_fields(KeyResult, values)) == repr(made)
    assert hash(with_fields(KeyResult, values)) == hash(made)


def test_a_record_made_from_some_fields_takes_the_others_defaults():
    from sheetsync.core.alignment import TreeNode
    from sheetsync.core.model import ItemState, Status

    node = with_fields(TreeNode, {"name": "Grow", "depth": 1, "score": 0.5, "status": Status.DONE})
    assert node == TreeNode("Grow", 1, 0.5, Status.DONE)
    assert repr(node) == repr(TreeNode("Grow", 1, 0.5, Status.DONE))
    item = {"kind": "kr", "key": "K1", "name": "Leads", "status": Status.AT_RISK, "note": "x"}
    assert with_fields(ItemState, item) == ItemState(**item)


def test_a_record_made_from_its_fields_keeps_the_compact_dict_its_constructor_makes():
    import sys

    made = KeyResult(row=3, objective="Grow", text="Leads", id="K1", target=10.0, weight=2.0)
    values = {name: getattr(made, name) for name in made.__dataclass_fields__}
    assert sys.getsizeof(with_fields(KeyResult, values).__dict__) == sys.getsizeof(
        KeyResult(**values).__dict__
    )


def test_a_misspelt_or_missing_field_is_refused_at_a_class_s_first_record():
    """A record built without its `__init__` would otherwise hold a misspelt field and lack
    the real one, failing only when someone reads it."""
    from dataclasses import dataclass, field

    @dataclass(frozen=True)
    class Score:
        name: str
        counts: dict[str, int] = field(default_factory=dict)
        note: str = ""

    with pytest.raises(
        TypeError, match=r"Score: unknown fields \['cunts'\], missing fields \['counts'\]"
    ):
        with_fields(Score, {"name": "a", "cunts": {}})
    with pytest.raises(TypeError, match=r"missing fields \['counts'\]"):
        with_fields(Score, {"name": "a"})
    assert with_fields(Score, {"name": "a", "counts": {}}) == Score("a")
