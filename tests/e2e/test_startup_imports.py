"""What a `sheetsync` process imports: every nightly run pays its start-up, so each command
imports only what it uses. Checked as the modules a fresh process holds (`sys.modules`),
never as timings."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import date
from pathlib import Path

from sheetsync.template import write_template

PROBE = """
import json, sys
from sheetsync.cli import main
try:
    code = main(sys.argv[1:])
except SystemExit as exc:
    code = exc.code
print(json.dumps({"exit": code, "modules": sorted(sys.modules)}))
"""

NOT_FOR_EXCEL = {
    # other file formats and the Google stack
    "openpyxl": "Excel files are read and patched as XML",
    "gspread": "no Google workbook is configured",
    "google": "no Google workbook is configured",
    "requests": "no Google workbook is configured",
    "sheetsync.backends.google": "no Google workbook is configured",
    # delivery: nothing is sent when no mail server is configured
    "jinja2": "no alert e-mail is rendered",
    "smtplib": "no mail server is configured",
    "tenacity": "nothing is retried: no mail is sent, no Google request is made",
    "apprise": "no chat channel is configured",
    "sheetsync.alerts.send": "no mail server is configured",
    "sheetsync.alerts.deliver": "no mail server is configured",
    "sheetsync.alerts.render": "no alert e-mail is rendered",
    "sheetsync.alerts.chat": "no chat channel is configured",
    "urllib.request": "nothing is fetched over HTTP: no Google workbook, no heartbeat",
    "http.client": "nothing is fetched over HTTP: no Google workbook, no heartbeat",
    "ssl": "no TLS connection: no mail server, no Google workbook",
    "xml.sax": "chart text is escaped without it (it imports urllib.request)",
    # the config is checked without pydantic (sheetsync/config_schema.py)
    "pydantic": "importing it and building the config's models cost 0.1 s per process",
    # what other commands and options need
    "rich": "--json prints no table",
    "sheetsync.report": "the report pages are `sheetsync report`",
    "sheetsync.template": "the template is `sheetsync init`",
    "babel": "locales are a Google spreadsheet's",
    "multiprocessing": "one workbook is synced in this process",
    "concurrent.futures.process": "one workbook is synced in this process",
    "sheetsync.ops.heartbeat": "no heartbeat_url is configured",
}


def _modules(args: list[str], cwd: Path) -> tuple[int | str | None, set[str], str]:
    """The exit code, the modules a fresh `sheetsync ARGS` process held at its end, and the
    rest of what it printed."""
    done = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, check=False
    )
    *printed, last = done.stdout.splitlines() or [""]
    assert last.startswith("{"), done.stderr
    result = json.loads(last)
    return result["exit"], set(result["modules"]), "\n".join(printed)


def _loaded(modules: set[str], name: str) -> bool:
    return any(m == name or m.startswith(name + ".") for m in modules)


def test_version_and_help_import_only_the_command_line(tmp_path):
    bare = subprocess.run(
        [sys.executable, "-c", "import json, sys; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    before = set(json.loads(bare.stdout))
    for args in (["--version"], ["--help"], ["run", "--help"]):
        code, modules, printed = _modules(args, tmp_path)
        assert code == 0 and printed
        added = modules - before
        ours = {m for m in added if m.split(".")[0] == "sheetsync"}
        assert ours == {"sheetsync", "sheetsync.cli", "sheetsync.core", "sheetsync.core.errors"}
        others = {m.split(".")[0] for m in added - ours} - {"json"}  # the probe's own
        assert others <= set(sys.stdlib_module_names), others
        costly = {"logging", "dataclasses", "inspect", "pathlib", "threading", "tomllib"}
        assert not costly & others, args


def test_an_excel_run_imports_only_what_syncing_excel_needs(tmp_path):
    """A nightly `sheetsync run --json` over one Excel workbook, alerts on (the template's
    examples raise some) but no mail server: no Google stack, no mail, no table, no workers."""
    write_template(tmp_path / "okrs.xlsx", date(2026, 10, 5))
    config = tmp_path / "sheetsync.toml"
    config.write_text('[[workbooks]]\nname = "team"\npath = "okrs.xlsx"\n', encoding="utf-8")
    code, modules, printed = _modules(
        ["run", "--config", str(config), "--as-of", "2026-10-05", "--json"], tmp_path
    )
    report = json.loads(printed)
    assert [w["ok"] for w in report["workbooks"]] == [True], printed
    assert report["workbooks"][0]["wrote"] and report["alerts"]["not_sent"], printed
    assert code == report["exit_code"]
    loaded = {name: why for name, why in NOT_FOR_EXCEL.items() if _loaded(modules, name)}
    assert loaded == {}


def test_a_configured_mail_server_costs_nothing_until_a_message_goes():
    """A run builds its mailer before any workbook (its password is checked first); most
    nights then send nothing, so the SMTP client, TLS and retries wait for the first e-mail."""
    probe = (
        "import json, sys\n"
        "from sheetsync.config import parse_config\n"
        "from sheetsync.runner import choose_mailer\n"
        "config = parse_config({'workbooks': [{'name': 'team', 'path': 'okrs.xlsx'}],\n"
        "                       'email': {'host': 'smtp.example.com', 'password_env': None}})\n"
        "mailer, how = choose_mailer(config)\n"
        "print(json.dumps([type(mailer).__name__, how, sorted(sys.modules)]))\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    kind, how, modules = json.loads(done.stdout or "null") or (None, done.stderr, [])
    assert (kind, how) == ("SmtpMailer", "sent via smtp.example.com")
    assert not {"smtplib", "ssl", "tenacity"} & set(modules)
