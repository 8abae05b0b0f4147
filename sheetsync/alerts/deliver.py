"""Sending what is pending: one digest per recipient, and what became of every event.

Pending alerts are grouped by recipient and by the run that raised them (their `batch`), so a
digest that was sent before a crash is rebuilt from exactly the same events on the next run
and carries the same Message-ID; an event is never sent under two IDs. When the mail server
cannot be reached at all, the remaining digests are not tried (they stay pending) rather than
each waiting through its own retries.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sheetsync.alerts.log import SENT, Delivery, PendingAlert
from sheetsync.alerts.render import render_digest
from sheetsync.alerts.send import Mailer
from sheetsync.config import Email
from sheetsync.core.errors import DeliveryError

log = logging.getLogger("sheetsync.alerts")


@dataclass(frozen=True)
class DigestResult:
    """One digest e-mail and what happened to it."""

    recipient: str
    message_id: str
    event_ids: tuple[str, ...]
    delivery: Delivery


@dataclass
class DeliveryReport:
    """Per-digest results of a `deliver` call; `outcomes` feeds `apply_delivery`."""

    digests: list[DigestResult] = field(default_factory=list)

    @property
    def outcomes(self) -> dict[tuple[str, str], Delivery]:
        """(event id, recipient in lower case) -> delivery, for every event that was due."""
        return {
            (event, d.recipient.casefold()): d.delivery
            for d in self.digests
            for event in d.event_ids
        }

    def outcome(self, event_id: str, recipient: str) -> Delivery | None:
        return self.outcomes.get((event_id, recipient.casefold()))

    def _with(self, state: str) -> list[DigestResult]:
        return [d for d in self.digests if d.delivery.state == state]

    @property
    def sent(self) -> list[DigestResult]:
        return self._with("sent")

    @property
    def failed(self) -> list[DigestResult]:
        return self._with("failed")

    @property
    def pending(self) -> list[DigestResult]:
        """Digests that stay pending for the next run (transient failures)."""
        return self._with("pending")

    @property
    def problems(self) -> list[str]:
        """One line per digest that did not go out, for the run summary."""
        return [
            f"{d.recipient}: {d.delivery.text} ({len(d.event_ids)} alert"
            f"{'s' if len(d.event_ids) != 1 else ''})"
            for d in self.digests
            if d.delivery.state != "sent"
        ]


def digests(pending: Sequence[PendingAlert]) -> list[tuple[str, list[PendingAlert]]]:
    """(recipient, alerts) for each digest to send, in a stable order."""
    groups: dict[tuple[datetime, str], tuple[str, dict[str, PendingAlert]]] = {}
    for alert in pending:
        for recipient in alert.recipients:
            key = (alert.batch or datetime.min, recipient.casefold())
            groups.setdefault(key, (recipient, {}))[1].setdefault(alert.event_id, alert)
    return [(groups[k][0], list(groups[k][1].values())) for k in sorted(groups)]


def deliver(
    pending: Sequence[PendingAlert], mailer: Mailer, settings: Email, now: datetime
) -> DeliveryReport:
    """Send every pending alert as digests and report each one's delivery.

    Nothing is sent when `pending` is empty. A transient failure leaves the digest pending
    (with the reason); a permanent one marks it failed for that recipient only.
    """
    report = DeliveryReport()
    unreachable = ""
    for recipient, alerts in digests(pending):
        msg = render_digest(recipient, alerts, sender=settings.sender, now=now)
        message_id = str(msg["Message-ID"])
        ids = tuple(a.event_id for a in alerts)
        if unreachable:
            delivery = Delivery.pending(f"not tried: {unreachable}")
        else:
            try:
                mailer.send(msg)
                delivery = SENT
            except DeliveryError as exc:
                refused: dict[str, str] = getattr(exc, "refused", {}) or {}
                reason = refused.get(recipient.casefold()) or str(exc)
                if getattr(exc, "permanent", False):
                    delivery = Delivery.failed(reason)
                else:
                    delivery = Delivery.pending(reason)
                    if not refused:
                        unreachable = reason
                log.warning("alert digest to %s not delivered: %s", recipient, delivery.text)
        report.digests.append(DigestResult(recipient, message_id, ids, delivery))
    return report
