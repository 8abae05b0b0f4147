"""An owner overrides a status until a date; after it, the computed status comes back."""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.workbooks import cell, okrs_workbook

OKRS = [
    ["Objective", "Key Result", "Owner", "Target", "Current", "Period", "Status override",
     "Override until"],
    ["Grow", "Leads", "Ana", 100, 10, "2026-Q4", "On track", "2026-12-15"],
    ["Grow", "Deals", "Ana", 10, 1, "2026-Q4", None, None],
]  # fmt: skip


def test_an_override_holds_until_its_date_then_the_computed_status_resumes(sheets, tmp_path):
    config = okrs_workbook(sheets, tmp_path, OKRS)

    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    okrs = sheets.values("team", "OKRs")
    assert cell(okrs, 2, "Status") == "On track"
    assert cell(okrs, 2, "Note") == "overridden by owner until 15 Dec; computed: Off track"
    assert cell(okrs, 3, "Status") == "Off track"  # not overridden
    summary = sheets.values("team", "Summary")
    counted = next(r for r in summary if r and r[0] == "Statuses overridden by owners")
    assert counted[1] == 1

    assert main(["run", "--config", str(config), "--as-of", "2026-12-16"]) == 0
    okrs = sheets.values("team", "OKRs")
    assert cell(okrs, 2, "Status") == "Off track"
    assert "overridden" not in (cell(okrs, 2, "Note") or "")
    summary = sheets.values("team", "Summary")
    assert not any(r and r[0] == "Statuses overridden by owners" for r in summary)
