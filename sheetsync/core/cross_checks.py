"""Checks that look across the rows of a tab rather than at one cell: the template's example
rows still in place, two key results with the same identity, a direction that contradicts the
numbers. Pure."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import replace

from sheetsync.core.layout import TabLayout, cell_at
from sheetsync.core.model import (
    Direction,
    InvalidRow,
    KeyResult,
    Kpi,
    Problem,
)
from sheetsync.core.parse import (
    a1,
    is_blank,
)
from sheetsync.core.plan import Grid
from sheetsync.core.rows import RowReader

EXAMPLE_OWNER = re.compile(r"@(?:[\w-]+\.)*example(?:\.(?:com|net|org))?\s*$", re.IGNORECASE)
"""Owners on the domains reserved for examples (RFC 2606): the template's example rows."""


EXAMPLE_ROWS_EXPECTED = "your own rows in their place"
"""What the warning about rows still owned on an example domain expects (it marks that warning)."""


def owners_by_row(
    valid: Sequence[KeyResult | Kpi], invalid: Sequence[InvalidRow]
) -> dict[int, str | None]:
    owners = {item.row: item.owner for item in valid} | {bad.row: bad.owner for bad in invalid}
    return dict(sorted(owners.items()))


def warn_examples_left(layout: TabLayout, owners: Mapping[int, str | None]) -> None:
    """Warn while rows owned on an example domain (the template's examples) are still there."""
    rows = [row for row, owner in owners.items() if owner and EXAMPLE_OWNER.search(owner)]
    if not rows or "owner" not in layout.columns:
        return
    col = layout.columns["owner"]
    where = a1(rows[0], col) + (f":{a1(rows[-1], col)}" if len(rows) > 1 else "")
    layout.warnings.append(
        Problem(
            layout.tab,
            where,
            None,
            EXAMPLE_ROWS_EXPECTED,
            f"{len(rows)} row{'s are' if len(rows) > 1 else ' is'} still the template's "
            "examples (owners @example.com, a domain reserved for examples: their alerts are "
            "sent or written to the outbox like any other, and reach no one)",
            row=rows[0],
            is_error=False,
        )
    )


def flag_same_identity(
    grid: Grid, layout: TabLayout, key_results: list[KeyResult], invalid: list[InvalidRow]
) -> tuple[list[KeyResult], list[InvalidRow]]:
    """Rows without an ID that share their Objective and Key Result text are one identity to
    History and alerts (and a sort can swap them unnoticed): each becomes invalid, naming the
    others, instead of sheetsync guessing which is which."""
    rows: dict[str, list[int]] = {}
    for kr in key_results:
        if kr.id is None:
            rows.setdefault(kr.key, []).append(kr.row)
    id_col = layout.columns.get("id")
    for bad in invalid:
        if bad.key and (id_col is None or is_blank(cell_at(grid, bad.row, id_col))):
            rows.setdefault(bad.key, []).append(bad.row)
    shared = {row: others for others in rows.values() if len(others) > 1 for row in others}
    if not shared:
        return key_results, invalid
    col = layout.columns["key_result"]

    def problem(row: int) -> Problem:
        others = ", ".join(a1(r, col) for r in sorted(shared[row]) if r != row)
        return Problem(
            layout.tab,
            a1(row, col),
            None,
            "an ID on each of them (such as O1.KR2), or different text",
            f"same Objective and Key Result as {others} and no ID: sheetsync cannot tell them "
            "apart (History and alerts would mix them up)",
            row=row,
        )

    flagged = [
        InvalidRow(
            layout.tab,
            kr.row,
            (problem(kr.row),),
            objective=kr.objective,
            key=kr.key,
            owner=kr.owner,
        )
        for kr in key_results
        if kr.row in shared
    ]
    updated = [
        replace(bad, problems=(*bad.problems, problem(bad.row))) if bad.row in shared else bad
        for bad in invalid
    ]
    kept = [kr for kr in key_results if kr.row not in shared]
    return kept, sorted([*updated, *flagged], key=lambda bad: bad.row)


def check_direction(
    r: RowReader, start: float, target: float, direction: Direction | None
) -> Direction | None:
    if target == start:
        r.problem(
            "target",
            f"Target equals Start ({r.shown('target', target)}): there is no distance to make "
            "progress over",
            "a target different from the start",
            r.found("target"),
        )
        return direction
    inferred = Direction.INCREASE if target > start else Direction.DECREASE
    if direction is not None and direction is not inferred:
        r.problem(
            "direction",
            f"Direction says '{direction.value}' but Target {r.shown('target', target)} is "
            f"{'above' if target > start else 'below'} Start {r.shown('start', start)}",
            f"'{inferred.value}' or blank",
            r.raw("direction"),
        )
    return inferred
