"""Less noise, more signal: what an owner hears over weeks of nightly runs, through the CLI."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from tests.e2e.test_alerts_story import CLEAN_OKRS
from tests.e2e.test_alerts_trust import ALERTS_TOML, Server, email_toml, run
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config


@pytest.fixture
def server():
    s = Server().start()
    yield s
    s.stop()


def test_a_broken_cell_reaches_its_owner_the_same_night_and_steady_items_stay_quiet(
    sheets, tmp_path, server
):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    start = date(2026, 11, 9)
    for n in range(0, 21):  # three weeks in which nobody touches a steady sheet
        run(config, (start + timedelta(days=n)).isoformat())
    told_dee = " ".join(
        m.get_body(("plain",)).get_content() for m in server.inbox.to("dee@example.com")
    )
    assert "Retention" in told_dee
    # a KPI that meets its target and a milestone that is done are never "not updated"
    assert "First response" not in told_dee and "help centre" not in told_dee
    before = len(server.inbox.to("ana@example.com"))

    sheets.edit("team", "OKRs", "G2", "ten")  # S1's Target, typed as a word
    run(config, "2026-11-30")
    [broken] = server.inbox.to("ana@example.com")[before:]
    assert broken["Subject"] == "sheetsync: S1 cannot be scored"
    text = broken.get_body(("plain",)).get_content()
    assert "G2: Target: not a number (found 'ten')" in text
    run(config, "2026-12-01")
    assert len(server.inbox.to("ana@example.com")) == before + 1, "once, not every night"


def test_improving_and_wins_are_told_when_the_team_asks_for_them(sheets, tmp_path, server):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    alerts = ALERTS_TOML.replace(
        "[alerts]\n", "[alerts]\nnotify_improving = true\nnotify_wins = true\n"
    )
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + alerts
    )
    run(config, "2026-11-15")
    sheets.edit("team", "KPIs", "G3", 0.82)  # Retention: Off track -> At risk
    sheets.edit("team", "OKRs", "H2", 100)  # S1 reaches its target
    run(config, "2026-11-16")
    last = server.inbox.to("lead@example.com")[-1]
    # S1 reached its target, and C3 is fed by the Retention KPI, now above 80%
    assert last["Subject"] == "sheetsync: 1 improving, 2 wins"
    text = last.get_body(("plain",)).get_content()
    assert "Improving: At risk (was Off track)" in text
    assert "New leads a month: Done (was On track). 100 vs target 100; +40 since" in text
    assert "Retention 75% -> 80%: Done (was On track)" in text
    assert "999999" not in text, "no float noise in the changes"


def test_when_only_time_passed_the_alert_says_what_was_expected_by_today(sheets, tmp_path, server):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    # S1 stays at 60 of 100 while 2026-Q4 runs out: At risk on 12 Dec, Off track on 13 Dec
    run(config, "2026-12-12")
    before = len(server.inbox.to("ana@example.com"))
    run(config, "2026-12-13")
    [told] = server.inbox.to("ana@example.com")[before:]
    text = told.get_body(("plain",)).get_content()
    assert (
        "New leads a month: Off track: 60 of 100, expected 80 by today; was At risk on 12 Dec."
        in text
    )


def test_after_a_correction_the_alert_says_what_was_wrong(sheets, tmp_path, server):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    run(config, "2026-11-15")  # Retention 78% against 85%: Off track, Dee is told
    sheets.edit("team", "KPIs", "E3", "ten")
    run(config, "2026-11-16")  # Invalid: Dee is told which cell
    sheets.edit("team", "KPIs", "E3", "85%")
    sheets.edit("team", "KPIs", "G3", "90%")
    before = len(server.inbox.to("dee@example.com"))
    run(config, "2026-11-17")
    [fixed] = server.inbox.to("dee@example.com")[before:]
    text = fixed.get_body(("plain",)).get_content()
    assert (
        "Back to On track (was Off track). 90% vs target 85%; "
        "was invalid (E3: Target: not a number (found 'ten')) on 16 Nov." in text
    )
    history = sheets.values("team", "History")
    header = history[1]
    assert header[-1] == "Note"
    [invalid] = [row for row in history if row[3] == "Retention" and row[10] == "Invalid"]
    assert invalid[header.index("Note")] == "E3: Target: not a number (found 'ten')"


CARD = [
    ["KPI", "Kind", "Owner", "Direction", "Target", "Sep", "Oct", "Nov", "Dec"],
    ["Signups", None, "ana@example.com", "higher", None, 101, 112, None, None],
    [None, "Target", None, None, None, 100, 120, 130, 140],
]  # fmt: skip


def told_not_updated(server, address: str, since: int) -> list[str]:
    return [
        m.get_body(("plain",)).get_content()
        for m in server.inbox.to(address)[since:]
        if "not updated" in m["Subject"] or "Not updated" in m.get_body(("plain",)).get_content()
    ]


def test_a_monthly_kpi_is_not_stale_between_its_monthly_updates(sheets, tmp_path, server):
    entry = sheets.create("card", {"OKRs": [CLEAN_OKRS[0]], "KPIs": CARD})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    # October's 112 is At risk against 120; November's value is due once November has ended
    for day in ("2026-11-01", "2026-11-15", "2026-11-29"):
        run(config, day)
    assert told_not_updated(server, "ana@example.com", 0) == [], "not flagged between updates"
    run(config, "2026-12-02")
    [stale] = told_not_updated(server, "ana@example.com", 0)
    assert "Value 112 unchanged since 1 Nov: nobody updated this KPI for 31 days." in stale


def test_cadence_and_updated_columns_say_when_a_value_is_due(sheets, tmp_path, server):
    kpis = [
        [*KPIS[0], "Cadence", "Updated"],
        [*KPIS[1][:1], "ana@example.com", *KPIS[1][2:], "weekly", "2026-11-01"],
        [*KPIS[2], "quarterly", None],
    ]
    entry = sheets.create("team", {"OKRs": [CLEAN_OKRS[0]], "KPIs": kpis})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    run(config, "2026-11-05")  # Revenue 47,000 is At risk; updated 4 days ago, weekly
    assert told_not_updated(server, "ana@example.com", 0) == []
    run(config, "2026-11-08")
    [stale] = told_not_updated(server, "ana@example.com", 0)
    assert "Last check-in 1 Nov: nobody checked in on this KPI for 7 days." in stale
    # Retention is Off track, quarterly: its owner hears of it, but it is not stale after 14 days
    for day in ("2026-11-15", "2026-11-22", "2026-11-29"):
        run(config, day)
    assert told_not_updated(server, "dee@example.com", 0) == []
