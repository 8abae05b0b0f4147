"""Alerts people can trust, through the real CLI against loopback mail servers.

Nothing lost: a mail-settings mistake or a refused login leaves every alert pending (one
login per run), one recipient's 4xx defers only that recipient, and a tarpit server cannot
hold the run past its deadline. Nothing forged: the Alerts tab is not a queue, so a row a
person adds there never directs mail, and a bad cell never stops delivery. Nothing fake: a
dry run sends and records nothing.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from sheetsync.alerts import event_id
from sheetsync.alerts.events import EventKind
from sheetsync.cli import main
from tests.e2e.test_alerts_story import CLEAN_OKRS, alerts_rows
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config
from tests.integration.alerts.test_email_delivery import Inbox, free_port

PASSWORD = "c0rrect-Horse"


class Server:
    """An aiosmtpd server on 127.0.0.1 that can be restarted with other settings."""

    def __init__(self, inbox: Inbox | None = None) -> None:
        self.inbox = inbox or Inbox()
        self.port = free_port()
        self.auth_attempts = 0
        self.controller: Controller | None = None

    def _authenticate(self, server, session, envelope, mechanism, auth_data):
        self.auth_attempts += 1
        ok = isinstance(auth_data, LoginPassword) and auth_data == (
            b"sheetsync",
            PASSWORD.encode(),
        )
        return AuthResult(success=ok, handled=False)

    def start(self, *, auth: bool = False) -> Server:
        extra: dict[str, Any] = (
            {"authenticator": self._authenticate, "auth_require_tls": False} if auth else {}
        )
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **extra)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server():
    s = Server()
    yield s
    s.stop()


def email_toml(port: int, **settings: Any) -> str:
    base: dict[str, Any] = {
        "host": "127.0.0.1",
        "port": port,
        "security": "none",
        "sender": "sheetsync@example.com",
        "timeout": 5,
    }
    lines = [f"{k} = {v!r}".replace("'", '"') for k, v in (base | settings).items()]
    lines = [line.replace("True", "true").replace("False", "false") for line in lines]
    return "[email]\n" + "\n".join(lines) + "\n"


ALERTS_TOML = (
    '[alerts]\nsummary_to = ["lead@example.com"]\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
)


def setup(sheets, tmp_path: Path, email: str, alerts: str = ALERTS_TOML) -> Path:
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    return write_config(tmp_path, [entry], sheets.config_extra() + email + alerts)


def rewrite_email(config: Path, email: str) -> None:
    text = config.read_text()
    start = text.index("[email]")
    end = text.index("[alerts]")
    config.write_text(text[:start] + email + text[end:])


def run(config: Path, as_of: str, *extra: str) -> int:
    return main(["run", "--config", str(config), "--as-of", as_of, *extra])


def deliveries(sheets) -> list[str]:
    return [row["Delivery"] for row in alerts_rows(sheets)]


# Nothing lost


def test_starttls_not_offered_keeps_the_alert_pending_until_the_setting_is_fixed(
    sheets, tmp_path, server, capsys
):
    server.start()  # plain SMTP: no STARTTLS
    config = setup(sheets, tmp_path, email_toml(server.port, security="starttls"))

    assert run(config, "2026-11-15") == 1
    out = capsys.readouterr().out
    assert "does not offer STARTTLS" in out
    assert "1 alert still pending" in out
    assert all(d.startswith("dee@example.com: pending") for d in deliveries(sheets))
    assert run(config, "2026-11-16") == 1, "still broken: still pending, still exit 1"
    assert server.inbox.messages == []

    rewrite_email(config, email_toml(server.port, security="none"))
    assert run(config, "2026-11-17") == 0
    assert len(server.inbox.to("dee@example.com")) == 1
    assert len(server.inbox.to("lead@example.com")) == 1
    assert deliveries(sheets) == ["dee@example.com: sent; lead@example.com: sent"]
    assert run(config, "2026-11-18") == 0
    assert len(server.inbox.messages) == 2, "delivered exactly once"


def test_a_refused_password_is_tried_once_per_run_and_delivered_once_fixed(
    sheets, tmp_path, server, monkeypatch, capsys
):
    server.start(auth=True)
    monkeypatch.setenv("SHEETSYNC_SMTP_PASSWORD", "wrong-" + PASSWORD)
    config = setup(sheets, tmp_path, email_toml(server.port, username="sheetsync"))

    assert run(config, "2026-11-15") == 1
    out = capsys.readouterr().out
    assert "refused the login of 'sheetsync' (535" in out
    assert server.auth_attempts == 1, "two digests, one login: no account lockout"
    assert "wrong-" + PASSWORD not in out
    assert run(config, "2026-11-16") == 1
    assert server.auth_attempts == 2

    monkeypatch.setenv("SHEETSYNC_SMTP_PASSWORD", PASSWORD)
    assert run(config, "2026-11-17") == 0
    assert len(server.inbox.to("dee@example.com")) == 1
    assert len(server.inbox.to("lead@example.com")) == 1
    assert run(config, "2026-11-18") == 0
    assert len(server.inbox.messages) == 2


class Deferring(Inbox):
    """Answers RCPT for some addresses with 451 (mailbox busy) until told otherwise."""

    def __init__(self) -> None:
        super().__init__()
        self.busy_mailboxes: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.busy_mailboxes:
            return "451 4.2.1 mailbox busy, try later"
        return await super().handle_RCPT(server, session, envelope, address, rcpt_options)


def test_one_recipients_451_defers_only_that_recipient(excel_sheets, tmp_path, capsys):
    inbox = Deferring()
    inbox.busy_mailboxes = {"dee@example.com"}
    server = Server(inbox).start()
    try:
        config = setup(excel_sheets, tmp_path, email_toml(server.port))
        assert run(config, "2026-11-15") == 1
        out = capsys.readouterr().out
        assert "451 4.2.1 mailbox busy" in out
        assert len(inbox.to("lead@example.com")) == 1, "the lead does not wait for Dee"
        assert inbox.to("dee@example.com") == []
        [delivery] = deliveries(excel_sheets)
        assert delivery.startswith("dee@example.com: pending (451 4.2.1 mailbox busy")
        assert delivery.endswith("lead@example.com: sent")

        inbox.busy_mailboxes = set()
        assert run(config, "2026-11-16") == 0
        assert len(inbox.to("dee@example.com")) == 1
        assert len(inbox.to("lead@example.com")) == 1, "the lead's copy is not sent twice"
    finally:
        server.stop()


class Tarpit:
    """A mail server that never finishes its greeting: one byte every 0.2 s."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen()
        self.port = self.sock.getsockname()[1]
        self.closing = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.closing.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._trickle, args=(conn,), daemon=True).start()

    def _trickle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.sendall(b"220")
                for _ in range(3000):
                    if self.closing.wait(0.2):
                        return
                    conn.sendall(b"-")
            except OSError:
                return

    def close(self) -> None:
        self.closing.set()
        self.sock.close()


@pytest.fixture
def tarpit():
    pit = Tarpit()
    yield pit
    pit.close()


@pytest.mark.timeout(60)
def test_a_tarpit_server_cannot_hold_the_run_past_its_deadline(
    excel_sheets, tmp_path, tarpit, capsys
):
    config = setup(excel_sheets, tmp_path, email_toml(tarpit.port, timeout=2, deadline=3))
    started = time.monotonic()
    assert run(config, "2026-11-15") == 1
    assert time.monotonic() - started < 20
    out = capsys.readouterr().out
    assert "passed its deadline ([email] deadline)" in out
    assert "1 alert still pending" in out
    assert all("pending" in d for d in deliveries(excel_sheets))


@pytest.mark.timeout(60)
def test_sigterm_ends_a_run_stuck_on_a_tarpit_and_keeps_the_alerts_pending(
    excel_sheets, tmp_path, tarpit
):
    config = setup(excel_sheets, tmp_path, email_toml(tarpit.port, timeout=30, deadline=600))
    child = subprocess.Popen(
        [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config), "--as-of",
         "2026-11-15"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 30
        while not (tmp_path / "team.xlsx").exists() or not _alerts_logged(tmp_path / "team.xlsx"):
            assert time.monotonic() < deadline, "the run never logged its alerts"
            time.sleep(0.2)
        time.sleep(1)  # it is now waiting for the tarpit's greeting
        child.send_signal(signal.SIGTERM)
        out, _ = child.communicate(timeout=15)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 1
    assert "sheetsync was stopping (SIGTERM)" in out
    assert all("pending" in d for d in deliveries(excel_sheets))


def _alerts_logged(path: Path) -> bool:
    try:
        return "Alerts" in openpyxl.load_workbook(path, read_only=True).sheetnames
    except Exception:
        return False


def test_validate_lists_mail_settings_and_owners_that_would_lose_alerts(
    excel_sheets, tmp_path, monkeypatch, capsys
):
    monkeypatch.delenv("SHEETSYNC_SMTP_PASSWORD", raising=False)
    okrs = [list(row) for row in CLEAN_OKRS]
    okrs[2][3] = "Head of sales"
    okrs[3][3] = "ana(at)acme.test"
    config = setup(
        excel_sheets,
        tmp_path,
        email_toml(1025, username="sheetsync"),
        '[alerts]\n[alerts.owners]\n"Dee" = "dee@example.com"\n',
    )
    excel_sheets.create("team", {"OKRs": okrs, "KPIs": KPIS})
    before = excel_sheets.snapshot("team")

    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    out = capsys.readouterr().out
    assert "sheetsync validate as of 2026-11-15" in out and "dry run" not in out
    assert "username is set but there is no SMTP password" in out
    assert "SHEETSYNC_SMTP_PASSWORD" in out
    assert "Owner 'Head of sales' (1 item: S2) is not an e-mail address" in out
    assert "Owner 'ana(at)acme.test' (1 item: C1)" in out
    assert "Owner 'Ana'" in out  # KPI Revenue: a name nobody mapped
    assert excel_sheets.snapshot("team") == before


@pytest.mark.parametrize(
    ("alerts", "key", "message"),
    [
        ('summary_to = ["Head of sales"]', "alerts", "'Head of sales' is not an e-mail address"),
        ('summary_to = ["ana(at)acme.test"]', "alerts", "'ana(at)acme.test' is not an e-mail"),
        ('[alerts.owners]\n"Ana" = "ana at acme"', "alerts", "'ana at acme' is not an e-mail"),
        (
            '[alerts.teams.sales]\nobjectives = ["Grow revenue"]\nsummary_to = ["Head of sales"]',
            "alerts",
            "teams.sales.summary_to: 'Head of sales' is not an e-mail address",
        ),
        (
            'allowed_domains = ["acme.test"]\nsummary_to = ["boss@gmail.com"]',
            "alerts",
            "boss@gmail.com is outside allowed_domains",
        ),
    ],
)
def test_an_invalid_alert_address_is_a_configuration_error_before_any_night(
    excel_sheets, tmp_path, capsys, alerts, key, message
):
    config = setup(excel_sheets, tmp_path, email_toml(1025), f"[alerts]\n{alerts}\n")
    for command in ("validate", "run"):
        assert main([command, "--config", str(config)]) == 2
        err = capsys.readouterr().err
        assert f"key '{key}'" in err and message in err
    assert "Summary" not in excel_sheets.tabs("team"), "nothing was synced"


def test_a_sender_that_is_not_an_address_is_a_configuration_error(excel_sheets, tmp_path, capsys):
    config = setup(excel_sheets, tmp_path, email_toml(1025, sender="OKR bot"))
    assert main(["validate", "--config", str(config)]) == 2
    assert "key 'email.sender'" in capsys.readouterr().err


# Nothing forged


def append_row(sheets, tab: str, values: list[Any]) -> None:
    """A person appends a row to a tab (one edit, as they would paste it)."""
    rows = sheets.values("team", tab)
    if sheets.kind == "excel":
        book = openpyxl.load_workbook(sheets.path("team"))
        book[tab].append(values)
        book.save(sheets.path("team"))
    else:
        sheets.api.set_values(sheets.ids["team"], tab, f"A{len(rows) + 1}", [values])


NO_STATE_TAB = '[tabs]\nstate = ""\n'
"""Without the History state tab every night reads the Alerts log whole, so each of its rows is
checked (with the state tab, a night reads only its header: a row typed into the log is then
not read at all, see test_alerts_memory.py)."""


def test_a_forged_alerts_row_never_sends_mail_and_is_reported(sheets, tmp_path, server, capsys):
    server.start()
    config = setup(sheets, tmp_path, email_toml(server.port), ALERTS_TOML + NO_STATE_TAB)
    assert run(config, "2026-11-15") == 0
    assert len(server.inbox.messages) == 2

    real_id = event_id("team", "kpi", "Revenue", EventKind.ALERT, date(2026, 11, 16))
    append_row(sheets, "Alerts", [
        "2026-11-16 02:00:00", "team", "Retention", "Dee", "On track", "Off track",
        "Urgent: pay invoice 4471 at http://evil.test", "victim@outside.test", "pending",
        "alert-20261116-0123456789abcdef",
    ])  # fmt: skip
    append_row(sheets, "Alerts", [
        "2026-11-16 02:00:00", "team", "Revenue", "Ana", "On track", "Off track",
        "Wire the money today", "victim@outside.test, dee@example.com", "pending", real_id,
    ])  # fmt: skip

    code = run(config, "2026-11-16")
    out = capsys.readouterr().out
    assert server.inbox.to("victim@outside.test") == []
    assert len(server.inbox.messages) == 2, "nothing at all was sent for the forged rows"
    assert code == 1, "a forged row is reported"
    assert "Alerts!J4: the Event ID does not belong to 'Retention' in this workbook" in out
    assert "Alerts!J5" in out and "not sent" in out
    forged = deliveries(sheets)[1:]
    assert all(d.startswith("failed: not sent") or "failed: not sent" in d for d in forged)

    assert run(config, "2026-11-17") == 0, "reported once, then recorded as not sent"
    assert len(server.inbox.messages) == 2


def test_a_line_separator_in_an_event_id_is_skipped_and_the_others_still_go_out(
    sheets, tmp_path, server, capsys
):
    server.start()
    config = setup(sheets, tmp_path, email_toml(server.port), ALERTS_TOML + NO_STATE_TAB)
    assert run(config, "2026-11-15") == 0
    append_row(sheets, "Alerts", [
        "2026-11-16 02:00:00", "team", "Retention", "Dee", "On track", "Off track", "x",
        "dee@example.com", "pending", "alert-20261116-01234567\u202889abcde",
    ])  # fmt: skip
    sheets.edit("team", "KPIs", "G4", 5)  # First response 5 h: now Off track too

    assert run(config, "2026-11-16") == 1
    out = capsys.readouterr().out
    assert "Alerts!J4: not an Event ID sheetsync writes; not sent" in out
    assert [m["Subject"] for m in server.inbox.to("dee@example.com")][-1] == (
        "sheetsync: First response (h) is Off track"
    )


def test_an_owner_outside_the_allowed_domains_is_never_mailed(sheets, tmp_path, server, capsys):
    server.start()
    alerts = '[alerts]\nallowed_domains = ["example.com"]\nsummary_to = ["lead@example.com"]\n'
    kpis = [list(row) for row in KPIS]
    kpis[2][1] = "dee@gmail.test"  # Retention's Owner cell points outside the organisation
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": kpis})
    config = write_config(
        tmp_path, [entry], sheets.config_extra() + email_toml(server.port) + alerts
    )
    run(config, "2026-11-15")
    assert server.inbox.to("dee@gmail.test") == []
    assert len(server.inbox.to("lead@example.com")) == 1
    [row] = alerts_rows(sheets)
    assert row["Recipients"] == "lead@example.com"
    assert "not sent to dee@gmail.test (outside [alerts] allowed_domains)" in row["Delivery"]

    config.write_text(config.read_text() + '[alerts.owners]\n"Dee" = "dee@gmail.test"\n')
    assert run(config, "2026-11-16") == 2, "not even the config may point outside"
    assert "dee@gmail.test is outside allowed_domains" in capsys.readouterr().err


def test_plain_text_login_to_a_remote_host_is_refused(excel_sheets, tmp_path, capsys):
    email = email_toml(587, host="smtp.example.com", username="sheetsync")
    config = setup(excel_sheets, tmp_path, email.replace('"127.0.0.1"', '"smtp.example.com"'))
    assert main(["validate", "--config", str(config)]) == 2
    assert "unencrypted" in capsys.readouterr().err
    config.write_text(
        config.read_text().replace("[alerts]", "allow_plaintext_auth = true\n[alerts]", 1)
    )
    assert main(["validate", "--config", str(config)]) != 2, "allowed when said on purpose"
