"""The Alerts tab as the memory of what was said and to whom, and who gets each alert."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from sheetsync.alerts import (
    Delivery,
    DeliveryReport,
    DigestResult,
    apply_delivery,
    parse_alert_log,
    plan_workbook_alerts,
)
from sheetsync.alerts.log import ALERTS_HEADER
from sheetsync.alerts.recipients import recipients_for
from sheetsync.config import Alerts, Tabs
from sheetsync.core.errors import WorkbookLayoutError
from sheetsync.core.model import Colour, ItemState, Status

JAN5, JAN6 = date(2026, 1, 5), date(2026, 1, 6)
NIGHT = datetime(2026, 1, 5, 2, 0, 7)
RULES = Alerts(owners={"Ana Lima": "ana@example.com", "Sales team": "s1@example.com, s2@x.org"})


def item(key: str, status: Status = Status.OFF_TRACK, owner: str | None = "Ana Lima") -> ItemState:
    return ItemState(
        kind="kpi", key=key, name=key, status=status, owner=owner, value=1.0, target=2.0
    )


def plan(items, history=None, alerts=None, *, as_of=JAN5, now=NIGHT, rules=RULES, **kw):
    return plan_workbook_alerts(
        "Sales", "/srv/sales.xlsx", history, alerts, items, as_of, now, rules, Tabs(), **kw
    )


def report_for(pending, delivery: Delivery) -> DeliveryReport:
    return DeliveryReport(
        [
            DigestResult(r, "<id@sheetsync>", (p.event_id,), delivery)
            for p in pending
            for r in p.recipients
        ]
    )


# Recipients


@pytest.mark.parametrize(
    ("owner", "expected"),
    [
        ("ana@example.com", ("ana@example.com",)),
        ("Ana Lima <ana@example.com>", ("ana@example.com",)),
        ("ana lima", ("ana@example.com",)),  # case-insensitive
        ("  ANA   LIMA ", ("ana@example.com",)),
        ("Sales team", ("s1@example.com", "s2@x.org")),
        ("Ana Lima, bo@example.com", ("ana@example.com", "bo@example.com")),
    ],
)
def test_owner_cell_is_an_address_or_a_name_from_the_owners_map(owner, expected):
    who = recipients_for(owner, RULES)
    assert who.owner == expected
    assert who.problem == ""


def test_owner_without_an_address_is_logged_with_the_fix():
    who = recipients_for("Bob", RULES)
    assert who.all == ()
    assert who.problem == 'no recipient (set [alerts.owners] "Bob")'


def test_managers_in_summary_to_get_everything_once():
    rules = Alerts(summary_to=["lead@example.com", "ana@example.com"], owners=RULES.owners)
    assert recipients_for("Ana Lima", rules).all == ("ana@example.com", "lead@example.com")
    bob = recipients_for("Bob", rules)
    assert bob.all == ("lead@example.com", "ana@example.com")
    assert bob.problem == 'owner not notified (set [alerts.owners] "Bob")'


# The log


def test_new_events_are_logged_as_pending_before_anything_is_sent():
    p = plan([item("Revenue"), item("Churn", Status.ON_TRACK)])
    assert p.alerts_tab is not None
    rows = p.alerts_tab.rows
    assert rows[1] == list(ALERTS_HEADER)
    [row] = rows[2:]
    assert row[:6] == ["2026-01-05 02:00:07", "Sales", "Revenue", "Ana Lima", None, "Off track"]
    assert row[7:9] == ["ana@example.com", "pending"]
    assert row[9] == p.events[0].id
    assert p.alerts_tab.fills[(3, 6)] is Colour.RED
    assert p.alerts_tab.fills[(3, 9)] is Colour.AMBER
    [pending] = p.pending
    assert (pending.event_id, pending.recipients, pending.location) == (
        p.events[0].id,
        ("ana@example.com",),
        "/srv/sales.xlsx",
    )


def test_an_item_nobody_can_be_told_about_is_logged_but_never_pending():
    p = plan([item("Revenue", owner="Bob")])
    [row] = p.alerts_tab.rows[2:]
    assert row[7] is None
    assert row[8] == 'no recipient (set [alerts.owners] "Bob")'
    assert p.pending == []
    assert p.alerts_tab.fills[(3, 9)] is Colour.RED


def test_a_sent_alert_is_marked_sent_and_is_no_longer_pending():
    p = plan([item("Revenue")])
    tab = apply_delivery(p.alerts_tab, report_for(p.pending, Delivery("sent")), workbook="Sales")
    assert tab.rows[2][8] == "sent"
    assert (3, 9) not in tab.fills
    assert plan([item("Revenue")], history=p.history_tab.rows, alerts=tab.rows).pending == []


def test_an_alert_that_could_not_be_sent_stays_pending_for_the_next_run():
    p = plan([item("Revenue")])
    failed = Delivery.pending("cannot reach the SMTP server; connection refused")
    tab = apply_delivery(p.alerts_tab, report_for(p.pending, failed), workbook="Sales")
    assert tab.rows[2][8] == "pending (cannot reach the SMTP server, connection refused)"
    later = plan(
        [item("Revenue")],
        history=p.history_tab.rows,
        alerts=tab.rows,
        as_of=JAN6,
        now=datetime(2026, 1, 6, 2),
    )
    assert later.events == []  # nothing new to say ...
    assert [a.event_id for a in later.pending] == [p.events[0].id]  # ... but still owed
    assert later.pending[0].batch == NIGHT  # and it goes out in its own digest, as before


def test_each_recipient_has_its_own_delivery_state():
    rules = Alerts(summary_to=["lead@example.com"], owners=RULES.owners)
    p = plan([item("Revenue")], rules=rules)
    [event] = p.events
    report = DeliveryReport(
        [
            DigestResult("ana@example.com", "<a@sheetsync>", (event.id,), Delivery("sent")),
            DigestResult(
                "lead@example.com",
                "<b@sheetsync>",
                (event.id,),
                Delivery.failed("550 5.1.1 <lead@example.com>: no such user; bye"),
            ),
        ]
    )
    tab = apply_delivery(p.alerts_tab, report, workbook="Sales")
    assert tab.rows[2][7] == "ana@example.com, lead@example.com"
    assert tab.rows[2][8] == (
        "ana@example.com: sent; lead@example.com: failed: 550 5.1.1 <lead@example.com>: "
        "no such user, bye"
    )
    [record] = parse_alert_log(tab.rows)
    assert record.delivery("ana@example.com") == Delivery("sent")
    assert record.delivery("LEAD@example.com").state == "failed"
    assert record.pending_recipients == ()


def test_rerunning_the_same_night_adds_no_rows_and_keeps_the_same_pending_events():
    first = plan([item("Revenue")])
    again = plan([item("Revenue")], history=first.history_tab.rows, alerts=first.alerts_tab.rows)
    assert again.events == []
    assert again.alerts_tab.rows == first.alerts_tab.rows
    assert again.history_tab.rows == first.history_tab.rows
    assert again.pending == first.pending


def test_the_log_reads_back_times_that_came_back_as_serial_numbers():
    p = plan([item("Revenue")])
    rows = [list(r) for r in p.alerts_tab.rows]
    rows[2][0] = 46027 + (2 * 3600 + 7) / 86400  # Google's serial for 2026-01-05 02:00:07
    [pending] = plan([item("Revenue")], history=p.history_tab.rows, alerts=rows).pending
    assert pending.batch == NIGHT


def test_apply_delivery_ignores_events_of_other_workbooks():
    p = plan([item("Revenue")])
    report = DeliveryReport(
        [DigestResult("ana@example.com", "<x@sheetsync>", ("alert-x",), Delivery("sent"))]
    )
    assert apply_delivery(p.alerts_tab, report).rows == p.alerts_tab.rows


def test_disabled_alerts_still_record_history_but_leave_the_alerts_tab_alone():
    p = plan([item("Revenue")], rules=Alerts(enabled=False))
    assert p.alerts_tab is None and p.pending == [] and p.events == []
    assert len(p.history_tab.rows) == 3


def test_a_persons_alerts_tab_is_never_overwritten():
    with pytest.raises(WorkbookLayoutError, match="Alerts"):
        plan([item("Revenue")], alerts=[["Time", "What"], ["today", "lunch"]])
