"""Chat as well as email: alerts posted to a team's channel, once per change, through the CLI.

The channel is a generic JSON webhook (Apprise's `json://`) served by a local HTTP server that
records every post; the URL's token is a secret and never shows in the output, the logs or
the sheet.
"""

from __future__ import annotations

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sheetsync.cli import main
from tests.e2e.test_alerts_story import CLEAN_OKRS, alerts_rows
from tests.e2e.test_alerts_trust import Server, email_toml, run
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import write_config
from tests.integration.alerts.test_email_delivery import free_port

TOKEN = "T0KEN-s3cret-9f8e7d6c"


class Webhook:
    """A local HTTP server that records the JSON posted to it; can be stopped and started."""

    def __init__(self) -> None:
        self.port = free_port()
        self.posts: list[tuple[str, dict]] = []
        self.server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        posts = self.posts

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                posts.append((self.path, json.loads(body)))
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


@pytest.fixture
def hook():
    h = Webhook()
    h.start()
    yield h
    h.stop()


@pytest.fixture
def mail():
    s = Server().start()
    yield s
    s.stop()


def config_for(sheets, tmp_path, hook: Webhook, mail: Server):
    entry = sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    alerts = (
        '[alerts]\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
        f'[alerts.channels]\nsupport = "json://127.0.0.1:{hook.port}/hooks/{TOKEN}"\n'
        '[alerts.teams.support]\nkpis = ["Retention"]\nchat = ["support"]\n'
    )
    return write_config(tmp_path, [entry], sheets.config_extra() + email_toml(mail.port) + alerts)


def test_a_team_channel_gets_its_alerts_once_and_the_token_never_shows(
    sheets, tmp_path, hook, mail, capsys, caplog
):
    caplog.set_level(logging.DEBUG)
    config = config_for(sheets, tmp_path, hook, mail)

    hook.stop()  # the chat service is down the first night
    assert run(config, "2026-11-15") == 1
    out = capsys.readouterr()
    assert len(mail.inbox.to("dee@example.com")) == 1, "e-mail does not wait for chat"
    [row] = alerts_rows(sheets)
    assert row["Recipients"] == "dee@example.com, chat:support"
    assert row["Delivery"].startswith("dee@example.com: sent; chat:support: pending (")

    hook.start()
    assert run(config, "2026-11-16") == 0
    [(path, post)] = hook.posts
    assert path == f"/hooks/{TOKEN}"
    assert post["title"] == "sheetsync: Retention is Off track"
    assert "Retention: Needs attention: Off track" in post["message"]
    assert alerts_rows(sheets)[0]["Delivery"] == "dee@example.com: sent; chat:support: sent"
    assert run(config, "2026-11-17") == 0
    assert len(hook.posts) == 1, "once per change"

    seen = out.out + out.err + capsys.readouterr().out + caplog.text
    seen += json.dumps(sheets.values("team", "Alerts"), default=str)
    assert TOKEN not in seen


def test_a_dry_run_counts_the_channel_and_previews_its_post(sheets, tmp_path, hook, mail, capsys):
    config = config_for(sheets, tmp_path, hook, mail)
    folder = tmp_path / "preview"
    args = ["run", "--config", str(config), "--as-of", "2026-11-15", "--preview", str(folder)]
    assert main(args) == 0
    assert "would send 1 alert to 1 person and 1 chat channel" in capsys.readouterr().out
    assert hook.posts == []
    post = (folder / "01-chat_support.txt").read_text()
    assert post.startswith("sheetsync: Retention is Off track")


def test_an_unknown_channel_is_a_configuration_error(excel_sheets, tmp_path, capsys):
    entry = excel_sheets.create("team", {"OKRs": CLEAN_OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], '[alerts]\nchat = ["sales"]\n')
    assert main(["validate", "--config", str(config)]) == 2
    assert "no channel 'sales' under [alerts.channels]" in capsys.readouterr().err
