"""Alert events: what the decision function emits, and their deterministic ids.

An event id names one event for good: `<kind>-<YYYYMMDD>-<16 hex>`, where the hex is a SHA-256
of the workbook, the item and the kind and as-of date of the event. A re-run of the same date
therefore produces the same ids, the Alerts log can tell what it has already said, and the
e-mail Message-ID built from the ids is the same on a resend. The readable prefix lets the
decision function read the kind and date of a logged event back from the log alone.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date
from enum import StrEnum

from sheetsync.alerts.history import HistoryRecord
from sheetsync.core.model import ItemState, Status


class EventKind(StrEnum):
    """Why an item is in an alert."""

    ALERT = "alert"
    """It entered Off track (or At risk, when configured)."""
    REMINDER = "reminder"
    """It is still Off track, `remind_every_days` after the last alert."""
    RECOVERED = "recovered"
    """It is back on track after an alert."""
    STALE = "stale"
    """No data, Invalid, or the same value for `stale_after_days`: nobody updated it."""
    IMPROVING = "improving"
    """Off track eased to At risk (with `notify_improving`)."""
    WIN = "win"
    """It reached Done or Achieved (with `notify_wins`)."""
    INVALID = "invalid"
    """It became Invalid: its owner hears at once which cell is wrong."""
    GRADED = "graded"
    """An objective's period closed: its final grade, once."""
    CONFIDENCE = "confidence"
    """The owner's confidence fell by 3 points or more (High -> Low) since the last run."""


def event_id(workbook: str, item_kind: str, key: str, kind: EventKind, as_of: date) -> str:
    """The id of the `kind` event about one item on `as_of`; the same inputs give the same id."""
    text = "\x1f".join((workbook, item_kind, key, kind.value, as_of.isoformat()))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    return f"{kind.value}-{as_of:%Y%m%d}-{digest}"


_EVENT_ID = re.compile(
    r"(alert|reminder|recovered|stale|invalid|graded|improving|win|confidence)-(\d{8})-[0-9a-f]{16}",
    re.ASCII,
)


def parse_event_id(text: str) -> tuple[EventKind, date] | None:
    """The kind and as-of date an event id records, or None when it is not exactly one of ours
    (nothing else, not even a stray line separator, may be in the text)."""
    match = _EVENT_ID.fullmatch(text)
    if match is None:
        return None
    digits = match.group(2)
    try:  # what strptime("%Y%m%d") reads from 8 digits, without its per-call parsing
        return EventKind(match.group(1)), date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        return None


@dataclass(frozen=True)
class AlertEvent:
    """Something to tell an item's owner about, decided for one run."""

    id: str
    kind: EventKind
    workbook: str
    item: ItemState
    as_of: date
    from_status: Status | None
    """The status before the change (None on the first run)."""
    since: date | None
    """When the condition began: first Off-track run, first stale run; None for recoveries."""
    previous: HistoryRecord | None
    """The item at the previous run, for "change since last run"."""
    message: str
    """One line for the Alerts log and the e-mail: value vs target, change since last run."""

    @property
    def to_status(self) -> Status:
        return self.item.status
