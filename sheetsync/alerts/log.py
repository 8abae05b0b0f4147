"""The Alerts tab: every alert sheetsync raised, and whether each recipient got it.

Layout (an owned tab, see `sheetsync.core.owned`): marker row, header row, then one row per event

    Time | Workbook | Item | Owner | From | To | Message | Recipients | Delivery | Event ID

`Item` is the item's key (a KPI's name, a key result's ID or "Objective / text"); `Time` is the
start of the run that raised the event; `Delivery` holds one state per recipient:

    pending                      recorded, not yet handed to the mail server
    pending (<reason>)           tried and failed for a reason that may pass; tried next run
    sent                         accepted by the mail server
    failed: <reason>             refused for good (e.g. 550 no such mailbox)
    not sent: <reason>           no configured channel can deliver it (no mail server at
                                 all): final, never owed or re-sent later

With one recipient the cell holds just the state; with several it reads
"ana@example.com: sent; lead@example.com: pending". A note such as
`no recipient (set [alerts.owners] "Bob")` follows when the owner has no address.

An event is written here as pending *before* it is sent and marked after, so an alert that
could not be delivered is sent on the next run, and the tab doubles as the memory of what was
already said. It is not a queue: what is sent is rebuilt from trusted state (see `pending`),
never read from the Message or Recipients columns. Pure: grids in, `OwnedTab` out.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from typing import Literal

from sheetsync.alerts.cells import cell_datetime, cell_text
from sheetsync.alerts.events import AlertEvent, EventKind, parse_event_id
from sheetsync.alerts.recipients import recipients_for
from sheetsync.config import Alerts
from sheetsync.core.model import Colour, Status
from sheetsync.core.owned import check_owned, is_owned, owned_body, owned_grid
from sheetsync.core.plan import OWNED_DATA_ROW, CellValue, CellWrite, Grid, OwnedTab, RowGuard

ALERTS_HEADER: tuple[str, ...] = (
    "Time",
    "Workbook",
    "Item",
    "Owner",
    "From",
    "To",
    "Message",
    "Recipients",
    "Delivery",
    "Event ID",
)
ALERTS_TITLE = "Alerts log, one row per alert with its delivery to each recipient"

_COL = {name: i for i, name in enumerate(ALERTS_HEADER)}
_WIDTHS = {1: 18, 2: 18, 3: 28, 4: 18, 5: 12, 6: 12, 7: 60, 8: 28, 9: 24, 10: 34}
_RECIPIENT_STATE = re.compile(r"^([^\s:;@]+@[^\s:;]+|chat:[\w.-]+):\s*(.+)$")


@dataclass(frozen=True)
class Delivery:
    """Where one event stands for one recipient."""

    state: Literal["pending", "sent", "failed", "not sent"]
    reason: str = ""

    @property
    def text(self) -> str:
        if self.state == "failed":
            return f"failed: {self.reason or 'unknown reason'}"
        if self.state == "not sent":
            return f"not sent: {self.reason}" if self.reason else "not sent"
        if self.state == "pending" and self.reason:
            return f"pending ({self.reason})"
        return self.state

    @classmethod
    def parse(cls, text: str) -> Delivery | None:
        text = text.strip()
        low = text.casefold()
        if low == "sent":
            return cls("sent")
        if low.startswith("failed"):
            return cls("failed", text[6:].lstrip(" :").strip())
        if low == "not sent" or low.startswith("not sent:"):  # not a note's "not sent to ..."
            return cls("not sent", text[9:].strip())
        if low.startswith("pending"):
            return cls("pending", text[7:].strip().removeprefix("(").removesuffix(")").strip())
        return None

    @classmethod
    def pending(cls, reason: str = "") -> Delivery:
        return cls("pending", clean_reason(reason))

    @classmethod
    def failed(cls, reason: str) -> Delivery:
        return cls("failed", clean_reason(reason))


PENDING = Delivery("pending")
SENT = Delivery("sent")
NO_MAIL_SERVER = Delivery("not sent", "no mail server configured")
"""An e-mail recipient's delivery when neither `[email] host` nor `outbox` is set."""


def clean_reason(text: str) -> str:
    """A reason that fits in the Delivery cell without breaking its "; " separators."""
    text = " ".join(str(text).replace(";", ",").split())
    return text if len(text) <= 200 else text[:197] + "..."


@dataclass(frozen=True)
class AlertLogRecord:
    """One row of the Alerts tab."""

    event_id: str
    item: str
    """The item's key."""
    time: datetime | None = None
    """The start of the run that raised the event."""
    workbook: str = ""
    owner: str = ""
    from_status: str = ""
    to_status: str = ""
    message: str = ""
    recipients: tuple[str, ...] = ()
    deliveries: tuple[tuple[str, Delivery], ...] = ()
    """(recipient, delivery) for each recipient, in the order of `recipients`."""
    note: str = ""
    """E.g. 'no recipient (set [alerts.owners] "Bob")'."""
    row: int | None = None
    """The sheet row it was read from (1-based); None for a record not yet written."""

    @property
    def kind(self) -> EventKind | None:
        parsed = parse_event_id(self.event_id)
        return parsed[0] if parsed else None

    @property
    def as_of(self) -> date | None:
        """The as-of date of the run that raised the event (from its id)."""
        parsed = parse_event_id(self.event_id)
        return parsed[1] if parsed else None

    def delivery(self, recipient: str) -> Delivery:
        wanted = recipient.casefold()
        return next((d for r, d in self.deliveries if r.casefold() == wanted), PENDING)

    @property
    def pending_recipients(self) -> tuple[str, ...]:
        return tuple(r for r in self.recipients if self.delivery(r).state == "pending")

    @property
    def delivery_text(self) -> str:
        if len(self.recipients) == 1:
            parts = [self.delivery(self.recipients[0]).text]
        else:
            parts = [f"{r}: {self.delivery(r).text}" for r in self.recipients]
        if self.note:
            parts.append(self.note)
        return "; ".join(parts)

    def with_outcomes(self, outcomes: Mapping[tuple[str, str], Delivery]) -> AlertLogRecord:
        """This record with the given (event id, recipient) -> delivery outcomes applied."""
        changed = False
        deliveries = []
        for recipient in self.recipients:
            new = outcomes.get((self.event_id, recipient.casefold()))
            changed |= new is not None
            deliveries.append((recipient, new or self.delivery(recipient)))
        return replace(self, deliveries=tuple(deliveries)) if changed else self


def _parse_delivery(
    text: str, recipients: Sequence[str]
) -> tuple[tuple[tuple[str, Delivery], ...], str]:
    explicit: dict[str, Delivery] = {}
    general: Delivery | None = None
    notes: list[str] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        match = _RECIPIENT_STATE.match(part)
        state = Delivery.parse(match.group(2)) if match else None
        if match and state:
            explicit[match.group(1).casefold()] = state
        elif (plain := Delivery.parse(part)) is not None:
            general = plain
        else:
            notes.append(part)
    # A recipient whose state is unreadable is still owed the alert: pending, never dropped.
    deliveries = tuple((r, explicit.get(r.casefold(), general or PENDING)) for r in recipients)
    return deliveries, "; ".join(notes)


def _parse_recipients(text: str) -> tuple[str, ...]:
    return tuple(p for p in re.split(r"[,;\s]+", text) if "@" in p or p.startswith("chat:"))


def _record(row: Sequence[CellValue], sheet_row: int) -> AlertLogRecord | None:
    def cell(name: str) -> CellValue:
        i = _COL[name]
        return row[i] if i < len(row) else None

    event = cell_text(cell("Event ID"))
    if not event:
        return None
    recipients = _parse_recipients(cell_text(cell("Recipients")))
    deliveries, note = _parse_delivery(cell_text(cell("Delivery")), recipients)
    return AlertLogRecord(
        event_id=event,
        item=cell_text(cell("Item")),
        time=cell_datetime(cell("Time")),
        workbook=cell_text(cell("Workbook")),
        owner=cell_text(cell("Owner")),
        from_status=cell_text(cell("From")),
        to_status=cell_text(cell("To")),
        message=cell_text(cell("Message")),
        recipients=recipients,
        deliveries=deliveries,
        note=note,
        row=sheet_row,
    )


def parse_alert_log(grid: Grid | None) -> list[AlertLogRecord]:
    """The records of an Alerts tab in sheet order (rows without an Event ID are skipped)."""
    if not grid or not is_owned(grid):
        return []
    records = (_record(row, i + 3) for i, row in enumerate(owned_body(grid)))
    return [r for r in records if r is not None]


def log_time(now: datetime) -> str:
    """How the Time column shows the start of a run (to the second, no time zone)."""
    return now.replace(tzinfo=None).isoformat(sep=" ", timespec="seconds")


def log_row(record: AlertLogRecord) -> list[CellValue]:
    return [
        log_time(record.time) if record.time else None,
        record.workbook,
        record.item,
        record.owner or None,
        record.from_status or None,
        record.to_status,
        record.message,
        ", ".join(record.recipients) or None,
        record.delivery_text,
        record.event_id,
    ]


def new_log_records(
    events: Iterable[AlertEvent], now: datetime, settings: Alerts
) -> list[AlertLogRecord]:
    """The Alerts-tab records for this run's events: every recipient pending.

    `now` is the start of the run, the same for every workbook of the run: delivery sends one
    digest per recipient for all events that share it.
    """
    records = []
    moment = now.replace(tzinfo=None, microsecond=0)
    for event in events:
        who = recipients_for(event.item.owner, settings, event.item)
        recipients = who.all
        records.append(
            AlertLogRecord(
                event_id=event.id,
                item=event.item.key,
                time=moment,
                workbook=event.workbook,
                owner=event.item.owner or "",
                from_status=event.from_status.value if event.from_status else "",
                to_status=event.to_status.value,
                message=event.message,
                recipients=recipients,
                deliveries=tuple((r, PENDING) for r in recipients),
                note=who.problem,
            )
        )
    return records


def _delivery_fill(text: CellValue) -> Colour | None:
    low = cell_text(text).casefold()
    if "failed" in low or low.startswith("no recipient"):
        return Colour.RED
    if "pending" in low:
        return Colour.AMBER
    return None


def updated_alerts_tab(
    grid: Grid | None,
    workbook: str,
    *,
    new: Sequence[AlertLogRecord] = (),
    outcomes: Mapping[tuple[str, str], Delivery] | None = None,
    tab: str = "Alerts",
) -> OwnedTab:
    """The Alerts tab with `new` records appended and delivery `outcomes` applied.

    `outcomes` maps (event id, recipient in lower case) to the delivery result. Rows read from
    the tab are kept as they are apart from their Delivery cell, so a backend rewrites only what
    changed; a new record whose event id is already logged is not added twice. Raises
    WorkbookLayoutError when `tab` exists but is a person's tab.
    """
    check_owned(grid, tab, workbook)
    body = owned_body(grid)
    outcomes = outcomes or {}
    touched = {event for event, _ in outcomes}
    logged: set[str] = set()
    rows: Grid = []
    id_col = _COL["Event ID"]
    for i, raw in enumerate(body):
        row = list(raw)
        event = cell_text(raw[id_col]) if id_col < len(raw) else ""
        if event:  # only a row an outcome names is read whole (the log only grows)
            logged.add(event)
            record = _record(raw, i + 3) if event in touched else None
            updated = record.with_outcomes(outcomes) if record is not None else None
            if updated is not None and updated is not record:
                row += [None] * (len(ALERTS_HEADER) - len(row))
                row[_COL["Delivery"]] = updated.delivery_text
        rows.append(row)
    for record in new:
        if record.event_id not in logged:
            logged.add(record.event_id)
            rows.append(log_row(record.with_outcomes(outcomes)))
    grid_out = owned_grid(ALERTS_TITLE, ALERTS_HEADER, rows)
    fills = _fills(grid_out[2:], OWNED_DATA_ROW)
    return OwnedTab(name=tab, rows=grid_out, fills=fills, widths=dict(_WIDTHS))


def _fills(rows: Iterable[Sequence[CellValue]], first_row: int) -> dict[tuple[int, int], Colour]:
    """The To cell on its status's colour, the Delivery cell amber while pending, red when
    failed (`rows` start on sheet row `first_row`)."""
    fills: dict[tuple[int, int], Colour] = {}
    for r, row in enumerate(rows, start=first_row):
        to = row[_COL["To"]] if len(row) > _COL["To"] else None
        status = Status.parse(to)
        if status is not None:
            fills[(r, _COL["To"] + 1)] = status.colour
        colour = _delivery_fill(row[_COL["Delivery"]] if len(row) > _COL["Delivery"] else None)
        if colour is not None:
            fills[(r, _COL["Delivery"] + 1)] = colour
    return fills


def appended_alerts(records: Sequence[AlertLogRecord], first_row: int, *, tab: str) -> OwnedTab:
    """This run's new records as rows to add below an Alerts tab that was not read, from
    sheet row `first_row` on (`WritePlan.appends`)."""
    rows = [log_row(record) for record in records]
    return OwnedTab(name=tab, rows=rows, fills=_fills(rows, first_row), first_row=first_row)


def delivery_marks(
    records: Iterable[AlertLogRecord],
    outcomes: Mapping[tuple[str, str], Delivery],
    *,
    tab: str,
) -> tuple[list[CellWrite], list[RowGuard]]:
    """The Delivery cells of the rows `records` were written to (`AlertLogRecord.row`), with
    `outcomes` applied, each guarded by its Event ID cell: a person who sorts the tab or
    inserts a row while the e-mails go out never gets a mark on the wrong event (the write
    refuses, see `WorkbookBackend.write`). The cells' fills are set too (amber to none)."""
    cells: list[CellWrite] = []
    guards: list[RowGuard] = []
    delivery, event = _COL["Delivery"] + 1, _COL["Event ID"] + 1
    for record in records:
        marked = record.with_outcomes(outcomes)
        if marked is record or record.row is None:
            continue
        text = marked.delivery_text
        cells.append(CellWrite(tab, record.row, delivery, text, _delivery_fill(text)))
        guards.append(RowGuard(tab, record.row, event, record.event_id))
    return cells, guards
