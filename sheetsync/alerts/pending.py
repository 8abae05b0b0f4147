"""What is still owed, rebuilt from trusted state: the Alerts tab is a record, not a queue.

Anyone who can edit a workbook can edit its Alerts tab, so nothing read from it may direct
mail. A row there only says *which* event a recipient has not received yet. Before anything
is sent, each such row is checked and rebuilt:

* its Event ID must be exactly the id sheetsync gives an event about an item of this workbook
  (looked up by the row's Item, then recomputed), and History must show that event on that
  date (an alert needs the item Off track then);
* the words come from History and the item, never from the Message column;
* the recipients are the item's owner and `summary_to` (its team's, its workbook's or the
  global one) as the config resolves them today (within `[alerts] allowed_domains`),
  narrowed to those the row still lists as pending: an address typed into the Recipients
  column is never mailed.

A row that fails a check is reported (with its cell) and skipped; it never stops the others.
Pure: no I/O.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sheetsync.alerts.decide import rebuild_event
from sheetsync.alerts.events import EventKind
from sheetsync.alerts.history import HistoryRecord
from sheetsync.alerts.log import ALERTS_HEADER, AlertLogRecord, Delivery
from sheetsync.alerts.recipients import recipients_for
from sheetsync.config import Alerts
from sheetsync.core.model import ItemState
from sheetsync.core.parse import a1


@dataclass(frozen=True)
class PendingAlert:
    """One event still owed to some recipients: what delivery sends.

    Rebuilt the same way on every run, so an e-mail re-sent later reads like the first attempt
    and carries the same Message-ID.
    """

    event_id: str
    kind: EventKind
    batch: datetime | None
    """The Time of its log row (the run that raised it): digests never mix batches."""
    workbook: str
    location: str
    """Where a person opens the workbook: a path or a URL."""
    item: str
    owner: str
    from_status: str
    to_status: str
    message: str
    recipients: tuple[str, ...] = field(default=())
    """The recipients it is still pending for."""
    as_of: date | None = None
    """The as-of date of the run that raised it: digests never mix nights either."""


@dataclass(frozen=True)
class SkippedRow:
    """An Alerts-tab row (or some of its recipients) that will not be sent, and why.

    The run reports it once and marks those recipients `failed: not sent (...)` in the tab.
    """

    row: int | None
    column: str
    reason: str
    event_id: str = ""
    recipients: tuple[str, ...] = ()

    def describe(self, workbook: str, tab: str = "Alerts") -> str:
        col = ALERTS_HEADER.index(self.column) + 1
        where = f"{tab}!{a1(self.row, col)}" if self.row else tab
        return f"[{workbook}] {where}: {self.reason}; not sent"


def owed_alerts(
    records: Iterable[AlertLogRecord],
    history: Sequence[HistoryRecord],
    items: Sequence[ItemState],
    settings: Alerts,
    *,
    workbook: str,
    location: str = "",
) -> tuple[list[PendingAlert], list[SkippedRow]]:
    """The events some recipient has not received yet, rebuilt from History, the items and the
    config; and the rows that could not be (forged, edited, or about an item that is gone).

    `records` is the Alerts tab as written this run, `history` the History tab as written
    (today's rows included), `items` this run's items.
    """
    by_key: dict[str, list[ItemState]] = defaultdict(list)
    for item in items:
        by_key[item.key].append(item)
    history_of: dict[tuple[str, str], list[HistoryRecord]] = defaultdict(list)
    for h in history:
        history_of[(h.kind, h.key)].append(h)

    owed: list[PendingAlert] = []
    skipped: list[SkippedRow] = []
    for record in records:
        listed = record.pending_recipients
        if not listed:
            continue
        candidates = by_key.get(record.item, [])
        if not candidates:
            skipped.append(
                SkippedRow(record.row, "Item", f"no item {record.item!r} in this workbook")
            )
            continue
        reasons = []
        event = None
        for item in candidates:
            rebuilt = rebuild_event(
                record.event_id,
                item,
                history_of.get((item.kind, item.key), []),
                settings,
                workbook=workbook,
            )
            if isinstance(rebuilt, str):
                reasons.append(rebuilt)
            else:
                event = rebuilt
                break
        if event is None:
            skipped.append(SkippedRow(record.row, "Event ID", reasons[0], record.event_id, listed))
            continue
        trusted = {
            a.casefold(): a for a in recipients_for(event.item.owner, settings, event.item).all
        }
        recipients = tuple(trusted[r.casefold()] for r in listed if r.casefold() in trusted)
        strangers = tuple(r for r in listed if r.casefold() not in trusted)
        if strangers:
            skipped.append(
                SkippedRow(
                    record.row,
                    "Recipients",
                    f"{', '.join(strangers)} is not a recipient of {event.item.key!r} "
                    "(its Owner, [alerts.owners] and summary_to decide who is)",
                    record.event_id,
                    strangers,
                )
            )
        if not recipients:
            continue
        owed.append(
            PendingAlert(
                event_id=event.id,
                kind=event.kind,
                batch=record.time,
                workbook=workbook,
                location=location,
                item=event.item.key,
                owner=event.item.owner or "",
                from_status=event.from_status.value if event.from_status else "",
                to_status=event.to_status.value,
                message=event.message,
                recipients=recipients,
                as_of=event.as_of,
            )
        )
    return owed, skipped


def skipped_outcomes(skipped: Iterable[SkippedRow]) -> dict[tuple[str, str], Delivery]:
    """The Delivery to record for skipped rows: failed for good, so they are reported once."""
    return {
        (s.event_id, r.casefold()): Delivery.failed(f"not sent, {s.reason}")
        for s in skipped
        for r in s.recipients
    }
