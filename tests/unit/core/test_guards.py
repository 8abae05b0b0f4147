"""The guards of a person's tab, kept as the grid read, are every cell the outputs were
computed from: the header row up to the last output column (not the header of a column
sheetsync adds) and every other column of every row below, with the value read there."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.core.plan import GuardedRows, RowGuard, WritePlan


def guard_per_cell(tab, grid, header, outputs, new):
    """Each guard made one by one, as the plan did before it kept the grid."""

    def value(row, col):
        if row > len(grid) or col > len(grid[row - 1]):
            return None
        return grid[row - 1][col - 1]

    guards = [
        RowGuard(tab, header, col, value(header, col))
        for col in range(1, max(outputs) + 1)
        if col not in new
    ]
    for row in range(header + 1, len(grid) + 1):
        line = grid[row - 1]
        guards += [
            RowGuard(tab, row, col, line[col - 1])
            for col in range(1, len(line) + 1)
            if col not in outputs
        ]
    return guards


cells = st.one_of(st.none(), st.integers(), st.text(max_size=3), st.floats(allow_nan=False))


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(
    st.lists(st.lists(cells, max_size=8), max_size=8),
    st.integers(min_value=1, max_value=4),
    st.sets(st.integers(min_value=1, max_value=10), min_size=1, max_size=4),
    st.data(),
)
def test_guards_made_from_the_grid_are_the_guards_made_one_by_one(grid, header, outputs, data):
    new = data.draw(st.sets(st.sampled_from(sorted(outputs))))
    kept = GuardedRows("OKRs", grid, header, frozenset(outputs), frozenset(new))
    assert list(kept) == guard_per_cell("OKRs", grid, header, outputs, new)


def test_a_plan_checks_its_own_guards_then_its_guarded_tabs():
    explicit = RowGuard("KPIs", 2, 1, "Revenue")
    plan = WritePlan(guards=[explicit])
    plan.guarded.append(
        GuardedRows("OKRs", [["ID", "Score"], ["K1", 0.5]], 1, frozenset({2}), frozenset())
    )
    assert list(plan.all_guards()) == [
        explicit,
        RowGuard("OKRs", 1, 1, "ID"),
        RowGuard("OKRs", 1, 2, "Score"),
        RowGuard("OKRs", 2, 1, "K1"),
    ]
