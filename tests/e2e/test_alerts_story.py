"""The nightly job emails owners once per change, with the workbook as its only memory.

Runs the real CLI against real workbooks (both backends) and a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import email
from datetime import date
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller

from sheetsync.alerts.cells import cell_date
from sheetsync.cli import main
from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import write_config
from tests.integration.alerts.test_email_delivery import Inbox, free_port

CLEAN_OKRS = [row for row in OKRS if row[0] != "S3"]


class Mailserver:
    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def mail():
    server = Mailserver()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def team(sheets, tmp_path, mail):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    extra = sheets.config_extra() + (
        f'[email]\nhost = "127.0.0.1"\nport = {mail.port}\nsecurity = "none"\n'
        'sender = "sheetsync@example.com"\n'
        '[alerts]\nsummary_to = ["lead@example.com"]\n'
        '[alerts.owners]\n"Dee" = "dee@example.com"\n'
    )
    return sheets, write_config(tmp_path, [entry], extra)


def run(config, as_of: str) -> int:
    return main(["run", "--config", str(config), "--as-of", as_of])


def alerts_rows(sheets):
    rows = sheets.values("team", "Alerts")
    header = rows[1]
    return [dict(zip(header, row, strict=False)) for row in rows[2:]]


def test_first_run_alerts_the_owner_and_the_lead_once_and_logs_it(team, mail):
    sheets, config = team
    assert run(config, "2026-11-15") == 0
    (to_dee,) = mail.inbox.to("dee@example.com")
    assert "Retention" in to_dee.get_body(("plain",)).get_content()
    assert len(mail.inbox.to("lead@example.com")) == 1
    (logged,) = alerts_rows(sheets)
    assert logged["To"] == "Off track"
    assert "sent" in logged["Delivery"]
    history = sheets.values("team", "History")
    assert history[0][0].startswith("Managed by sheetsync")
    on_the_day = [r for r in history[2:] if cell_date(r[0]) == date(2026, 11, 15)]
    assert len(on_the_day) == len(CLEAN_OKRS) - 1 + 3

    assert run(config, "2026-11-15") == 0, "the same night again"
    assert run(config, "2026-11-16") == 0, "the next night, still off track"
    assert len(mail.inbox.messages) == 2, "no email without a change"
    assert len(alerts_rows(sheets)) == 1


def test_a_recovery_sends_a_notice(team, mail):
    sheets, config = team
    run(config, "2026-11-15")
    sheets.edit("team", "KPIs", "G3", 0.9)
    run(config, "2026-11-16")
    notices = mail.inbox.to("dee@example.com")
    assert len(notices) == 2
    assert "recovered" in notices[-1]["Subject"].lower() or "back" in notices[-1]["Subject"].lower()


def test_mail_server_down_for_a_night_delivers_the_next_night_exactly_once(team, mail):
    sheets, config = team
    mail.stop()
    assert run(config, "2026-11-15") == 1, "an undelivered alert is a failure cron hears about"
    assert "pending" in alerts_rows(sheets)[0]["Delivery"]
    mail.start()
    assert run(config, "2026-11-16") == 0
    assert len(mail.inbox.to("dee@example.com")) == 1
    assert "sent" in alerts_rows(sheets)[0]["Delivery"]
    assert run(config, "2026-11-17") == 0
    assert len(mail.inbox.to("dee@example.com")) == 1


def test_dry_run_says_what_it_would_send_and_sends_writes_and_records_nothing(
    team, mail, tmp_path, capsys
):
    sheets, config = team
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15", "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Dry run: would send 1 alert to 2 people; nothing was sent or recorded." in out
    assert "sent," not in out
    assert mail.inbox.messages == []
    assert not (tmp_path / ".sheetsync" / "dry-run-outbox").exists()
    assert "Alerts" not in sheets.tabs("team")
    # the real run afterwards sends exactly what the dry run announced
    assert run(config, "2026-11-15") == 0
    assert len(mail.inbox.messages) == 2


def test_preview_writes_the_would_be_emails_to_the_folder_the_person_names(
    team, mail, tmp_path, capsys
):
    sheets, config = team
    folder = tmp_path / "look"
    args = ["run", "--config", str(config), "--as-of", "2026-11-15", "--preview", str(folder)]
    assert main(args) == 0
    assert "would send 1 alert to 2 people" in capsys.readouterr().out
    files = sorted(p.name for p in folder.iterdir())
    assert files == ["01-dee@example.com.eml", "02-lead@example.com.eml"]
    preview = email.message_from_bytes((folder / files[0]).read_bytes(), policy=default_policy)
    assert preview["X-Sheetsync-Preview"] == "dry run: not sent"
    assert "Retention" in preview.get_body(("plain",)).get_content()
    assert mail.inbox.messages == [] and "Alerts" not in sheets.tabs("team")
    assert run(config, "2026-11-15") == 0
    (real,) = mail.inbox.to("dee@example.com")
    assert real["Message-ID"] != preview["Message-ID"], "a preview never passes for the real one"


def test_a_google_run_with_alerts_costs_three_requests(sheets_api, service_account_file, tmp_path):
    """One read, one write logging the alerts as pending, one write recording their delivery:
    each alert is recorded before it is sent and after, so it is never sent twice nor lost."""
    from tests.e2e.workbooks import GoogleSheets

    sheets = GoogleSheets(sheets_api, service_account_file)
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    extra = sheets.config_extra() + (
        '[email]\noutbox = "outbox"\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
    )
    config = write_config(tmp_path, [entry], extra)
    sheets_api.reset_counts()

    assert run(config, "2026-11-15") == 0

    assert list((tmp_path / "outbox").glob("*.eml")), "an alert was sent"
    assert "sent" in alerts_rows(sheets)[0]["Delivery"]
    assert sheets_api.api_requests == 3
    assert sheets_api.counts == {"token": 1, "get": 1, "batchUpdate": 2}
