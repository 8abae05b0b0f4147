"""A new team lead tries sheetsync from the README: the demo, its hints, its report and its lock
say what is true, and what a script reads from stdout is the JSON alone.
"""

from __future__ import annotations

import email
import email.policy
import json
import os
import re
import stat
import sys
from pathlib import Path

import pytest

from sheetsync.cli import build_parser, main
from sheetsync.ops.lock import run_lock

README = Path(__file__).parents[2] / "README.md"


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


def test_demo_json_prints_the_json_document_alone_on_stdout(tmp_path, capsys):
    code = main(["demo", "--dir", str(tmp_path / "demo"), "--json", "--as-of", "2026-11-20"])
    out = capsys.readouterr().out
    assert json.loads(out)["exit_code"] == code == 0, out[:200]


@pytest.mark.parametrize("command", ["run", "demo"])
def test_a_command_that_can_find_the_lock_held_exits_three_and_its_help_says_so(
    command, tmp_path, capsys
):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    argv = {
        "run": ["run", "--config", str(folder / "sheetsync.toml")],
        "demo": ["demo", "--dir", str(folder)],
    }[command]
    with run_lock(folder / ".sheetsync"):
        assert main(argv) == 3
    assert "another sheetsync run is in progress" in capsys.readouterr().err
    assert re.search(r"^  3  another sheetsync run holds the lock", _help(command), re.M)


def test_the_lock_file_the_readme_names_is_the_one_a_run_holds(tmp_path):
    named = re.findall(r"`<state_dir>/([\w.]+)`", README.read_text(encoding="utf-8"))
    assert named, "the README names the lock file"
    with run_lock(tmp_path):
        held = {p.name for p in tmp_path.iterdir()}
    assert set(named) <= held, (named, held)


def test_report_pages_are_readable_by_the_web_server_under_the_usual_umask(tmp_path):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    old = os.umask(0o022)
    try:
        code = main(
            ["report", "--config", str(folder / "sheetsync.toml"), "--out", str(tmp_path / "r")]
        )
    finally:
        os.umask(old)
    assert code == 0
    modes = {p.name: stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "r").iterdir()}
    assert modes and set(modes.values()) == {0o644}, modes


def test_the_demo_says_its_emails_went_to_the_outbox_and_its_rerun_hint_runs_as_typed(
    tmp_path, capsys, monkeypatch
):
    program = tmp_path / "venv" / "bin" / "sheetsync"  # a venv that is not activated
    monkeypatch.setattr(sys, "argv", [str(program), "demo"])
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert re.search(r"^Alerts: \d+ emails? written to the outbox .*outbox/$", out, re.M), out
    assert " sent" not in out.split("Alerts:", 1)[1].splitlines()[0]
    hint = out.split("Run again with: ", 1)[1].splitlines()[0]
    assert hint == f"{program} run --config {folder / 'sheetsync.toml'} --as-of 2026-11-20"


def test_report_help_does_not_say_it_syncs_workbooks():
    assert "synced at once" not in _help("report")


ORDER = ["Off track", "At risk", "On track", "Done", "Missed", "Partly achieved", "Achieved"]


def _in_order(counts: dict[str, int]) -> bool:
    known = [s for s in counts if s in ORDER]
    return known == sorted(known, key=ORDER.index)


def test_objectives_are_counted_by_status_and_every_breakdown_reads_worst_first(
    tmp_path, capsys, monkeypatch
):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20", "--json"]) == 0
    for wb in json.loads(capsys.readouterr().out)["workbooks"]:
        by_status = wb["objectives_by_status"]
        assert sum(by_status.values()) == wb["objectives"] > 0, wb["name"]
        for counts in (by_status, wb["key_results"], wb["kpis"]):
            assert _in_order(counts), (wb["name"], counts)
    monkeypatch.setenv("COLUMNS", "250")
    assert main(["run", "--config", str(folder / "sheetsync.toml"), "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    rows = [line for line in out.splitlines() if line.startswith("│") and "(demo)" in line]
    objectives = [row.split("│")[2].strip() for row in rows]
    assert len(objectives) == 2, out
    assert all(re.fullmatch(r"\d+ [a-z ]+(, \d+ [a-z ]+)*", cell) for cell in objectives), rows


def _plain_bodies(folder: Path) -> dict[str, str]:
    bodies = {}
    for path in sorted(folder.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        bodies[str(message["To"])] = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    return bodies


def test_a_dry_run_counts_the_entries_people_will_read_and_each_names_its_item_once(
    tmp_path, capsys
):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    capsys.readouterr()
    three_weeks_later = ["--as-of", "2026-12-11", "--preview", str(tmp_path / "preview")]
    assert main(["run", "--config", str(folder / "sheetsync.toml"), *three_weeks_later]) == 0
    said = re.search(r"would send (\d+) alerts to (\d+) people", capsys.readouterr().out)
    assert said, "the dry run says what it would send"
    bodies = _plain_bodies(tmp_path / "preview")
    entries = {
        (to, line) for to, body in bodies.items() for line in re.findall(r"^\* .*$", body, re.M)
    }
    lead = [e for to, e in entries if to == "lead@example.com"]
    assert int(said[1]) == len(lead), "the manager's digest lists every item once"
    assert int(said[2]) == len(bodies)
    for body in bodies.values():
        for entry in body.split("\n* ")[1:]:
            message = entry.splitlines()[2]
            name = message.split(": ", 1)[0]
            assert message.count(f"{name}: ") == 1, entry


def test_a_workbook_without_an_alignment_tree_still_shows_where_each_objective_should_be(
    tmp_path,
):
    from tests.e2e.test_sync_story import KPIS, OKRS
    from tests.e2e.workbooks import ExcelSheets, write_config

    entry = ExcelSheets(tmp_path).create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry])
    out = tmp_path / "report"
    assert (
        main(["report", "--config", str(config), "--out", str(out), "--as-of", "2026-11-15"]) == 0
    )
    html = (out / "team.html").read_text(encoding="utf-8")
    alignment = html.split('<h2 id="alignment">', 1)[1].split("</section>", 1)[0]
    assert "the black mark shows the score expected by now" in alignment
    rows = alignment.count('class="bar-')
    assert rows >= 2 and alignment.count('class="pace"') == rows, alignment


def _shown_widths(sheet, header: str) -> list[tuple[int, float, str]]:
    """(row, column width, text as the cell shows it) for each score under `header`."""
    header_row = next(r for r in sheet.iter_rows(max_row=3) if any(c.value == header for c in r))
    col = next(c for c in header_row if c.value == header).column_letter
    width = sheet.column_dimensions[col].width
    shown = []
    for cell in sheet[col][header_row[0].row :]:
        if isinstance(cell.value, int | float):
            text = (
                f"{cell.value:.0%} of target"
                if "of target" in cell.number_format
                else f"{cell.value:.2f}"
            )
            shown.append((cell.row, width, text))
    return shown


def test_score_columns_sheetsync_adds_are_wide_enough_for_what_they_show(tmp_path):
    import openpyxl

    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    book = openpyxl.load_workbook(folder / "okrs-demo.xlsx")
    shown = _shown_widths(book["KPIs"], "Score") + _shown_widths(book["History"], "Score")
    assert any("of target" in text for _, _, text in shown)
    too_narrow = [(row, width, text) for row, width, text in shown if width < len(text) + 1]
    assert not too_narrow, too_narrow


def test_a_target_is_shown_as_its_own_cell_shows_it_in_alerts_report_and_history(tmp_path, capsys):
    """C1.KR2 of the demo: Start 4 and Target 2 in General cells, Current 3.6 in `0.0`."""
    import openpyxl

    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    config = str(folder / "sheetsync.toml")
    later = ["--as-of", "2026-12-11"]
    assert main(["run", "--config", config, *later, "--preview", str(tmp_path / "preview")]) == 0
    entry = _plain_bodies(tmp_path / "preview")["dee@example.com"].split("* C1.KR2 ", 1)[1]
    assert "3.6 vs target 2;" in " ".join(entry.split("\n\n", 1)[0].split())
    out = tmp_path / "report"
    assert main(["report", "--config", config, "--out", str(out), *later]) == 0
    page = (out / "company-okrs-demo.html").read_text(encoding="utf-8")
    row = page.split("Average response time from 4 h to 2 h", 1)[1].split("</tr>", 1)[0]
    assert re.findall(r"<td[^>]*>([^<]*)</td>", row)[1:3] == ["3.6", "2"], row
    history = openpyxl.load_workbook(folder / "okrs-demo.xlsx")["History"]
    header = [c.value for c in history[2]]
    kr2 = [r for r in history.iter_rows(min_row=3) if r[header.index("Key")].value == "C1.KR2"]
    target = kr2[-1][header.index("Target")]
    assert (target.value, target.number_format) == (2, "General")


def test_the_demo_says_plainly_its_rows_are_its_examples_and_no_warning_says_what_is_untrue(
    tmp_path, capsys
):
    folder = tmp_path / "demo"
    assert main(["demo", "--dir", str(folder), "--as-of", "2026-11-20"]) == 0
    out = capsys.readouterr().out
    assert "template's examples" not in out and "your own rows" not in out, out
    assert "The demo's rows are examples owned by people @example.com" in out
    mailed = {
        str(email.message_from_bytes(p.read_bytes(), policy=email.policy.default)["To"])
        for p in (folder / "outbox").glob("*.eml")
    }
    assert any(to.endswith("@example.com") for to in mailed)
    assert main(["run", "--config", str(folder / "sheetsync.toml"), "--as-of", "2026-11-21"]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if "examples" in line]
    assert warnings, "a real run still warns that example rows are left"
    assert all("receive no mail" not in w and "reach no one" in w for w in warnings), warnings


def test_logging_after_a_command_whose_stderr_was_closed_writes_no_logging_error(
    tmp_path, capsys, monkeypatch
):
    """A test's captured stderr is closed after it; a line logged later (an SMTP server
    thread, the next test) goes to the stderr of that moment instead of raising."""
    import io
    import logging

    gone = io.StringIO()
    monkeypatch.setattr(sys, "stderr", gone)
    assert main(["run", "--config", str(tmp_path / "missing.toml")]) == 2
    gone.close()
    monkeypatch.undo()
    logging.getLogger("mail.log").warning("a line logged after the capture closed")
    err = capsys.readouterr().err
    assert "Logging error" not in err and "a line logged after the capture closed" in err
