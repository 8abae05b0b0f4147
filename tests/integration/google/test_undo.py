"""Where read cells went when rows or columns moved under a write: what the undo relies on to
put back exactly what each written cell replaced."""

from __future__ import annotations

from typing import Any

from sheetsync.backends.google.guards import Values
from sheetsync.backends.google.undo import column_map, row_map


def cells(grid: list[list[Any]]) -> Values:
    return {(r, c): v for r, line in enumerate(grid) for c, v in enumerate(line) if v is not None}


READ = [
    ["Objective", "Key Result", "Current", "Score", "My notes"],
    ["Grow", "Leads", 60, 0.6, "from the CRM"],
    ["Grow", "Deals", 40, 0.4, None],
    ["Grow", "Deals", 40, 0.4, None],
]


def test_a_column_inserted_left_of_the_written_one_shifts_the_rest():
    after = [
        ["Objective", "Key Result", None, "Current", "Score", "My notes"],
        ["Grow", "Leads", None, 0.9, 0.6, "from the CRM"],  # D2 written over Current
        ["Grow", "Deals", None, 0.9, 0.4, None],
        ["Grow", "Deals", None, 0.9, 0.4, None],
    ]
    written = {(1, 3), (2, 3), (3, 3)}

    columns = column_map(cells(READ), cells(after), written)

    assert columns == {0: 0, 1: 1, 3: 2, 4: 3, 5: 4}, "the new column C came from nowhere"


def test_a_deleted_column_and_a_dragged_one_are_found_by_their_content():
    deleted = [[row[0], row[1], row[3], row[4]] for row in READ]
    dragged = [[row[4], row[0], row[1], row[2], row[3]] for row in READ]

    assert column_map(cells(READ), cells(deleted), set()) == {0: 0, 1: 1, 2: 3, 3: 4}
    assert column_map(cells(READ), cells(dragged), set()) == {0: 4, 1: 0, 2: 1, 3: 2, 4: 3}


def test_rows_are_found_by_their_unwritten_cells_and_twins_in_order():
    after = [READ[0], READ[2], ["Grow", "New", 5, None, None], READ[3], READ[1]]
    columns = {c: c for c in range(5)}

    rows = row_map(cells(READ), cells(after), len(after), columns, skip={3})

    assert rows == {0: 0, 1: 2, 3: 3, 4: 1}, "the inserted row 2 held nothing read"
