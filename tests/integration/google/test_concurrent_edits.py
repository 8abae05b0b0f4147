"""A person edits the spreadsheet while a sync runs: nothing of theirs is lost, no score lands
beside the wrong row.

Every scenario (rows inserted, deleted or sorted; a column inserted left or right of the
output columns; two key results with the same text swapped) is played at both moments a
person can hit: just after sheetsync read the sheet, and just before its write is applied
(after every check it made before writing). The edit is applied inside the local Sheets API
stand-in, over real HTTP, by its request hooks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from sheetsync.config import Config, parse_config
from sheetsync.runner import open_backend
from sheetsync.sync import SyncOutcome, sync_workbook
from tests.sheets_standin import SheetsStandIn

AS_OF = date(2026, 11, 15)
OURS = {"Score", "Status", "Note", "Trend"}
HEADER = ["Objective", "Key Result", "Owner", "Start", "Target", "Current", "My notes"]
N = 20
REVENUE_ROWS = (3, 17)
"""Two key results called "Revenue", under different objectives (sheet rows)."""
LATER_NOTES = 12
"""Column L: a person's column right of sheetsync's Score, Status, Note and Trend (H to K)."""


def team_okrs() -> list[list[Any]]:
    rows: list[list[Any]] = [HEADER]
    for i in range(N):
        row = i + 2
        text = "Revenue" if row in REVENUE_ROWS else f"KR {i}"
        current = 5 * i + 3
        rows.append(
            [f"Objective {i // 5}", text, "ana@example.com", 0, 100, current, f"my note {i}"]
        )
    return rows


def synced_team(api: SheetsStandIn, credentials: Path) -> tuple[str, Config]:
    """A team sheet synced once; then the team updated every Current and wrote notes in a
    column right of sheetsync's, so the next sync has every score to rewrite."""
    sid = api.create_spreadsheet("Team OKRs", {"OKRs": team_okrs()})
    config = config_for(api, credentials, sid)
    assert sync(config).report.wrote
    assert api.values(sid, "OKRs")[0][7:11] == ["Score", "Status", "Note", "Trend"]
    api.set_values(sid, "OKRs", "F2", [[5 * i + 4] for i in range(N)])
    api.set_values(sid, "OKRs", "L1", [["Later notes"]] + [[f"later {i}"] for i in range(N)])
    return sid, config


def config_for(api: SheetsStandIn, credentials: Path, sid: str) -> Config:
    return parse_config(
        {
            "workbooks": [{"name": "team", "spreadsheet": sid}],
            "google": {"api_url": api.url, "credentials": str(credentials)},
            "tabs": {"kpis": "", "summary": "", "history": "", "alerts": ""},
        }
    )


def sync(config: Config) -> SyncOutcome:
    wb = config.workbooks[0]
    backend = open_backend(wb, config)
    try:
        return sync_workbook(backend, wb, config, AS_OF, datetime(2026, 11, 15, 6))
    finally:
        backend.close()


def person_cells(grid: list[list[Any]]) -> dict[tuple[int, int], Any]:
    """Every non-empty cell outside sheetsync's Score/Status/Note columns, by position."""
    header = grid[0] if grid else []
    ours = {c for c, name in enumerate(header) if name in OURS}
    return {
        (r, c): value
        for r, line in enumerate(grid)
        for c, value in enumerate(line)
        if c not in ours and value is not None
    }


def misplaced_scores(grid: list[list[Any]]) -> list[str]:
    """Rows whose Score is not the one their own Current and Target give (Start is 0)."""
    header = grid[0]
    at = {name: header.index(name) for name in ("Key Result", "Target", "Current", "Score")}
    wrong = []
    for r, line in enumerate(grid[1:], start=2):
        line = line + [None] * (len(header) - len(line))
        if line[at["Key Result"]] is None:
            continue
        want = round(min(max(line[at["Current"]] / line[at["Target"]], 0.0), 1.0), 3)
        if line[at["Score"]] != pytest.approx(want):
            wrong.append(
                f"row {r}: {line[at['Key Result']]} scored {line[at['Score']]}, not {want}"
            )
    return wrong


@dataclass(frozen=True)
class Edit:
    name: str
    apply: Callable[[SheetsStandIn, str], None]


def insert_row_at_top(api: SheetsStandIn, sid: str) -> None:
    api.insert_rows(sid, "OKRs", 2, [["Objective 9", "New KR", "ben@example.com", 0, 100, 42]])


def delete_a_row(api: SheetsStandIn, sid: str) -> None:
    api.delete_rows(sid, "OKRs", 5)


def sort_by_current_descending(api: SheetsStandIn, sid: str) -> None:
    api.sort_rows(sid, "OKRs", 2, N + 1, column=6, descending=True)


def insert_column_right_of_key_result(api: SheetsStandIn, sid: str) -> None:
    api.insert_columns(sid, "OKRs", 3)


def insert_column_right_of_the_outputs(api: SheetsStandIn, sid: str) -> None:
    api.insert_columns(sid, "OKRs", LATER_NOTES)


def swap_the_two_revenue_rows(api: SheetsStandIn, sid: str) -> None:
    order = list(range(2, N + 2))
    a, b = (r - 2 for r in REVENUE_ROWS)
    order[a], order[b] = order[b], order[a]
    api.reorder_rows(sid, "OKRs", 2, order)


EDITS = [
    Edit("row inserted at the top", insert_row_at_top),
    Edit("row deleted", delete_a_row),
    Edit("rows sorted", sort_by_current_descending),
    Edit("column inserted right of Key Result", insert_column_right_of_key_result),
    Edit("column inserted right of the outputs", insert_column_right_of_the_outputs),
    Edit("same-text key results swapped", swap_the_two_revenue_rows),
]
MOMENTS = {
    "after the read": lambda api, fn: api.after_next("get", fn),
    "just before the write": lambda api, fn: api.before_next("batchUpdate", fn),
}


@pytest.mark.parametrize("moment", list(MOMENTS))
@pytest.mark.parametrize("edit", EDITS, ids=[e.name for e in EDITS])
def test_a_person_editing_during_a_sync_loses_nothing_and_gets_no_misplaced_score(
    sheets_api: SheetsStandIn, service_account_file: Path, edit: Edit, moment: str
) -> None:
    sid, config = synced_team(sheets_api, service_account_file)
    after_edit: dict[tuple[int, int], Any] = {}

    def person_edits(_: object) -> None:
        edit.apply(sheets_api, sid)
        after_edit.update(person_cells(sheets_api.values(sid, "OKRs")))

    MOMENTS[moment](sheets_api, person_edits)

    outcome = sync(config)

    assert after_edit, "the person's edit happened during the sync"
    assert outcome.report.error is None and outcome.report.wrote
    now = sheets_api.values(sid, "OKRs")
    lost = {at: v for at, v in after_edit.items() if person_cells(now).get(at) != v}
    assert lost == {}, f"{len(lost)} of the person's cells lost"
    assert misplaced_scores(now) == []
    again = sync(config)
    assert not again.report.wrote, "a second sync finds every output already right"


@pytest.mark.parametrize("moment", list(MOMENTS))
def test_a_column_inserted_during_the_sync_that_adds_the_outputs_is_not_taken_for_them(
    sheets_api: SheetsStandIn, service_account_file: Path, moment: str
) -> None:
    sid = sheets_api.create_spreadsheet("Team OKRs", {"OKRs": team_okrs()})
    config = config_for(sheets_api, service_account_file, sid)
    after_edit: dict[tuple[int, int], Any] = {}

    def person_edits(_: object) -> None:
        insert_column_right_of_key_result(sheets_api, sid)
        after_edit.update(person_cells(sheets_api.values(sid, "OKRs")))

    MOMENTS[moment](sheets_api, person_edits)

    outcome = sync(config)

    assert outcome.report.error is None and outcome.report.wrote
    now = sheets_api.values(sid, "OKRs")
    assert now[0] == [*HEADER[:2], None, *HEADER[2:], "Score", "Status", "Note", "Trend"]
    lost = {at: v for at, v in after_edit.items() if person_cells(now).get(at) != v}
    assert lost == {}, f"{len(lost)} of the person's cells lost"
    assert misplaced_scores(now) == []
    marked = sheets_api.developer_metadata(sid, "OKRs")
    assert sorted(i for kind, i in marked if kind == "COLUMNS") == [8, 9, 10, 11]
    assert not sync(config).report.wrote
