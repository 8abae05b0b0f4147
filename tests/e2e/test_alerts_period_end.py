"""When a quarter closes, each objective's final grade reaches its owners and managers, once.

Through the real CLI on both backends, against a loopback SMTP server that is down the night
the quarter closes: the grades go out the next night, exactly once.
"""

from __future__ import annotations

import pytest

from tests.e2e.test_alerts_story import CLEAN_OKRS, alerts_rows
from tests.e2e.test_alerts_trust import ALERTS_TOML, Server, email_toml, run
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def grades_in(server: Server, address: str) -> list[str]:
    """The 'Period closed' lines of the plain-text digests `address` received."""
    lines = []
    for msg in server.inbox.to(address):
        text = msg.get_body(("plain",)).get_content()
        lines += [line.strip() for line in text.splitlines() if "final grade" in line]
    return lines


def test_the_quarter_close_grades_each_objective_once_to_its_owners_and_the_lead(
    sheets, tmp_path, server
):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + ALERTS_TOML
    )
    server.start()
    assert run(config, "2026-11-15") == 0
    assert grades_in(server, "lead@example.com") == [], "Q4 is still running"
    server.stop()

    assert run(config, "2027-01-04") == 1, "the night Q4 closes, the mail server is down"
    graded = [r for r in alerts_rows(sheets) if r["Event ID"].startswith("graded-")]
    assert [r["Item"] for r in graded] == [
        "Grow revenue (2026-Q4)",
        "Delight customers (2026-Q4)",
    ]
    assert all("pending" in r["Delivery"] for r in graded)

    server.start()
    assert run(config, "2027-01-05") == 0
    assert grades_in(server, "lead@example.com") == [
        "Partly achieved, final grade 0.63. 2026-Q4 ended; key results: 3 partly achieved, 1 done.",
        "Partly achieved, final grade 0.53. 2026-Q4 ended; key results: 2 partly achieved.",
    ]
    assert len(grades_in(server, "dee@example.com")) == 1, "Dee owns Delight customers"
    assert len(grades_in(server, "ana@example.com")) == 1, "ana@ owns a Grow revenue KR"
    subjects = [m["Subject"] for m in server.inbox.to("dee@example.com")]
    assert subjects[-1] == "sheetsync: 1 objective graded, 1 needs attention, 1 not updated"

    run(config, "2027-01-06")
    run(config, "2027-02-01")
    assert len(grades_in(server, "lead@example.com")) == 2, "graded once, not every night"
