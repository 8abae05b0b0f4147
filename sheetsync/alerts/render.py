"""One digest e-mail per recipient: plain text and HTML, with a Message-ID fixed by its events.

The HTML is rendered by jinja2 with autoescape on, so a KPI named `<script>` arrives as text;
the plain-text part uses a separate environment without escaping. Templates live in
`sheetsync/templates/`. The Message-ID is a hash of the recipient and the event ids in the
digest: the same digest re-sent after a crash carries the same ID (mail systems collapse the
two), and a different set of events, or another recipient, gets another ID.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sheetsync.alerts.events import EventKind
from sheetsync.alerts.pending import PendingAlert
from sheetsync.core.model import Colour, Status

if TYPE_CHECKING:
    import jinja2

_LABEL = {
    EventKind.ALERT: "Needs attention",
    EventKind.REMINDER: "Still needs attention",
    EventKind.STALE: "Not updated",
    EventKind.RECOVERED: "Recovered",
    EventKind.GRADED: "Period closed",
    EventKind.INVALID: "Cannot be scored",
    EventKind.IMPROVING: "Improving",
    EventKind.WIN: "Win",
    EventKind.CONFIDENCE: "Confidence dropped",
}
_ORDER = {
    EventKind.GRADED: 0,
    EventKind.ALERT: 1,
    EventKind.INVALID: 2,
    EventKind.REMINDER: 3,
    EventKind.STALE: 4,
    EventKind.IMPROVING: 5,
    EventKind.RECOVERED: 6,
    EventKind.WIN: 7,
    EventKind.CONFIDENCE: 8,
}


@cache
def _environment(html: bool) -> jinja2.Environment:
    # Imported here: jinja2 costs a run's start-up time, and a run without mail renders none.
    import jinja2

    return jinja2.Environment(
        loader=jinja2.PackageLoader("sheetsync", "templates"),
        autoescape=html,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )


def digest_message_id(recipient: str, event_ids: Iterable[str]) -> str:
    """`<hash@sheetsync>` of the recipient and the (sorted, distinct) event ids."""
    text = "\n".join([recipient.strip().casefold(), *sorted(set(event_ids))])
    return f"<{hashlib.sha256(text.encode('utf-8')).hexdigest()[:32]}@sheetsync>"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _subject(alerts: Sequence[PendingAlert]) -> str:
    if len(alerts) == 1:
        a = alerts[0]
        what = {
            EventKind.ALERT: f"is {a.to_status}",
            EventKind.REMINDER: f"is still {a.to_status}",
            EventKind.RECOVERED: f"is back to {a.to_status}",
            EventKind.STALE: "has not been updated",
            EventKind.GRADED: f"closed: {a.to_status}",
            EventKind.INVALID: "cannot be scored",
            EventKind.IMPROVING: f"is improving: {a.to_status}",
            EventKind.WIN: f"is {a.to_status}",
            EventKind.CONFIDENCE: "lost confidence",
        }[a.kind]
        return _one_line(f"sheetsync: {a.item} {what}")
    # items, not events: an item with an alert and a reminder is one thing to look at
    attention = len({a.item for a in alerts if a.kind in (EventKind.ALERT, EventKind.REMINDER)})
    recovered = sum(a.kind is EventKind.RECOVERED for a in alerts)
    stale = sum(a.kind is EventKind.STALE for a in alerts)
    graded = sum(a.kind is EventKind.GRADED for a in alerts)
    invalid = sum(a.kind is EventKind.INVALID for a in alerts)
    improving = sum(a.kind is EventKind.IMPROVING for a in alerts)
    wins = sum(a.kind is EventKind.WIN for a in alerts)
    doubts = sum(a.kind is EventKind.CONFIDENCE for a in alerts)
    parts = []
    if graded:
        parts.append(f"{graded} objective{'s' if graded != 1 else ''} graded")
    if attention:
        parts.append(f"{attention} need{'s' if attention == 1 else ''} attention")
    if invalid:
        parts.append(f"{invalid} cannot be scored")
    if stale:
        parts.append(f"{stale} not updated")
    if doubts:
        parts.append(f"{doubts} lost confidence")
    if improving:
        parts.append(f"{improving} improving")
    if recovered:
        parts.append(f"{recovered} recovered")
    if wins:
        parts.append(f"{wins} win{'s' if wins != 1 else ''}")
    return "sheetsync: " + ", ".join(parts)


def _without_name(message: str, first: str) -> str:
    """`message` without the key result's name when the entry's first message starts with it
    (`Deals up 20%: Still Off track ... Deals up 20%: Value unchanged` names it once)."""
    name, colon, _ = first.partition(": ")
    prefix = name + colon
    return message.removeprefix(prefix) if colon and message.startswith(prefix) else message


def _context(
    alerts: Sequence[PendingAlert], subject: str, report_links: Mapping[str, str] | None = None
) -> dict[str, Any]:
    ordered = sorted(alerts, key=lambda a: (a.workbook, _ORDER[a.kind], a.item, a.event_id))
    workbooks: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    for alert in ordered:
        same = seen.get((alert.workbook, alert.item))
        if same is not None:  # one item appears once: its other news joins the first entry
            same["label"] += f" + {_LABEL[alert.kind].lower()}"
            same["message"] += f" {_without_name(alert.message, same['message'])}"
            continue
        if not workbooks or workbooks[-1]["name"] != alert.workbook:
            location = alert.location.strip()
            link = location if location.lower().startswith(("https://", "http://")) else ""
            workbooks.append(
                {
                    "name": alert.workbook,
                    "location": location,
                    "link": link,
                    "report": (report_links or {}).get(alert.workbook, ""),
                    "alerts": [],
                }
            )
        status = Status.parse(alert.to_status)
        change = (
            f"{alert.from_status} -> {alert.to_status}"
            if alert.from_status and alert.from_status != alert.to_status
            else alert.to_status
        )
        entry: dict[str, Any] = {
            "item": alert.item,
            "owner": alert.owner,
            "label": _LABEL[alert.kind],
            "from_status": alert.from_status,
            "to_status": alert.to_status,
            "change": change,
            "colour": (status.colour if status else Colour.GREY).value,
            "message": alert.message,
        }
        seen[(alert.workbook, alert.item)] = entry
        workbooks[-1]["alerts"].append(entry)
    count = len(seen)
    intro = (
        "sheetsync has news about 1 item in your workbooks:"
        if count == 1
        else f"sheetsync has news about {count} items in your workbooks:"
    )
    return {"subject": subject, "intro": intro, "workbooks": workbooks, "alerts_tab": "Alerts"}


def render_chat(alerts: Sequence[PendingAlert]) -> tuple[str, str]:
    """(title, body) of one chat post: the digest's subject and one line per item."""
    if not alerts:
        raise ValueError("a post needs at least one alert")
    context = _context(alerts, _subject(alerts))
    lines = []
    for wb in context["workbooks"]:
        lines.append(f"{wb['name']}" + (f" ({wb['link']})" if wb["link"] else ""))
        lines += [_one_line(f"- {a['item']}: {a['label']}: {a['message']}") for a in wb["alerts"]]
    return _one_line(context["subject"]), "\n".join(lines)


def render_digest(
    recipient: str,
    alerts: Sequence[PendingAlert],
    *,
    sender: str,
    now: datetime,
    report_links: Mapping[str, str] | None = None,
) -> EmailMessage:
    """The digest for one recipient: every alert in `alerts`, grouped by workbook.

    `report_links` maps a workbook's name to its report page (`[report] url`): each workbook's
    section links there.
    """
    if not alerts:
        raise ValueError("a digest needs at least one alert")
    subject = _subject(alerts)
    context = _context(alerts, subject, report_links)
    msg = EmailMessage()
    msg["Subject"] = subject
    msg["From"] = sender
    msg["To"] = recipient
    msg["Date"] = format_datetime(now)
    msg["Message-ID"] = digest_message_id(recipient, (a.event_id for a in alerts))
    msg["Auto-Submitted"] = "auto-generated"
    msg["X-Sheetsync-Events"] = " ".join(sorted({a.event_id for a in alerts}))
    msg.set_content(_environment(False).get_template("alert_digest.txt.j2").render(context))
    msg.add_alternative(
        _environment(True).get_template("alert_digest.html.j2").render(context), subtype="html"
    )
    return msg
