"""The right people: each manager hears about their own team, through the real CLI.

`[alerts.teams.NAME]` routes a team's objectives and KPIs to its own `summary_to`; a workbook's
own `summary_to` replaces the global one for that workbook; the global one is the default.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_alerts_story import CLEAN_OKRS
from tests.e2e.test_alerts_trust import Server, email_toml, run
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config

ROUTES = """
[alerts]
summary_to = ["ceo@example.com"]
[alerts.owners]
"Ana" = "ana@example.com"
"Dee" = "dee@example.com"
[alerts.teams.sales]
objectives = ["Grow revenue"]
kpis = ["Revenue"]
summary_to = ["head-of-sales@example.com"]
[alerts.teams.support]
objectives = ["Delight customers"]
kpis = ["Retention", "First response (h)"]
summary_to = ["head-of-support@example.com"]
"""

OPS_KPIS = [["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual"],
            ["Uptime", "ops-lead@example.com", "%", "higher", 0.999, 0.995, 0.98]]  # fmt: skip


@pytest.fixture
def server():
    s = Server().start()
    yield s
    s.stop()


def subjects(server: Server, address: str) -> list[str]:
    return [m["Subject"] for m in server.inbox.to(address)]


def test_each_head_hears_about_their_team_and_a_workbook_can_have_its_own(sheets, tmp_path, server):
    kpis = [*KPIS, ["Office coffee", "Dee", "cups", "higher", 10, 8, 2]]  # in no team
    team = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": kpis})
    ops = sheets.create("ops", {"KPIs": OPS_KPIS}) | {"summary_to": ["ops-manager@example.com"]}
    config = write_config(
        tmp_path, [team, ops], sheets.config_extra() + email_toml(server.port) + ROUTES
    )
    # the ops workbook has no OKRs tab
    config.write_text(
        config.read_text().replace('name = "ops"', 'name = "ops"\ntabs = { okrs = "" }')
    )

    assert run(config, "2026-11-15") == 0
    assert subjects(server, "head-of-support@example.com") == ["sheetsync: Retention is Off track"]
    assert subjects(server, "head-of-sales@example.com") == [], "sales hears nothing of support"
    assert subjects(server, "ops-manager@example.com") == ["sheetsync: Uptime is Off track"]
    assert subjects(server, "ceo@example.com") == ["sheetsync: Office coffee is Off track"]
    assert subjects(server, "dee@example.com") == ["sheetsync: 2 need attention"]

    sheets.edit("team", "KPIs", "G2", 30000)  # Revenue falls off track
    assert run(config, "2026-11-16") == 0
    assert subjects(server, "head-of-sales@example.com") == ["sheetsync: Revenue is Off track"]
    assert subjects(server, "ana@example.com") == ["sheetsync: Revenue is Off track"]
    assert len(server.inbox.to("head-of-support@example.com")) == 1
