"""Day one of a quarter does not flood everyone: pace is judged after `grace_days`."""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.workbooks import write_config

HEAD = ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period"]
OKRS = [
    HEAD,
    ["L1", "Grow", "Leads a month", "ana@example.com", 40, 100, 40, "2027-Q1"],
    ["L2", "Grow", "Deal size", "ana@example.com", 100, 120, 101, "2027-Q1"],
    ["L3", "Grow", "Churned customers", "ana@example.com", 50, 20, 55, "2027-Q1"],
]


def statuses(sheets):
    values = sheets.values("team", "OKRs")
    status, note = values[0].index("Status"), values[0].index("Note")
    return [(row[status], row[note]) for row in values[1:]]


def test_day_one_of_a_quarter_alerts_only_what_moves_the_wrong_way(excel_sheets, tmp_path):
    entry = excel_sheets.create("team", {"OKRs": OKRS})
    extra = '[tabs]\nkpis = ""\n[email]\noutbox = "out"\n'
    config = write_config(tmp_path, [entry], extra)

    main(["run", "--config", str(config), "--as-of", "2027-01-01"])

    early = "early in 2027-Q1: judged from 15 Jan"
    assert statuses(excel_sheets) == [
        ("On track", early),
        ("On track", None),  # ahead of day one's expected progress already
        ("Off track", "moving the wrong way: 55 is worse than the start (50)"),
    ]
    alerts = excel_sheets.values("team", "Alerts")[2:]
    assert [row[2] for row in alerts] == ["L3"], "only the one moving the wrong way"

    main(["run", "--config", str(config), "--as-of", "2027-01-15"])
    assert [s for s, _ in statuses(excel_sheets)] == ["Off track", "Off track", "Off track"]


def test_grace_days_is_configurable(excel_sheets, tmp_path):
    entry = excel_sheets.create("team", {"OKRs": OKRS})
    config = write_config(tmp_path, [entry], '[tabs]\nkpis = ""\n[scoring]\ngrace_days = 0\n')
    main(["run", "--config", str(config), "--as-of", "2027-01-01"])
    assert [s for s, _ in statuses(excel_sheets)][:2] == ["Off track", "On track"]
