"""Alert e-mails against a real SMTP server on 127.0.0.1 (aiosmtpd), night after night.

`Nightly` plays the runner: per workbook it plans the History and Alerts tabs, "writes" them
(keeps the grids), then delivers everything pending across workbooks and records the outcome,
exactly in the order the real run does, so a crash can be injected between send and record.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import logging
import socket
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sheetsync.alerts import (
    DeliveryReport,
    MailDeliveryError,
    Mailer,
    OutboxMailer,
    SmtpMailer,
    apply_delivery,
    parse_alert_log,
    plan_workbook_alerts,
    smtp_password,
)
from sheetsync.alerts.deliver import deliver
from sheetsync.backends.base import Grid
from sheetsync.config import Alerts, Email, Tabs
from sheetsync.core.errors import ConfigError, DeliveryError
from sheetsync.core.model import ItemState, Status

PASSWORD = "s3cret-Pa55word"
JAN5 = dt.date(2026, 1, 5)


# A loopback SMTP server


@dataclass
class Inbox:
    """The aiosmtpd handler: keeps every accepted message; refuses some recipients or DATA."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    busy: int = 0
    """Answer DATA with 451 this many times before accepting."""

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.refuse:
            return f"550 5.1.1 <{address}>: no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if self.busy:
            self.busy -= 1
            return "451 4.3.0 try again later"
        msg = email.message_from_bytes(envelope.content, policy=default_policy)
        self.messages.append(msg)  # type: ignore[arg-type]
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def to(self, address: str) -> list[EmailMessage]:
        return [
            m
            for m, (_f, rcpts) in zip(self.messages, self.envelopes, strict=True)
            if address in rcpts
        ]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = isinstance(auth_data, LoginPassword) and auth_data == (b"sheetsync", PASSWORD.encode())
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def inbox() -> Inbox:
    return Inbox()


@pytest.fixture
def smtp(inbox: Inbox) -> Iterator[int]:
    """A plain SMTP server that offers AUTH without TLS (loopback only); yields its port."""
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        authenticator=authenticator,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield port
    finally:
        controller.stop()


@dataclass
class Tls:
    server: ssl.SSLContext
    client: ssl.SSLContext


@pytest.fixture(scope="module")
def tls(tmp_path_factory) -> Tls:
    """A throwaway self-signed certificate for 127.0.0.1, and contexts that trust it."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    return Tls(server=server, client=ssl.create_default_context(cafile=str(cert_file)))


def email_settings(port: int, **kw) -> Email:
    base = dict(
        host="127.0.0.1",
        port=port,
        security="none",
        sender="sheetsync@example.com",
        timeout=5,
        password_env=None,
    )
    return Email(**(base | kw))


def mailer(port: int, **kw) -> SmtpMailer:
    return SmtpMailer(email_settings(port, **kw), None, attempts=2, backoff=0)


# The runner, in miniature


RULES = Alerts(summary_to=["lead@example.com"], owners={"Ana": "ana@example.com"})


def kpi(name: str, status: Status, value: float, owner: str = "Ana") -> ItemState:
    return ItemState(
        kind="kpi", key=name, name=name, status=status, owner=owner, value=value, target=100.0
    )


@dataclass
class Nightly:
    """Two workbooks' History and Alerts tabs, and the run sequence of the real runner."""

    email: Email
    rules: Alerts = RULES
    tabs: dict[str, dict[str, Grid | None]] = field(default_factory=dict)

    def run(
        self,
        day: int,
        items: dict[str, list[ItemState]],
        mailer: Mailer,
        *,
        crash_before_recording: bool = False,
    ) -> DeliveryReport:
        as_of = JAN5 + dt.timedelta(days=day)
        now = dt.datetime.combine(as_of, dt.time(2, 0))
        plans = {}
        for wb, wb_items in items.items():
            tabs = self.tabs.setdefault(wb, {"History": None, "Alerts": None})
            plan = plan_workbook_alerts(
                wb, f"/srv/{wb}.xlsx", tabs["History"], tabs["Alerts"], wb_items, as_of, now,
                self.rules, Tabs(),
            )  # fmt: skip
            tabs["History"] = plan.history_tab.rows
            tabs["Alerts"] = plan.alerts_tab.rows if plan.alerts_tab else None
            plans[wb] = plan
        pending = [p for plan in plans.values() for p in plan.pending]
        report = deliver(pending, mailer, self.email, now)
        if crash_before_recording:
            return report
        for wb, plan in plans.items():
            self.tabs[wb]["Alerts"] = apply_delivery(plan.alerts_tab, report, workbook=wb).rows
        return report

    def delivery(self, wb: str, item: str) -> list[str]:
        return [r.delivery_text for r in parse_alert_log(self.tabs[wb]["Alerts"]) if r.item == item]


def html_of(msg: EmailMessage) -> str:
    return msg.get_body(("html",)).get_content()


# Stories


def test_first_run_sends_one_multipart_digest_per_recipient_with_escaped_html(smtp, inbox):
    night = Nightly(email_settings(smtp))
    items = {
        "Sales": [kpi("Revenue", Status.OFF_TRACK, 40), kpi("<script>", Status.OFF_TRACK, 1)],
        "Marketing": [
            kpi("Visitors", Status.OFF_TRACK, 10, owner="bo@example.com"),
            kpi("Followers", Status.ON_TRACK, 99, owner="bo@example.com"),
        ],
    }
    report = night.run(0, items, mailer(smtp))

    assert len(report.sent) == 3 and report.problems == []
    assert sorted(rcpt for _f, [rcpt] in inbox.envelopes) == [
        "ana@example.com",
        "bo@example.com",
        "lead@example.com",
    ]
    [ana] = inbox.to("ana@example.com")
    assert ana.is_multipart() and ana.get_content_type() == "multipart/alternative"
    assert ana["Subject"] == "sheetsync: 2 need attention"
    html = html_of(ana)
    assert "&lt;script&gt;" in html and "<script>" not in html
    assert "Revenue" in html and "/srv/Sales.xlsx" in html
    assert "<script>" in ana.get_body(("plain",)).get_content()
    [lead] = inbox.to("lead@example.com")
    assert "Revenue" in html_of(lead) and "Visitors" in html_of(lead)  # everything
    assert "Followers" not in html_of(lead)  # nothing to say about it
    assert night.delivery("Sales", "Revenue") == ["ana@example.com: sent; lead@example.com: sent"]


def test_a_second_identical_run_sends_nothing_and_a_recovery_sends_the_notice(smtp, inbox):
    night = Nightly(email_settings(smtp), rules=Alerts(owners={"Ana": "ana@example.com"}))
    night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, mailer(smtp))
    assert len(inbox.messages) == 1

    report = night.run(1, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 41)]}, mailer(smtp))
    assert report.digests == [] and len(inbox.messages) == 1

    night.run(2, {"Sales": [kpi("Revenue", Status.ON_TRACK, 100)]}, mailer(smtp))
    assert len(inbox.messages) == 2
    assert inbox.messages[-1]["Subject"] == "sheetsync: Revenue is back to On track"


def test_smtp_down_for_a_night_delivers_once_the_next_night(smtp, inbox):
    night = Nightly(email_settings(smtp), rules=Alerts(owners={"Ana": "ana@example.com"}))
    down = mailer(free_port())  # nothing listens there

    report = night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, down)
    [digest] = report.pending
    assert digest.delivery.reason.startswith("cannot reach the SMTP server 127.0.0.1:")
    [text] = night.delivery("Sales", "Revenue")
    assert text.startswith("pending (cannot reach the SMTP server")

    report = night.run(1, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 41)]}, mailer(smtp))
    assert len(report.sent) == 1 and len(inbox.messages) == 1
    assert "Off track" in inbox.messages[0]["Subject"]
    assert night.delivery("Sales", "Revenue") == ["sent"]

    night.run(2, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 42)]}, mailer(smtp))
    assert len(inbox.messages) == 1


def test_server_down_raises_a_transient_delivery_error():
    msg = EmailMessage()
    msg["To"], msg["Message-ID"] = "ana@example.com", "<x@sheetsync>"
    msg.set_content("hi")
    with pytest.raises(DeliveryError) as caught:
        mailer(free_port()).send(msg)
    assert isinstance(caught.value, MailDeliveryError)
    assert caught.value.permanent is False


def test_a_recipient_refused_with_550_fails_for_that_recipient_only(smtp, inbox):
    inbox.refuse = {"bo@example.com"}
    night = Nightly(email_settings(smtp))
    items = {
        "Sales": [
            kpi("Revenue", Status.OFF_TRACK, 40),
            kpi("Leads", Status.OFF_TRACK, 3, owner="bo@example.com"),
        ]
    }
    report = night.run(0, items, mailer(smtp))

    [failed] = report.failed
    assert failed.recipient == "bo@example.com"
    assert "550 5.1.1" in failed.delivery.reason
    assert len(report.sent) == 2  # Ana and the lead
    [leads] = night.delivery("Sales", "Leads")
    assert leads.startswith("bo@example.com: failed: 550 5.1.1 <bo@example.com>: no such user")
    assert leads.endswith("lead@example.com: sent")
    # a permanent refusal is not retried night after night
    again = night.run(
        1, {"Sales": [kpi("Leads", Status.OFF_TRACK, 4, owner="bo@example.com")]}, mailer(smtp)
    )
    assert again.digests == []


def test_one_refused_recipient_of_a_message_does_not_stop_the_others(smtp, inbox):
    inbox.refuse = {"bo@example.com"}
    msg = EmailMessage()
    msg["From"], msg["To"] = "s@example.com", "ana@example.com, bo@example.com"
    msg["Message-ID"] = "<two@sheetsync>"
    msg.set_content("hello")
    with pytest.raises(MailDeliveryError) as caught:
        mailer(smtp).send(msg)
    assert caught.value.permanent is True
    assert list(caught.value.refused) == ["bo@example.com"]
    assert "the other recipients got it" in str(caught.value)
    assert inbox.envelopes == [("s@example.com", ["ana@example.com"])]


def test_a_busy_server_is_retried_and_the_message_arrives_once(smtp, inbox):
    inbox.busy = 1  # 451 on the first DATA
    night = Nightly(email_settings(smtp), rules=Alerts(owners={"Ana": "ana@example.com"}))
    report = night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, mailer(smtp))
    assert len(report.sent) == 1 and len(inbox.messages) == 1


def test_a_crash_between_send_and_record_resends_once_with_the_same_message_id(smtp, inbox):
    night = Nightly(email_settings(smtp), rules=Alerts(owners={"Ana": "ana@example.com"}))
    night.run(
        0,
        {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]},
        mailer(smtp),
        crash_before_recording=True,
    )
    assert night.delivery("Sales", "Revenue") == ["pending"]

    # next night a second item goes off track too: it travels in its own digest, so the
    # resent one is identical to the first and mail systems collapse the two
    night.run(
        1,
        {"Sales": [kpi("Revenue", Status.OFF_TRACK, 41), kpi("Churn", Status.OFF_TRACK, 9)]},
        mailer(smtp),
    )
    first, resent, churn = inbox.messages
    assert resent["Message-ID"] == first["Message-ID"]
    assert resent.get_body(("plain",)).get_content() == first.get_body(("plain",)).get_content()
    assert churn["Message-ID"] != first["Message-ID"] and "Churn" in churn["Subject"]

    night.run(
        2,
        {"Sales": [kpi("Revenue", Status.OFF_TRACK, 42), kpi("Churn", Status.OFF_TRACK, 8)]},
        mailer(smtp),
    )
    assert len(inbox.messages) == 3


def test_outbox_writes_one_eml_file_per_digest_and_a_resend_overwrites_it(tmp_path):
    outbox = OutboxMailer(tmp_path / "outbox")
    night = Nightly(email_settings(1))
    items = {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}
    night.run(0, items, outbox, crash_before_recording=True)
    night.run(0, items, outbox)
    files = sorted((tmp_path / "outbox").iterdir())
    assert [f.suffix for f in files] == [".eml", ".eml"]  # Ana and the lead, once each
    msg = email.message_from_bytes(files[0].read_bytes(), policy=default_policy)
    assert files[0].name == msg["Message-ID"].strip("<>").replace("@", "_") + ".eml"
    assert msg.get_body(("html",)) is not None


def test_starttls_with_login_delivers_over_an_encrypted_connection(inbox, tls):
    port = free_port()
    controller = Controller(
        inbox,
        hostname="127.0.0.1",
        port=port,
        tls_context=tls.server,
        require_starttls=True,
        authenticator=authenticator,
    )
    controller.start()
    try:
        settings = email_settings(port, security="starttls", username="sheetsync")
        sender = SmtpMailer(settings, PASSWORD, attempts=1, backoff=0, ssl_context=tls.client)
        night = Nightly(settings, rules=Alerts(owners={"Ana": "ana@example.com"}))
        report = night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, sender)
    finally:
        controller.stop()
    assert len(report.sent) == 1 and len(inbox.messages) == 1


def test_implicit_tls_delivers(inbox, tls):
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=tls.server)
    controller.start()
    try:
        settings = email_settings(port, security="ssl")
        sender = SmtpMailer(settings, None, attempts=1, backoff=0, ssl_context=tls.client)
        night = Nightly(settings, rules=Alerts(owners={"Ana": "ana@example.com"}))
        report = night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, sender)
    finally:
        controller.stop()
    assert len(report.sent) == 1


def test_an_untrusted_certificate_fails_the_session_and_is_not_a_refusal(inbox, tls):
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port, ssl_context=tls.server)
    controller.start()
    msg = EmailMessage()
    msg["To"], msg["Message-ID"] = "ana@example.com", "<x@sheetsync>"
    msg.set_content("hi")
    try:
        with pytest.raises(MailDeliveryError, match=r"TLS with 127\.0\.0\.1") as caught:
            SmtpMailer(email_settings(port, security="ssl"), None, attempts=1).send(msg)
    finally:
        controller.stop()
    assert caught.value.session is True and caught.value.permanent is False


def test_a_refused_login_stays_pending_is_tried_once_and_the_password_never_shows(
    smtp, inbox, caplog
):
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-" + PASSWORD
    settings = email_settings(smtp, username="sheetsync")
    sender = SmtpMailer(settings, wrong, attempts=3, backoff=0)
    night = Nightly(settings, rules=Alerts(owners={"Ana": "ana@example.com"}))
    report = night.run(0, {"Sales": [kpi("Revenue", Status.OFF_TRACK, 40)]}, sender)

    assert report.failed == []
    [pending] = report.pending
    assert "refused the login of 'sheetsync'" in pending.delivery.reason
    assert sender.logins == 1, "a wrong password is never retried within a run"
    assert inbox.messages == []
    logged = caplog.text + repr(sender) + str(night.tabs)
    assert wrong not in logged
    with pytest.raises(MailDeliveryError) as caught:
        sender.send(inbox_message())
    assert wrong not in str(caught.value) and wrong not in repr(caught.value)


def test_the_right_password_from_the_environment_logs_in(smtp, inbox, caplog):
    caplog.set_level(logging.DEBUG)
    settings = email_settings(smtp, username="sheetsync", password_env="SMTP_PW")
    password = smtp_password(settings, environ={"SMTP_PW": PASSWORD})
    assert password == PASSWORD
    SmtpMailer(settings, password, attempts=1).send(inbox_message())
    assert len(inbox.messages) == 1
    assert PASSWORD not in caplog.text


def test_password_comes_from_a_file_relative_to_the_config(tmp_path):
    (tmp_path / "smtp.pw").write_text(PASSWORD + "\n")
    settings = email_settings(1, password_file="smtp.pw", password_env="SMTP_PW")
    assert smtp_password(settings, base_dir=tmp_path, environ={"SMTP_PW": "other"}) == PASSWORD
    assert smtp_password(email_settings(1, password_env="SMTP_PW"), environ={}) is None


def test_a_missing_password_file_is_a_config_error_that_names_the_key(tmp_path):
    settings = email_settings(1, password_file=str(tmp_path / "missing.pw"))
    with pytest.raises(ConfigError, match=r"email\.password_file"):
        smtp_password(settings)


def test_username_without_a_password_says_where_to_put_it(smtp):
    settings = email_settings(smtp, username="sheetsync", password_env="SHEETSYNC_SMTP_PASSWORD")
    with pytest.raises(MailDeliveryError, match="SHEETSYNC_SMTP_PASSWORD") as caught:
        SmtpMailer(settings, None).send(inbox_message())
    assert caught.value.session is True and caught.value.permanent is False


def inbox_message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"], msg["To"] = "sheetsync@example.com", "ana@example.com"
    msg["Message-ID"] = "<direct@sheetsync>"
    msg.set_content("hello")
    return msg


def test_outbox_file_name_comes_from_the_message_id(tmp_path: Path):
    outbox = OutboxMailer(tmp_path)
    outbox.send(inbox_message())
    outbox.send(inbox_message())
    assert [p.name for p in tmp_path.iterdir()] == ["direct_sheetsync.eml"]


class OneMessagePerSession(Inbox):
    """Like servers that cap messages per connection: 421 to the second MAIL of a session."""

    sessions_seen: int = 0

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        count = getattr(session, "messages", 0)
        if count >= 1:
            return "421 4.7.0 too many messages in this session, reconnect"
        if count == 0:
            self.sessions_seen += 1
        session.messages = count + 1
        envelope.mail_from = address
        return "250 OK"


def test_a_server_that_closes_the_session_after_a_message_gets_a_new_session_for_the_rest():
    inbox = OneMessagePerSession()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        night = Nightly(email_settings(port))
        items = {
            "Sales": [
                kpi("Revenue", Status.OFF_TRACK, 40),
                kpi("Leads", Status.OFF_TRACK, 3, owner="bo@example.com"),
            ]
        }
        sender = SmtpMailer(email_settings(port), None, attempts=2, backoff=0)
        report = night.run(0, items, sender)
    finally:
        controller.stop()
    assert len(report.sent) == 3 and report.pending == []
    assert sorted(r for _f, [r] in inbox.envelopes) == [
        "ana@example.com", "bo@example.com", "lead@example.com"
    ]  # fmt: skip
    assert inbox.sessions_seen == 3
