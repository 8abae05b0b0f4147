"""Sending what is pending: one digest per recipient, and what became of every event.

Pending alerts are grouped by recipient and by the run that raised them (their `batch`), so a
digest that was sent before a crash is rebuilt from exactly the same events on the next run
and carries the same Message-ID; an event is never sent under two IDs. When the mail session
fails (server unreachable, TLS, login, deadline), the remaining digests are not tried (they
stay pending) rather than each waiting through its own retries or logging in again; one
recipient's refusal affects only that recipient.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sheetsync.alerts.chat import ChatPoster
from sheetsync.alerts.log import SENT, Delivery
from sheetsync.alerts.pending import PendingAlert
from sheetsync.alerts.recipients import CHAT_PREFIX, is_chat
from sheetsync.alerts.render import digest_message_id, render_chat, render_digest
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
        """(event id, recipient in lower case) -> delivery, for every event that was due.

        Built anew on each use (it covers every digest's events): take it once, not per event."""
        return {
            (event, d.recipient.casefold()): d.delivery
            for d in self.digests
            for event in d.event_ids
        }

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
    groups: dict[tuple[date, datetime, str], tuple[str, dict[str, PendingAlert]]] = {}
    for alert in pending:
        for recipient in alert.recipients:
            key = (alert.as_of or date.min, alert.batch or datetime.min, recipient.casefold())
            groups.setdefault(key, (recipient, {}))[1].setdefault(alert.event_id, alert)
    return [(groups[k][0], list(groups[k][1].values())) for k in sorted(groups)]


def deliver(
    pending: Sequence[PendingAlert],
    mailer: Mailer,
    settings: Email,
    now: datetime,
    *,
    stop: threading.Event | None = None,
    chat: ChatPoster | None = None,
    report_links: Mapping[str, str] | None = None,
) -> DeliveryReport:
    """Send every pending alert as digests and report each one's delivery.

    Nothing is sent when `pending` is empty. Only a recipient the server refused for good
    (5xx to RCPT) is marked failed; every other failure leaves the digest pending with its
    reason. A session failure (cannot connect, TLS, login, deadline) or `stop` (SIGTERM) leaves
    the remaining digests pending without trying them. A digest that cannot even be written
    (a bug, or data nobody expected) is reported and stays pending; it never stops the others.
    """
    report = DeliveryReport()
    unreachable = ""
    try:
        for recipient, alerts in digests(pending):
            ids = tuple(a.event_id for a in alerts)
            message_id = digest_message_id(recipient, ids)
            if not unreachable and stop is not None and stop.is_set():
                unreachable = "sheetsync was stopping (SIGTERM)"
            if is_chat(recipient):  # chat channels do not share the mail session's fate
                delivery = _post(recipient, alerts, chat, stop)
            elif unreachable:
                delivery = Delivery.pending(f"not tried: {unreachable}")
            else:
                delivery, session_failed = _send_one(
                    recipient, alerts, mailer, settings, now, report_links
                )
                if session_failed:
                    unreachable = delivery.reason
            report.digests.append(DigestResult(recipient, message_id, ids, delivery))
    finally:
        close = getattr(mailer, "close", None)
        if callable(close):
            close()
    return report


def _post(
    recipient: str,
    alerts: Sequence[PendingAlert],
    chat: ChatPoster | None,
    stop: threading.Event | None,
) -> Delivery:
    """Post one chat digest; any failure leaves it pending for that channel only."""
    if stop is not None and stop.is_set():
        return Delivery.pending("not tried: sheetsync was stopping (SIGTERM)")
    if chat is None:
        return Delivery.pending("no chat channels configured ([alerts.channels])")
    try:
        title, body = render_chat(alerts)
        chat.post(recipient.removeprefix(CHAT_PREFIX), title, body)
    except DeliveryError as exc:
        log.warning("alert post to %s not delivered: %s", recipient, exc)
        return Delivery.pending(str(exc))
    except Exception as exc:  # nothing read from a sheet may stop the other digests
        log.exception("cannot post the alert digest to %s", recipient)
        return Delivery.pending(f"the post could not be written ({type(exc).__name__})")
    return SENT


def _send_one(
    recipient: str,
    alerts: Sequence[PendingAlert],
    mailer: Mailer,
    settings: Email,
    now: datetime,
    report_links: Mapping[str, str] | None = None,
) -> tuple[Delivery, bool]:
    """The digest's delivery, and whether the mail session failed (nothing more can go)."""
    try:
        msg = render_digest(
            recipient, alerts, sender=settings.sender, now=now, report_links=report_links
        )
    except Exception as exc:  # nothing read from a sheet may stop the other digests
        log.exception("cannot write the alert digest to %s", recipient)
        return Delivery.pending(
            f"the e-mail could not be written ({type(exc).__name__}: {exc})"
        ), False
    try:
        mailer.send(msg)
    except DeliveryError as exc:
        key = recipient.casefold()
        refused: dict[str, str] = getattr(exc, "refused", {}) or {}
        deferred: dict[str, str] = getattr(exc, "deferred", {}) or {}
        if key in refused:
            delivery = Delivery.failed(refused[key])
        else:
            delivery = Delivery.pending(deferred.get(key) or str(exc))
        log.warning("alert digest to %s not delivered: %s", recipient, delivery.text)
        return delivery, bool(getattr(exc, "session", False))
    return SENT, False


def write_previews(
    pending: Sequence[PendingAlert],
    folder: Path,
    settings: Email,
    now: datetime,
    report_links: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write the digests a real run would send as `.eml` files into `folder` (a dry run's
    `--preview`). Each gets a preview Message-ID and an `X-Sheetsync-Preview` header, so a
    preview never passes for, or collapses with, the e-mail a real run sends."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number, (recipient, alerts) in enumerate(digests(pending), start=1):
        safe = re.sub(r"[^A-Za-z0-9@._-]", "_", recipient)
        if is_chat(recipient):
            title, body = render_chat(alerts)
            path = folder / f"{number:02d}-{safe}.txt"
            path.write_text(f"{title}\n\n{body}\n", encoding="utf-8")
            paths.append(path)
            continue
        try:
            msg = render_digest(
                recipient, alerts, sender=settings.sender, now=now, report_links=report_links
            )
        except Exception:  # reported like a real run would, never stops the other previews
            log.exception("cannot write the alert digest to %s", recipient)
            continue
        real = str(msg["Message-ID"])
        del msg["Message-ID"]
        msg["Message-ID"] = real.replace("<", "<preview-", 1)
        msg["X-Sheetsync-Preview"] = "dry run: not sent"
        path = folder / f"{number:02d}-{safe}.eml"
        path.write_bytes(msg.as_bytes())
        paths.append(path)
    return paths
