"""A manager reads the Summary per team and per objective owner: counts and what needs attention."""

from __future__ import annotations

import re

from sheetsync.cli import main
from tests.e2e.workbooks import okrs_workbook

OKRS = [
    ["Objective", "Key Result", "Owner", "Team", "Objective owner", "Target", "Current", "Period"],
    ["Grow", "Leads", "Ana", "Sales", "Maria", 100, 10, "2026-Q4"],
    [None, "Deals", "Ben", None, None, 10, 9, "2026-Q4"],
    ["Ship", "Releases", "Cleo", "Product", None, 4, 4, "2026-Q4"],
    [None, "Bugs fixed", "Dan", "Sales", None, 50, "lots", "2026-Q4"],
]  # fmt: skip


def section(summary, title):
    """The rows of a Summary section, header included, up to the blank row that ends it."""
    start = next(i for i, r in enumerate(summary) if r and r[0] == title)
    rows = []
    for row in summary[start + 1 :]:
        if not row or all(v in (None, "") for v in row):
            break
        rows.append(row)
    header, *body = rows
    return [dict(zip(header, row, strict=False)) for row in body]


def test_the_summary_counts_each_team_and_objective_owner_and_names_what_needs_attention(
    sheets, tmp_path
):
    config = okrs_workbook(sheets, tmp_path, OKRS)

    # the invalid row (Current 'lots') makes the run exit 1, and it still writes the Summary
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 1

    summary = sheets.values("team", "Summary")
    teams = {row["Team"]: row for row in section(summary, "By team")}
    assert list(teams) == ["Product", "Sales"]
    # Deals has no Team cell: it is on the Sales objective's team; Bugs fixed is its own row's
    sales = teams["Sales"]
    assert (sales["Key results"], sales["On track"], sales["Off track"]) == (3, 1, 1)
    assert sales["Invalid"] == 1
    # Bugs fixed cannot be scored ('lots'): it needs someone as much as an Off track one
    assert sales["Needs attention"] == (
        "Grow / Leads (Off track, Ana); Ship / Bugs fixed (Invalid, Dan)"
    )
    assert teams["Product"]["Done"] == 1
    assert teams["Product"]["Needs attention"] in (None, "")
    assert sheets.fill("team", "Summary", _cell(summary, "By team", "Sales", "Needs attention"))

    owners = {row["Owner"]: row for row in section(summary, "By owner")}
    # Grow's owner is its Objective owner; Ship has none, so the owner of its first row
    assert list(owners) == ["Cleo", "Maria"]
    assert owners["Maria"]["Key results"] == 2
    assert owners["Maria"]["Needs attention"] == "Grow / Leads (Off track, Ana)"
    assert owners["Cleo"]["Key results"] == 2


def _cell(summary, title, name, header):
    """A1 reference of one cell of a section row."""
    start = next(i for i, r in enumerate(summary) if r and r[0] == title)
    header_row = summary[start + 1]
    row = next(i for i in range(start + 2, len(summary)) if summary[i] and summary[i][0] == name)
    return f"{chr(65 + header_row.index(header))}{row + 1}"


def test_a_workbook_without_teams_or_owners_has_no_such_sections(sheets, tmp_path):
    plain = [["Objective", "Key Result", "Target", "Current"], ["Grow", "Leads", 100, 10]]
    config = okrs_workbook(sheets, tmp_path, plain)

    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0

    firsts = [r[0] for r in sheets.values("team", "Summary") if r]
    assert "By team" not in firsts
    assert "By owner" not in firsts


ONLY_INVALID = [
    ["Objective", "Key Result", "Owner", "Team", "Target", "Current", "Period"],
    ["Grow", "Leads", "Ana", "Sales", 100, 90, "2026-Q4"],
    ["Run", "Uptime", "Ola", "Ops", 99, "high", "2026-Q4"],
]  # fmt: skip


def test_a_team_whose_only_key_result_is_invalid_is_told_it_needs_attention(sheets, tmp_path):
    """An invalid key result cannot be scored: a manager must see it named, not read
    'Nothing needs attention' for a team none of whose key results could be scored."""
    config = okrs_workbook(sheets, tmp_path, ONLY_INVALID)

    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    assert main(["report", "--config", str(config), "--as-of", "2026-11-15",
                 "--out", str(tmp_path / "pages")]) == 0  # fmt: skip

    teams = {row["Team"]: row for row in section(sheets.values("team", "Summary"), "By team")}
    assert "Run / Uptime" in teams["Ops"]["Needs attention"]
    assert "Invalid" in teams["Ops"]["Needs attention"]
    assert teams["Sales"]["Needs attention"] in (None, "")
    page = " ".join(re.sub(r"<[^>]+>", " ", (tmp_path / "pages" / "team.html").read_text()).split())
    ops = page[page.index("Ops") :]
    assert ops.index("Needs attention") < ops.index("Run / Uptime")
    assert "Nothing needs attention" not in ops.split("Sales")[0]
