"""The digest e-mail: what an owner reads, and a Message-ID that only its events decide."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sheetsync.alerts import EventKind, PendingAlert, digest_message_id, render_digest
from sheetsync.alerts.deliver import digests

NIGHT = datetime(2026, 1, 5, 2, 0)


def alert(item: str = "Monthly revenue", **kw) -> PendingAlert:
    base = dict(
        event_id="alert-20260105-" + hashlib.sha256(item.encode()).hexdigest()[:16],
        kind=EventKind.ALERT,
        batch=NIGHT,
        workbook="Sales",
        location="https://docs.google.com/spreadsheets/d/abc",
        item=item,
        owner="Ana",
        from_status="On track",
        to_status="Off track",
        message="Off track (was On track). $38,000 vs target $50,000; -$7,000 since 2026-01-04.",
        recipients=("ana@example.com",),
    )
    return PendingAlert(**(base | kw))


def parts(msg) -> tuple[str, str]:
    text = msg.get_body(("plain",)).get_content()
    html = msg.get_body(("html",)).get_content()
    return text, html


def test_digest_is_plain_text_and_html_with_name_status_figures_and_workbook_link():
    msg = render_digest("ana@example.com", [alert()], sender="sheetsync@example.com", now=NIGHT)
    assert msg.is_multipart()
    assert msg["Subject"] == "sheetsync: Monthly revenue is Off track"
    assert (msg["From"], msg["To"]) == ("sheetsync@example.com", "ana@example.com")
    assert msg["Auto-Submitted"] == "auto-generated"
    text, html = parts(msg)
    assert "Monthly revenue" in text and "On track -> Off track" in text
    assert "$38,000 vs target $50,000; -$7,000 since 2026-01-04" in text
    assert "https://docs.google.com/spreadsheets/d/abc" in text
    assert '<a href="https://docs.google.com/spreadsheets/d/abc">Sales</a>' in html
    assert "background: #FFC7CE" in html  # Off track is red


def test_a_kpi_called_script_arrives_as_text_in_the_html_part():
    evil = alert('<script>alert("x")</script>', owner="<b>Bo</b>")
    msg = render_digest("ana@example.com", [evil], sender="s@example.com", now=NIGHT)
    text, html = parts(msg)
    assert "<script>" not in html and "<b>Bo</b>" not in html
    assert "&lt;script&gt;" in html
    assert '<script>alert("x")</script>' in text  # plain text is not HTML-escaped


def test_a_file_path_is_shown_not_linked():
    msg = render_digest(
        "ana@example.com", [alert(location="/srv/okrs/sales.xlsx")], sender="s@x.org", now=NIGHT
    )
    _text, html = parts(msg)
    assert "<code>/srv/okrs/sales.xlsx</code>" in html
    assert "<a href" not in html


def test_digest_of_several_items_counts_them_in_the_subject():
    alerts = [
        alert("A"),
        alert("B", kind=EventKind.REMINDER),
        alert("C", kind=EventKind.RECOVERED, to_status="On track", from_status="Off track"),
        alert("D", kind=EventKind.STALE, to_status="No data", from_status=""),
    ]
    msg = render_digest("lead@example.com", alerts, sender="s@x.org", now=NIGHT)
    assert msg["Subject"] == "sheetsync: 2 need attention, 1 not updated, 1 recovered"


def test_message_id_depends_only_on_recipient_and_events():
    a, b = alert("A"), alert("B")
    first = render_digest("ana@example.com", [a, b], sender="s@x.org", now=NIGHT)
    later = render_digest("ana@example.com", [b, a], sender="s@x.org", now=datetime(2026, 2, 1))
    assert first["Message-ID"] == later["Message-ID"]
    assert first["Message-ID"] == digest_message_id("ana@example.com", [a.event_id, b.event_id])
    assert first["Message-ID"].endswith("@sheetsync>")
    others = {
        digest_message_id("ana@example.com", [a.event_id]),
        digest_message_id("ana@example.com", [b.event_id]),
        digest_message_id("lead@example.com", [a.event_id, b.event_id]),
    }
    assert first["Message-ID"] not in others and len(others) == 3


def test_one_digest_per_recipient_and_per_run_that_raised_the_alerts():
    earlier = datetime(2026, 1, 4, 2, 0)
    pending = [
        alert("A", recipients=("ana@example.com", "lead@example.com")),
        alert("B", recipients=("lead@example.com",)),
        alert("C", recipients=("ANA@example.com",), workbook="Marketing"),
        alert("D", recipients=("ana@example.com",), batch=earlier),  # left over from a failed run
    ]
    groups = [(r, [a.item for a in alerts]) for r, alerts in digests(pending)]
    assert groups == [
        ("ana@example.com", ["D"]),
        ("ana@example.com", ["A", "C"]),
        ("lead@example.com", ["A", "B"]),
    ]


def test_an_item_with_two_kinds_of_news_appears_once_in_the_digest():
    still = alert("Churn", kind=EventKind.REMINDER, message="Still Off track since 2026-01-01.")
    stale = alert(
        "Churn",
        kind=EventKind.STALE,
        event_id="stale-20260105-" + "0" * 16,
        message="Value 4% unchanged since 2025-12-20: nobody updated this KPI for 16 days.",
    )
    msg = render_digest("ana@example.com", [stale, still], sender="s@x.org", now=NIGHT)
    text, html = parts(msg)
    assert text.count("* Churn") == 1 and html.count("<td>Churn</td>") == 1
    assert "Still needs attention + not updated" in text
    assert "Still Off track since 2026-01-01. Value 4% unchanged" in text
    assert "news about 1 item" in text
