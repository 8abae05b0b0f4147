"""The command line as cron and a person use it: exit codes, --json, lock, heartbeat, demo."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import openpyxl
import pytest

from sheetsync.cli import build_parser, main
from sheetsync.ops.lock import run_lock
from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import ExcelSheets, write_config


@pytest.fixture
def excel(tmp_path):
    return ExcelSheets(tmp_path)


def test_json_output_has_the_documented_schema(excel, tmp_path, capsys):
    config = write_config(tmp_path, [excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})])
    code = main(["run", "--config", str(config), "--as-of", "2026-11-15", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == out["exit_code"] == 1
    assert set(out) == {
        "as_of", "dry_run", "exit_code", "failure", "invalid_rows", "invalid_rows_policy",
        "duration_seconds", "alerts", "workbooks",
    }  # fmt: skip
    assert (out["failure"], out["invalid_rows"], out["invalid_rows_policy"]) == (
        "invalid_rows",
        1,
        "fail",
    )
    (wb,) = out["workbooks"]
    assert set(wb) >= {
        "name", "ok", "error", "objectives", "key_results", "kpis", "invalid_rows", "problems",
        "wrote", "cells_changed", "alerts_raised", "alerts_sent", "api_requests",
        "duration_seconds",
    }  # fmt: skip
    assert wb["key_results"]["Invalid"] == 1
    assert wb["kpis"] == {"At risk": 1, "Off track": 1, "On track": 1}
    assert set(out["alerts"]) == {
        "sent", "failed", "pending", "no_recipient", "not_sent", "would_send", "would_reach",
        "would_post",
        "errors",
        "setting_problems",
    }  # fmt: skip


def test_clean_workbook_exits_zero(excel, tmp_path):
    okrs = [row for row in OKRS if row[0] != "S3"]
    config = write_config(tmp_path, [excel.create("team", {"OKRs": okrs, "KPIs": KPIS})])
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0


def test_bad_config_exits_two_and_names_the_key(tmp_path, capsys):
    config = tmp_path / "bad.toml"
    config.write_text('[[workbooks]]\nname = "x"\npth = "a.xlsx"\n')
    assert main(["run", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "bad.toml" in err and "workbooks.0.pth" in err


def test_missing_config_file_exits_two(tmp_path):
    assert main(["run", "--config", str(tmp_path / "nope.toml")]) == 2


def test_a_second_run_while_one_holds_the_lock_exits_three(excel, tmp_path, capsys):
    config = write_config(tmp_path, [excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})])
    with run_lock(tmp_path / ".sheetsync"):
        assert main(["run", "--config", str(config)]) == 3
    assert "another sheetsync run is in progress" in capsys.readouterr().err
    assert "Summary" not in excel.tabs("team")


def test_validate_lists_every_problem_and_writes_nothing(excel, tmp_path, capsys):
    config = write_config(tmp_path, [excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})])
    before = excel.snapshot("team")
    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    assert "OKRs!H4" in capsys.readouterr().out
    assert excel.snapshot("team") == before


class _Pings(BaseHTTPRequestHandler):
    received: ClassVar[list[tuple[str, str]]] = []

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0))).decode()
        self.received.append((self.path, body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def heartbeat_server():
    _Pings.received = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Pings)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/ping/sheetsync", _Pings.received
    server.shutdown()


def test_heartbeat_is_pinged_with_success_and_with_failure(excel, tmp_path, heartbeat_server):
    url, received = heartbeat_server
    okrs = [row for row in OKRS if row[0] != "S3"]
    good = excel.create("good", {"OKRs": okrs, "KPIs": KPIS})
    extra = f'[schedule]\nheartbeat_url = "{url}"\n'
    config = write_config(tmp_path, [good], extra)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    assert received[-1][0] == "/ping/sheetsync"
    broken = excel.create("broken", {"Goals": OKRS})
    config = write_config(tmp_path, [good, broken], extra)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    path, body = received[-1]
    assert path == "/ping/sheetsync/fail"
    assert "broken: FAILED" in body


def test_init_writes_a_template_with_dropdowns_and_examples(tmp_path):
    path = tmp_path / "team.xlsx"
    assert main(["init", str(path)]) == 0
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["OKRs", "KPIs", "How to use"]
    okrs = book["OKRs"]
    assert okrs["C1"].value == "Key Result"
    assert okrs.max_row > 5
    lists = [dv.formula1 for dv in okrs.data_validations.dataValidation]
    assert '"metric,milestone,stay above,stay below"' in lists
    assert main(["init", str(path)]) == 2, "never overwrites an existing file"


def test_the_template_syncs_cleanly(tmp_path):
    path = tmp_path / "team.xlsx"
    main(["init", str(path)])
    config = write_config(tmp_path, [{"name": "team", "path": str(path)}])
    assert main(["run", "--config", str(config)]) == 0


def test_demo_needs_no_credentials_and_leaves_the_emails_in_an_outbox(tmp_path, capsys):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder)]) == 0
    assert (folder / "okrs-demo.xlsx").exists()
    emails = list((folder / "outbox").glob("*.eml"))
    assert emails, "the demo shows the alert emails"
    book = openpyxl.load_workbook(folder / "okrs-demo.xlsx")
    assert {"Summary", "History", "Alerts"} <= set(book.sheetnames)
    # A second workbook cascades into the first on the first run, and the report shows it.
    tree = [row[0] for row in book["Summary"].iter_rows(values_only=True)]
    assert "    ↳ Win the EMEA mid-market" in tree and "    ↳ Happier EMEA customers" in tree
    report = folder / "report"
    assert sorted(p.name for p in report.glob("*.html")) == [
        "company-okrs-demo.html",
        "emea-sales-demo.html",
        "index.html",
    ]
    assert "Win the EMEA mid-market" in (report / "company-okrs-demo.html").read_text()
    assert "The report page:" in capsys.readouterr().out
    assert main(["demo", "--dir", str(folder)]) == 0, "running the demo twice is fine"
    assert len(list((folder / "outbox").glob("*.eml"))) == len(emails), "no duplicate alerts"


def test_every_command_has_help_and_an_example():
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():
        assert command.description and "Example:" in command.description, name
        assert any(choice.dest == name for choice in sub._choices_actions), name


def test_serve_logs_its_next_run_and_stops_cleanly_on_sigterm(excel, tmp_path):
    import signal
    import subprocess
    import sys
    import time

    entry = excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    extra = '[schedule]\nat = "03:30"\ntimezone = "Europe/Oslo"\n'
    config = write_config(tmp_path, [entry], extra)
    proc = subprocess.Popen(
        [sys.executable, "-m", "sheetsync.cli", "serve", "--config", str(config)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 20
        seen = ""
        while "next run at" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.readline()
        assert "next run at" in seen and "03:30" in seen
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
    finally:
        proc.kill()


def test_invalid_rows_can_warn_so_exit_one_means_the_job_is_broken(
    excel, tmp_path, heartbeat_server, capsys
):
    """A person's typo is reported everywhere but does not fail the nightly job."""
    url, received = heartbeat_server
    team = excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    extra = (
        f'[run]\ninvalid_rows = "warn"\n[schedule]\nheartbeat_url = "{url}"\n'
        '[email]\noutbox = "outbox"\n[alerts]\nstale_after_days = 1\n'
        '[alerts.owners]\n"Ben" = "ben@example.com"\n'
    )
    config = write_config(tmp_path, [team], extra)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-14"]) == 0
    capsys.readouterr()
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["exit_code"], out["failure"], out["invalid_rows"]) == (0, None, 1)
    assert out["invalid_rows_policy"] == "warn"
    assert any("H4" in p and "lots" in p for p in out["workbooks"][0]["problems"])
    assert received[-1][0] == "/ping/sheetsync", "the heartbeat reports success"
    summary = "\n".join(str(v) for row in excel.values("team", "Summary") for v in row if v)
    assert "H4" in summary, "the problem is on the Summary tab"
    mails = [p.read_text() for p in (tmp_path / "outbox").glob("*.eml")]
    to_ben = [m for m in mails if "To: ben@example.com" in m]
    assert to_ben and "Subject: sheetsync: S3 " in to_ben[0], "its owner hears of it"

    broken = excel.create("broken", {"Goals": OKRS})
    config = write_config(tmp_path, [team, broken], extra)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15", "--json"]) == 1
    out = json.loads(capsys.readouterr().out)
    assert out["failure"] == "job", "a workbook that cannot be synced still fails the job"
    assert received[-1][0] == "/ping/sheetsync/fail"


def test_validate_fails_on_invalid_rows_even_when_run_only_warns(excel, tmp_path, capsys):
    team = excel.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [team], '[run]\ninvalid_rows = "warn"\n')
    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["failure"] == "invalid_rows"
