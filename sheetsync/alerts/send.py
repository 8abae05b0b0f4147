"""Handing e-mails to the world: the `Mailer` port, SMTP, an outbox folder, and a memory double.

    Mailer.send(msg) -> None          raises DeliveryError (MailDeliveryError here)
    ├── SmtpMailer     smtplib: STARTTLS, implicit TLS or plain; bounded retries with backoff
    ├── OutboxMailer   writes <Message-ID>.eml files (dry runs, `outbox = "folder"`, the demo)
    └── MemoryMailer   keeps messages in a list; the test double

Failures are sorted the way the mail system means them: connection errors and 4xx replies are
transient (retried a few times, then the alert stays pending for the next run); 5xx replies
are permanent and name the refused recipients. The SMTP password is read only from the
environment variable or file the config names (`smtp_password`), and is never put into a log
line or an exception message.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import getaddresses
from pathlib import Path
from typing import Protocol

import tenacity

from sheetsync.config import Email
from sheetsync.core.errors import ConfigError, DeliveryError

log = logging.getLogger("sheetsync.alerts")


class MailDeliveryError(DeliveryError):
    """A message was not (fully) accepted.

    `permanent` says whether trying again later can help (False for connection errors and 4xx
    replies); `refused` maps each refused recipient (lower case) to the server's reason, when
    the server accepted the message for the others.
    """

    def __init__(
        self, message: str, *, permanent: bool, refused: Mapping[str, str] | None = None
    ) -> None:
        self.permanent = permanent
        self.refused = dict(refused or {})
        super().__init__(message)


class Mailer(Protocol):
    """Something that can hand one message to its recipients."""

    def send(self, msg: EmailMessage) -> None:
        """Deliver `msg` to every address in its To/Cc/Bcc headers, or raise DeliveryError."""
        ...


def smtp_password(
    settings: Email,
    *,
    base_dir: str | Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> str | None:
    """The SMTP password from `[email] password_file` (if set) or the `password_env` variable.

    A relative `password_file` is taken from `base_dir` (the config file's folder). Returns
    None when neither gives a password. The password is never part of an error message.
    """
    if settings.password_file:
        path = Path(settings.password_file).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = Path(base_dir) / path
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigError(
                f"cannot read the SMTP password file {str(path)!r}: {reason}",
                key="email.password_file",
            ) from None
        password = text.strip("\r\n")
        if not password:
            raise ConfigError(
                f"the SMTP password file {str(path)!r} is empty", key="email.password_file"
            )
        return password
    if settings.password_env:
        value = (os.environ if environ is None else environ).get(settings.password_env)
        return value or None
    return None


def recipients_of(msg: EmailMessage) -> list[str]:
    """The envelope recipients: every address in To, Cc and Bcc."""
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])]
    return [address for _name, address in getaddresses(fields) if address]


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code} {body}".split())


class SmtpMailer:
    """Sends over SMTP with the standard library: one connection per message.

    `attempts` and `backoff` bound the retries of transient failures (exponential backoff
    starting at `backoff` seconds, at most 30 s between tries); `ssl_context` verifies the
    server (default: the system's trusted CAs).
    """

    def __init__(
        self,
        settings: Email,
        password: str | None,
        *,
        attempts: int = 3,
        backoff: float = 2.0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> None:
        self.settings = settings
        self._password = password
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.ssl_context = ssl_context

    def __repr__(self) -> str:
        s = self.settings
        return f"SmtpMailer(host={s.host!r}, port={s.port}, security={s.security!r})"

    def _redact(self, text: str) -> str:
        """`text` with the password, and the encodings AUTH sends it in, blanked out."""
        password = self._password
        if not password:
            return text
        user = self.settings.username or ""
        secrets = {
            password,
            base64.b64encode(password.encode()).decode(),
            base64.b64encode(f"\0{user}\0{password}".encode()).decode(),
        }
        for secret in sorted(secrets, key=len, reverse=True):
            text = text.replace(secret, "***")
        return text

    def _error(
        self, message: str, *, permanent: bool, refused: Mapping[str, str] | None = None
    ) -> MailDeliveryError:
        clean = {k: self._redact(v) for k, v in (refused or {}).items()}
        return MailDeliveryError(self._redact(message), permanent=permanent, refused=clean)

    def send(self, msg: EmailMessage) -> None:
        """Send `msg`; retry transient failures, then raise MailDeliveryError."""
        message_id = str(msg.get("Message-ID", ""))

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0
            log.warning(
                "sending %s failed (%s); try %d of %d in %.0f s",
                message_id,
                exc,
                state.attempt_number + 1,
                self.attempts,
                wait,
            )

        retrying = tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.backoff, max=30)
            if self.backoff > 0
            else tenacity.wait_none(),
            retry=tenacity.retry_if_exception(
                lambda e: isinstance(e, MailDeliveryError) and not e.permanent and not e.refused
            ),
            before_sleep=before_sleep,
            reraise=True,
        )
        retrying(self._send_once, msg)

    def _context(self) -> ssl.SSLContext:
        return self.ssl_context or ssl.create_default_context()

    def _send_once(self, msg: EmailMessage) -> None:
        s = self.settings
        where = f"{s.host}:{s.port}"
        if not s.host:
            raise self._error(
                "no SMTP server configured: set [email] host, or [email] outbox to write the "
                "e-mails to a folder instead",
                permanent=True,
            )
        if s.username and self._password is None:
            hint = (
                f"the {s.password_env} environment variable" if s.password_env else "it"
            ) + " or [email] password_file"
            raise self._error(
                f"[email] username is set but there is no SMTP password: set {hint}",
                permanent=True,
            )
        recipients = recipients_of(msg)
        try:
            smtp: smtplib.SMTP
            if s.security == "ssl":
                smtp = smtplib.SMTP_SSL(s.host, s.port, timeout=s.timeout, context=self._context())
            else:
                smtp = smtplib.SMTP(s.host, s.port, timeout=s.timeout)
            with smtp:
                if s.security == "starttls":
                    smtp.starttls(context=self._context())
                if s.username:
                    smtp.login(s.username, self._password or "")
                refused = smtp.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPNotSupportedError as exc:
            raise self._error(
                f"{where} does not support {'STARTTLS' if s.security == 'starttls' else exc}; "
                'set [email] security = "ssl" (port 465) or "none"',
                permanent=True,
            ) from exc
        except smtplib.SMTPAuthenticationError as exc:
            raise self._error(
                f"{where} refused the login of {s.username!r} "
                f"({_reply(exc.smtp_code, exc.smtp_error)}); "
                "check [email] username and the password",
                permanent=True,
            ) from exc
        except smtplib.SMTPRecipientsRefused as exc:
            reasons = {r.casefold(): _reply(c, t) for r, (c, t) in exc.recipients.items()}
            permanent = any(c >= 500 for c, _t in exc.recipients.values())
            raise self._error(
                f"{where} refused every recipient: "
                + "; ".join(f"{r}: {why}" for r, why in reasons.items()),
                permanent=permanent,
                refused=reasons if permanent else None,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                f"{where} replied {_reply(exc.smtp_code, exc.smtp_error)}",
                permanent=exc.smtp_code >= 500,
            ) from exc
        except ssl.SSLError as exc:
            raise self._error(
                f"TLS with {where} failed ({exc.reason or exc}); check [email] security and port",
                permanent=True,
            ) from exc
        except (smtplib.SMTPException, OSError) as exc:
            reason = str(exc) or type(exc).__name__
            raise self._error(
                f"cannot reach the SMTP server {where}: {reason}", permanent=False
            ) from exc
        if refused:
            reasons = {r.casefold(): _reply(c, t) for r, (c, t) in refused.items()}
            raise self._error(
                f"{where} refused "
                + "; ".join(f"{r}: {why}" for r, why in reasons.items())
                + " (the other recipients got it)",
                permanent=all(c >= 500 for c, _t in refused.values()),
                refused=reasons,
            )
        log.info("sent %s to %s via %s", msg.get("Message-ID"), ", ".join(recipients), where)


def _file_name(msg: EmailMessage) -> str:
    message_id = str(msg.get("Message-ID", "")).strip().strip("<>")
    if not message_id:
        raise MailDeliveryError("the message has no Message-ID", permanent=True)
    return re.sub(r"[^A-Za-z0-9._-]", "_", message_id) + ".eml"


class OutboxMailer:
    """Writes each message to `folder/<Message-ID>.eml`: a re-send overwrites, never duplicates."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)

    def __repr__(self) -> str:
        return f"OutboxMailer({str(self.folder)!r})"

    def path_for(self, msg: EmailMessage) -> Path:
        return self.folder / _file_name(msg)

    def send(self, msg: EmailMessage) -> None:
        path = self.path_for(msg)
        tmp = path.with_suffix(".eml.tmp")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(msg.as_bytes())
            tmp.replace(path)
        except OSError as exc:
            raise MailDeliveryError(
                f"cannot write {str(path)!r}: {exc.strerror or exc}", permanent=False
            ) from exc
        log.info("wrote %s", path)


@dataclass
class MemoryMailer:
    """Keeps sent messages in `sent`; raises `fail_with` instead when it is set. For tests."""

    sent: list[EmailMessage] = field(default_factory=list)
    fail_with: DeliveryError | None = None

    def send(self, msg: EmailMessage) -> None:
        if self.fail_with is not None:
            raise self.fail_with
        self.sent.append(msg)
