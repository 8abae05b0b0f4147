"""A quarter of nightly runs as people live it: broken mail settings fixed, a team channel,
a quarter end; every e-mail and chat post each person gets, exactly once. Both backends.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from tests.e2e.test_alerts_chat import Webhook
from tests.e2e.test_alerts_story import CLEAN_OKRS
from tests.e2e.test_alerts_trust import Server, email_toml, rewrite_email, run
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config

WEEKS = ["2026-11-15", "2026-11-22", "2026-11-29", "2026-12-06", "2026-12-13", "2026-12-20",
         "2026-12-27", "2027-01-03"]  # fmt: skip


@pytest.fixture
def mail():
    s = Server().start()
    yield s
    s.stop()


@pytest.fixture
def hook():
    h = Webhook()
    h.start()
    yield h
    h.stop()


def test_a_quarter_of_alerts_each_person_gets_exactly_these(sheets, tmp_path, mail, hook):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    alerts = (
        '[alerts]\nsummary_to = ["lead@example.com"]\n'
        '[alerts.owners]\n"Dee" = "dee@example.com"\n"Ana" = "ana@example.com"\n'
        f'[alerts.channels]\nsupport = "json://127.0.0.1:{hook.port}/hooks/support"\n'
        '[alerts.teams.support]\nobjectives = ["Delight customers"]\n'
        'kpis = ["Retention", "First response (h)"]\n'
        'summary_to = ["head-of-support@example.com"]\nchat = ["support"]\n'
    )
    # week one: the default STARTTLS against a server that does not offer it
    config = write_config(
        tmp_path,
        [entry],
        sheets.config_extra() + email_toml(mail.port, security="starttls") + alerts,
    )
    codes = [run(config, WEEKS[0])]
    assert mail.inbox.messages == []
    rewrite_email(config, email_toml(mail.port))  # fixed before the second week
    for day in WEEKS[1:]:  # nobody touches the sheet: time alone moves the statuses
        codes.append(run(config, day))

    got: dict[str, list[str]] = defaultdict(list)
    for msg, (_sender, rcpts) in zip(mail.inbox.messages, mail.inbox.envelopes, strict=True):
        for rcpt in rcpts:
            got[rcpt].append(msg["Subject"])
    posts = [post["title"] for _path, post in hook.posts]
    assert codes[0] == 1 and all(code == 0 for code in codes[1:])
    support = [
        "sheetsync: Retention is Off track",  # raised on 15 Nov, delivered once it was fixed
        "sheetsync: Retention is still Off track",
        "sheetsync: 1 needs attention, 3 not updated",
        "sheetsync: 2 need attention, 3 not updated",
        "sheetsync: 3 need attention, 3 not updated",
        "sheetsync: 3 need attention, 3 not updated",
        "sheetsync: 3 need attention, 3 not updated",
        "sheetsync: 1 objective graded, 1 needs attention, 1 not updated",  # Q4 closed
    ]
    sales = [
        "sheetsync: S2 is Off track",
        "sheetsync: 1 needs attention, 3 not updated",
        "sheetsync: 1 needs attention, 3 not updated",
        "sheetsync: 2 need attention, 3 not updated",
        "sheetsync: 2 need attention, 3 not updated",
        "sheetsync: 2 need attention, 3 not updated",
        "sheetsync: 1 objective graded, 1 not updated",
    ]
    assert got == {
        "dee@example.com": support,
        "head-of-support@example.com": support,  # the support team's manager, not sales'
        "ana@example.com": sales,
        "lead@example.com": sales,  # everything no team claims
    }
    assert posts == support, "the support channel hears what its team hears, as it happens"
    ids = [m["Message-ID"] for m in mail.inbox.messages]
    assert len(ids) == len(set(ids)), "no e-mail twice"
