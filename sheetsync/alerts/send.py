"""Handing e-mails to the world: the `Mailer` port, SMTP, an outbox folder, and a memory double.

    Mailer.send(msg) -> None          raises DeliveryError (MailDeliveryError here)
    ├── SmtpMailer     smtplib: one session per run (one login), STARTTLS, implicit TLS or plain
    ├── OutboxMailer   writes <Message-ID>.eml files (`outbox = "folder"`, the demo)
    └── MemoryMailer   keeps messages in a list; the test double

A mailer may also have `close()`, which `deliver` calls when it is done.

Failures are sorted by what they mean for each recipient. Only a 5xx reply to RCPT for an
address is a refusal for good (`refused`): that recipient is marked failed. Everything else
leaves the alert pending for the next run: a 4xx to RCPT defers that one recipient
(`deferred`); a refused message (DATA) defers that one message; and a *session* failure
(cannot connect, no STARTTLS, TLS, a refused login, no password, the session deadline,
SIGTERM) means nothing more can be sent in this run, so the login is never retried. The SMTP
password is read only from the environment variable or file the config names
(`smtp_password`), and is never put into a log line or an exception message.
"""

from __future__ import annotations

import base64
import contextlib
import logging
import os
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from sheetsync.config import Email
from sheetsync.core.errors import ConfigError, DeliveryError

# smtplib, ssl and tenacity are imported by the SMTP session that uses them: a run builds its
# SmtpMailer before any workbook (to check the password), and most nights send nothing.
if TYPE_CHECKING:
    import smtplib
    import ssl
    from email.message import EmailMessage

    import tenacity

log = logging.getLogger("sheetsync.alerts")


class MailDeliveryError(DeliveryError):
    """A message was not (fully) accepted.

    `refused` maps each recipient (lower case) the server refused for good (5xx to RCPT) to
    its reason; `deferred` those it refused for now (4xx). `session` says that nothing more
    can be sent in this run (connection, TLS, login, settings, deadline). `retryable` marks a
    message-level answer worth one more try within the session (a 4xx to DATA).
    """

    def __init__(
        self,
        message: str,
        *,
        refused: Mapping[str, str] | None = None,
        deferred: Mapping[str, str] | None = None,
        session: bool = False,
        retryable: bool = False,
    ) -> None:
        self.refused = dict(refused or {})
        self.deferred = dict(deferred or {})
        self.session = session
        self.retryable = retryable
        super().__init__(message)

    @property
    def permanent(self) -> bool:
        """True when trying again later cannot help any recipient (all refused for good)."""
        return bool(self.refused) and not self.deferred and not self.session


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


def missing_password_hint(settings: Email) -> str:
    """Where a password for `[email] username` can come from, for messages."""
    where = f"the {settings.password_env} environment variable" if settings.password_env else ""
    return f"set {where + ' or ' if where else ''}[email] password_file"


def recipients_of(msg: EmailMessage) -> list[str]:
    """The envelope recipients: every address in To, Cc and Bcc."""
    fields = [str(v) for h in ("To", "Cc", "Bcc") for v in msg.get_all(h, [])]
    return [address for _name, address in getaddresses(fields) if address]


def _reply(code: int, text: bytes | str) -> str:
    body = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return " ".join(f"{code} {body}".split())


class _Watchdog:
    """Cuts the SMTP connection when the session deadline passes or `stop` is set (SIGTERM).

    smtplib's `timeout` bounds each read, not the session: a server that answers one byte at
    a time (a tarpit) would hold the run, and its lock, for ever. Shutting the socket down
    makes the blocked read return at once.
    """

    def __init__(self, deadline: float, stop: threading.Event | None, what: str) -> None:
        self.deadline = deadline
        self.stop = stop
        self.what = what
        self.reason = ""
        self.smtp: smtplib.SMTP | None = None
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="smtp-deadline", daemon=True)
        self._thread.start()

    def _expired(self) -> str:
        if self.stop is not None and self.stop.is_set():
            return "sheetsync was stopping (SIGTERM)"
        if time.monotonic() >= self.deadline:
            return f"the SMTP session with {self.what} passed its deadline ([email] deadline)"
        return ""

    def check(self) -> None:
        reason = self.reason or self._expired()
        if reason:
            self.reason = reason
            raise MailDeliveryError(reason, session=True)

    def _watch(self) -> None:
        while not self._done.wait(0.1):
            reason = self.reason or self._expired()
            if not reason:
                continue
            self.reason = reason
            sock = getattr(self.smtp, "sock", None)
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def close(self) -> None:
        self._done.set()


MAX_RECONNECTS = 3
"""New sessions a run may open after a server closed one mid-run."""

_MECHANISMS = ("PLAIN", "LOGIN", "CRAM-MD5")
"""AUTH mechanisms in order of preference (over TLS, PLAIN is what servers expect)."""


class SmtpMailer:
    """Sends over SMTP with the standard library: one connection and one login per run.

    The connection opens on the first `send` and is reused until `close()`; a session failure
    (see the module docstring) is remembered and raised again at once for every later message,
    so a wrong password is tried once per run, not once per digest. Connecting is retried
    `attempts` times with exponential backoff from `backoff` seconds, and so is a 4xx answer to
    a message; everything is bounded by `[email] deadline` for the whole session. `stop`
    (SIGTERM) ends the session at once. `ssl_context` verifies the server (default: the
    system's trusted CAs).
    """

    def __init__(
        self,
        settings: Email,
        password: str | None,
        *,
        attempts: int = 3,
        backoff: float = 2.0,
        ssl_context: ssl.SSLContext | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.settings = settings
        self._password = password
        self.attempts = max(1, attempts)
        self.backoff = backoff
        self.ssl_context = ssl_context
        self.stop = stop
        self.logins = 0
        """How many times this mailer sent AUTH (one per run at most)."""
        self._smtp: smtplib.SMTP | None = None
        self._sent_on_connection = 0
        self._reconnects = 0
        self._failure: MailDeliveryError | None = None
        self._watchdog: _Watchdog | None = None

    def __repr__(self) -> str:
        s = self.settings
        return f"SmtpMailer(host={s.host!r}, port={s.port}, security={s.security!r})"

    @property
    def where(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

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
        self,
        message: str,
        *,
        refused: Mapping[str, str] | None = None,
        deferred: Mapping[str, str] | None = None,
        session: bool = False,
        retryable: bool = False,
    ) -> MailDeliveryError:
        return MailDeliveryError(
            self._redact(message),
            refused={k: self._redact(v) for k, v in (refused or {}).items()},
            deferred={k: self._redact(v) for k, v in (deferred or {}).items()},
            session=session,
            retryable=retryable,
        )

    def _retrying(self, what: str, *, connecting: bool = False) -> tenacity.Retrying:
        """Bounded retries with backoff: of connecting (`connecting`), else of a message-level
        4xx within the session; never of a login or a lost session."""
        import tenacity

        def before_sleep(state: tenacity.RetryCallState) -> None:
            exc = state.outcome.exception() if state.outcome else None
            wait = state.next_action.sleep if state.next_action else 0
            log.warning(
                "%s failed (%s); try %d of %d in %.0f s",
                what,
                exc,
                state.attempt_number + 1,
                self.attempts,
                wait,
            )

        watchdog = self._watchdog
        left = (lambda: watchdog.deadline - time.monotonic()) if watchdog else (lambda: 1e9)
        return tenacity.Retrying(
            stop=tenacity.stop_after_attempt(self.attempts),
            wait=tenacity.wait_exponential(multiplier=self.backoff, max=30)
            if self.backoff > 0
            else tenacity.wait_none(),
            retry=tenacity.retry_if_exception(
                lambda e: (
                    isinstance(e, MailDeliveryError)
                    and e.retryable
                    and (connecting or not e.session)
                    and left() > 0
                )
            ),
            before_sleep=before_sleep,
            sleep=self._sleep,
            reraise=True,
        )

    def _sleep(self, seconds: float) -> None:
        """Back off, but never past the deadline and not once SIGTERM arrived."""
        watchdog = self._watchdog
        if watchdog is not None:
            seconds = max(0.0, min(seconds, watchdog.deadline - time.monotonic()))
        if self.stop is not None:
            self.stop.wait(seconds)
        else:
            time.sleep(seconds)
        if watchdog is not None:
            watchdog.check()

    def _context(self) -> ssl.SSLContext:
        import ssl

        return self.ssl_context or ssl.create_default_context()

    def send(self, msg: EmailMessage) -> None:
        """Send `msg` over the run's session; raise MailDeliveryError (see the module doc)."""
        if self._failure is not None:
            raise self._failure
        while True:
            try:
                smtp = self._session()
                self._retrying(f"sending {msg.get('Message-ID', '')}")(self._transact, smtp, msg)
                self._sent_on_connection += 1
                return
            except MailDeliveryError as exc:
                if exc.session and self._may_reconnect(exc):
                    log.info("%s; connecting again", exc)
                    continue
                if exc.session:
                    self._failure = exc
                    self._drop()
                raise

    def _may_reconnect(self, exc: MailDeliveryError) -> bool:
        """A server that closes a session after some messages (421, or just hanging up) gets a
        new session, and a new login, for the rest: at most `MAX_RECONNECTS` per run."""
        if not exc.retryable or not self._sent_on_connection:
            return False
        if self._reconnects >= MAX_RECONNECTS:
            return False
        self._drop()
        self._reconnects += 1
        return True

    def close(self) -> None:
        """End the session (QUIT) and stop the deadline watch."""
        if self._smtp is not None:
            import smtplib

            with contextlib.suppress(smtplib.SMTPException, OSError):
                self._smtp.quit()
        self._drop()
        if self._watchdog is not None:
            self._watchdog.close()

    def _drop(self) -> None:
        self._sent_on_connection = 0
        if self._smtp is not None:
            with contextlib.suppress(OSError):
                self._smtp.close()
        self._smtp = None

    def _session(self) -> smtplib.SMTP:
        if self._smtp is not None:
            return self._smtp
        s = self.settings
        if not s.host:
            raise self._error(
                "no SMTP server configured: set [email] host, or [email] outbox to write the "
                "e-mails to a folder instead",
                session=True,
            )
        if s.username and self._password is None:
            raise self._error(
                f"[email] username is set but there is no SMTP password: "
                f"{missing_password_hint(s)}",
                session=True,
            )
        if self._watchdog is None:
            self._watchdog = _Watchdog(time.monotonic() + s.deadline, self.stop, self.where)
        self._smtp = self._retrying(f"connecting to {self.where}", connecting=True)(self._connect)
        return self._smtp

    def _connect(self) -> smtplib.SMTP:
        import smtplib

        s = self.settings
        watchdog = self._watchdog
        assert watchdog is not None
        watchdog.check()
        smtp: smtplib.SMTP
        if s.security == "ssl":
            smtp = smtplib.SMTP_SSL(timeout=s.timeout, context=self._context())
        else:
            smtp = smtplib.SMTP(timeout=s.timeout)
        # Connecting after construction lets the watchdog reach the socket while the greeting
        # is awaited; TLS checks the certificate against `_host`, which only the constructor
        # sets.
        smtp._host = s.host  # type: ignore[attr-defined]
        watchdog.smtp = smtp
        try:
            smtp.connect(s.host, s.port)
            if s.security == "starttls":
                smtp.starttls(context=self._context())
            if s.username:
                self._login(smtp, s.username, self._password or "")
            return smtp
        except Exception as exc:
            with contextlib.suppress(OSError):
                smtp.close()
            watchdog.check()
            raise self._session_error(exc) from exc

    def _login(self, smtp: smtplib.SMTP, username: str, password: str) -> None:
        """One AUTH command with the best mechanism offered (`SMTP.login` tries each in turn,
        so one wrong password would count as several failed logins against the account)."""
        smtp.ehlo_or_helo_if_needed()
        offered = smtp.esmtp_features.get("auth", "").upper().split()
        mechanism = next((m for m in _MECHANISMS if m in offered), None)
        if mechanism is None:
            raise self._error(
                f"{self.where} offers no login this client supports (it offers "
                f"{' '.join(offered) or 'none'}); check [email] security and port",
                session=True,
            )
        smtp.user, smtp.password = username, password
        self.logins += 1
        method = getattr(smtp, "auth_" + mechanism.lower().replace("-", "_"))
        smtp.auth(mechanism, method)

    def _session_error(self, exc: BaseException) -> MailDeliveryError:
        import smtplib
        import ssl

        s, where = self.settings, self.where
        if isinstance(exc, MailDeliveryError):
            return exc
        if isinstance(exc, smtplib.SMTPNotSupportedError):
            what = "STARTTLS" if s.security == "starttls" else str(exc)
            return self._error(
                f'{where} does not offer {what}; set [email] security = "ssl" (port 465), or '
                '"none" on a trusted network',
                session=True,
            )
        if isinstance(exc, smtplib.SMTPAuthenticationError):
            return self._error(
                f"{where} refused the login of {s.username!r} "
                f"({_reply(exc.smtp_code, exc.smtp_error)}); check [email] username and the "
                "password",
                session=True,
            )
        if isinstance(exc, ssl.SSLError):
            return self._error(
                f"TLS with {where} failed ({exc.reason or exc}); check [email] security and port",
                session=True,
            )
        if isinstance(exc, smtplib.SMTPResponseException):
            return self._error(
                f"{where} replied {_reply(exc.smtp_code, exc.smtp_error)}", session=True
            )
        reason = str(exc) or type(exc).__name__
        error = self._error(f"cannot reach the SMTP server {where}: {reason}", session=True)
        error.retryable = isinstance(exc, OSError | smtplib.SMTPServerDisconnected)
        return error

    def _transact(self, smtp: smtplib.SMTP, msg: EmailMessage) -> None:
        import smtplib

        where = self.where
        watchdog = self._watchdog
        assert watchdog is not None
        recipients = recipients_of(msg)
        try:
            watchdog.check()
            refused = smtp.send_message(msg, to_addrs=recipients)
        except smtplib.SMTPRecipientsRefused as exc:
            for_good = {
                r.casefold(): _reply(c, t) for r, (c, t) in exc.recipients.items() if c >= 500
            }
            for_now = {
                r.casefold(): _reply(c, t) for r, (c, t) in exc.recipients.items() if c < 500
            }
            raise self._error(
                f"{where} refused "
                + "; ".join(f"{r}: {why}" for r, why in (for_good | for_now).items()),
                refused=for_good,
                deferred=for_now,
            ) from exc
        except smtplib.SMTPSenderRefused as exc:
            if exc.smtp_code == 421:  # the server is closing this session, e.g. enough messages
                raise self._error(
                    f"{where} closed the session ({_reply(exc.smtp_code, exc.smtp_error)})",
                    session=True,
                    retryable=True,
                ) from exc
            raise self._error(
                f"{where} refused the sender {self.settings.sender!r} "
                f"({_reply(exc.smtp_code, exc.smtp_error)}); check [email] sender",
                session=True,
            ) from exc
        except smtplib.SMTPResponseException as exc:
            raise self._error(
                f"{where} did not accept the message ({_reply(exc.smtp_code, exc.smtp_error)})",
                retryable=exc.smtp_code < 500,
            ) from exc
        except MailDeliveryError:
            raise
        except (smtplib.SMTPException, OSError) as exc:
            watchdog.check()
            reason = str(exc) or type(exc).__name__
            raise self._error(
                f"lost the connection to the SMTP server {where}: {reason}",
                session=True,
                retryable=True,
            ) from exc
        if refused:
            for_good = {r.casefold(): _reply(c, t) for r, (c, t) in refused.items() if c >= 500}
            for_now = {r.casefold(): _reply(c, t) for r, (c, t) in refused.items() if c < 500}
            raise self._error(
                f"{where} refused "
                + "; ".join(f"{r}: {why}" for r, why in (for_good | for_now).items())
                + " (the other recipients got it)",
                refused=for_good,
                deferred=for_now,
            )
        log.info("sent %s to %s via %s", msg.get("Message-ID"), ", ".join(recipients), where)


def _file_name(msg: EmailMessage) -> str:
    message_id = str(msg.get("Message-ID", "")).strip().strip("<>")
    if not message_id:
        raise MailDeliveryError("the message has no Message-ID")
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
                f"cannot write {str(path)!r}: {exc.strerror or exc}", session=True
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
