"""`--workers N` syncs workbooks in N processes, and a run is the same as with one.

The same workbooks, the same Alerts tabs and one digest per person for the whole run, whichever
process synced which workbook; a worker process that dies fails only the workbook it held; the
worker processes' log lines reach the run's log, naming the workbook, with secrets redacted.
"""

from __future__ import annotations

import email
import json
import os
import signal
import subprocess
import sys
import time
from email.policy import default as default_policy
from pathlib import Path

import pytest

from sheetsync.cli import main
from tests.e2e.test_alerts_story import CLEAN_OKRS
from tests.e2e.test_many_workbooks import fifty
from tests.e2e.test_sync_story import KPIS
from tests.e2e.workbooks import ExcelSheets, write_config
from tests.proc_tree import fork_servers, wait_gone, wait_signal_taken, worker_pids

ROOT = Path(__file__).resolve().parents[2]
TEAMS = [f"team-{i}" for i in range(6)]
ALERTS = (
    '[email]\noutbox = "outbox"\nsender = "sheetsync@example.com"\n'
    '[alerts]\nsummary_to = ["lead@example.com"]\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
)


def teams(folder: Path, names: list[str] = TEAMS) -> Path:
    """Workbooks that all raise alerts for the same people (Dee, Ana, the lead)."""
    folder.mkdir()
    sheets = ExcelSheets(folder)
    entries = [sheets.create(name, {"OKRs": CLEAN_OKRS, "KPIs": KPIS}) for name in names]
    return write_config(folder, entries, ALERTS)


def tabs_without_times(path: Path) -> dict[str, list[list[object]]]:
    """Every tab's values, the Alerts log's Time column left out (each run has its own)."""
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    tabs = {}
    for sheet in book.worksheets:
        rows = [list(row) for row in sheet.iter_rows(values_only=True)]
        if sheet.title == "Alerts":
            rows = rows[:2] + [row[1:] for row in rows[2:]]
        tabs[sheet.title] = rows
    return tabs


def digests(outbox: Path) -> dict[str, list[str]]:
    """Recipient -> the workbooks each e-mail they got tells about, one list per e-mail."""
    found: dict[str, list[str]] = {}
    for eml in sorted(outbox.glob("*.eml")):
        msg = email.message_from_bytes(eml.read_bytes(), policy=default_policy)
        body = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        named = ",".join(t for t in TEAMS if t in body)
        found.setdefault(str(msg["To"]), []).append(named)
    return found


def test_two_workers_leave_the_same_workbooks_and_send_one_digest_per_person(tmp_path, capsys):
    one, two = teams(tmp_path / "one"), teams(tmp_path / "two")

    assert main(["run", "--config", str(one), "--as-of", "2026-11-15", "--workers", "1"]) == 0
    assert main(["run", "--config", str(two), "--as-of", "2026-11-15", "--workers", "2"]) == 0

    for name in TEAMS:
        alone = tabs_without_times(one.parent / f"{name}.xlsx")
        assert tabs_without_times(two.parent / f"{name}.xlsx") == alone
        alerts = alone["Alerts"][2:]
        assert alerts and all("sent" in str(row[-2]) for row in alerts), alerts
    by_person = digests(two.parent / "outbox")
    assert by_person == digests(one.parent / "outbox")
    every_team = ",".join(TEAMS)
    assert by_person == {
        "dee@example.com": [every_team],
        "lead@example.com": [every_team],
    }, "one e-mail per person, about every workbook, whichever process synced it"


def test_a_dry_run_with_two_workers_writes_nothing_and_counts_the_same(tmp_path, capsys):
    config = teams(tmp_path / "team")
    before = {name: (tmp_path / "team" / f"{name}.xlsx").read_bytes() for name in TEAMS}

    main(["run", "--config", str(config), "--as-of", "2026-11-15", "--dry-run", "--json",
          "--workers", "1"])  # fmt: skip
    alone = json.loads(capsys.readouterr().out)
    main(["run", "--config", str(config), "--as-of", "2026-11-15", "--dry-run", "--json",
          "--workers", "2"])  # fmt: skip
    parallel = json.loads(capsys.readouterr().out)

    assert parallel["alerts"] == alone["alerts"] and alone["alerts"]["would_send"] > 0
    assert [w["key_results"] for w in parallel["workbooks"]] == [
        w["key_results"] for w in alone["workbooks"]
    ]
    for name, data in before.items():
        assert (tmp_path / "team" / f"{name}.xlsx").read_bytes() == data
    assert not (tmp_path / "team" / "outbox").exists()


def _writer_once_read(fifo: Path, *, timeout: float) -> int:
    """The write end of a named pipe, opened once some process opens it to read."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: nobody reads it yet
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _holding(path: Path) -> list[int]:
    """Processes other than this one that have `path` open."""
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        try:
            fds = list((proc / "fd").iterdir())
        except OSError:
            continue
        for fd in fds:
            try:
                if os.readlink(fd) == str(path):
                    pids.append(int(proc.name))
                    break
            except OSError:
                continue
    return pids


def _the_one_holding(path: Path, *, timeout: float) -> int:
    """The process that has `path` open, once it has: a reader's open() of a named pipe lets
    the writer's open succeed before the reader's own returns and its descriptor shows."""
    deadline = time.monotonic() + timeout
    while True:
        holding = _holding(path)
        if len(holding) == 1:
            return holding[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"processes holding {path}: {holding}")
        time.sleep(0.05)


@pytest.mark.skipif(sys.platform != "linux", reason="finds the worker through /proc")
def test_a_worker_process_that_dies_fails_only_its_workbook(tmp_path):
    """A workbook that hangs its worker (here a named pipe posing as .xlsx, as a dead network
    share would) is killed the way the OOM killer would: that workbook fails, saying so; the
    others, synced before by the same process included, are synced and their alerts marked."""
    names = ["team-0", "team-1", "team-2", "team-3", "stuck"]
    config = teams(tmp_path / "team", names[:-1])
    stuck = tmp_path / "team" / "stuck.xlsx"
    os.mkfifo(stuck)
    config.write_text(config.read_text() + '\n[[workbooks]]\nname = "stuck"\npath = "stuck.xlsx"\n')
    argv = [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config),
            "--as-of", "2026-11-15", "--workers", "2", "--json"]  # fmt: skip
    run = subprocess.Popen(
        argv,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        writer = _writer_once_read(stuck, timeout=60)  # the worker now waits for bytes
        try:
            worker = _the_one_holding(stuck, timeout=30)
            os.kill(worker, signal.SIGKILL)
            out, err = run.communicate(timeout=60)
        finally:
            os.close(writer)
    finally:
        run.kill()

    report = {w["name"]: w for w in json.loads(out)["workbooks"]}
    assert run.returncode == 1, err
    assert "worker process stopped" in report["stuck"]["error"]
    assert "outcome unknown" in report["stuck"]["error"]
    assert "crashed or was killed" in report["stuck"]["error"]
    for name in names[:-1]:
        assert report[name]["ok"] and report[name]["wrote"], report[name]
        alerts = tabs_without_times(tmp_path / "team" / f"{name}.xlsx")["Alerts"][2:]
        assert alerts and all("sent" in str(row[-2]) for row in alerts), (name, alerts)
    assert len(list((tmp_path / "team" / "outbox").glob("*.eml"))) == 2


@pytest.mark.skipif(sys.platform != "linux", reason="finds the worker through /proc")
def test_sigterm_to_the_whole_group_lets_the_workbooks_in_hand_finish(tmp_path):
    """systemd stops a service by sending SIGTERM to every process of it: the workers finish
    the workbook in hand (here one waiting for its file), the run hands out no more and ends
    with its summary, as a run without workers does."""
    names = ["stuck"] + [f"team-{i}" for i in range(8)]
    config = teams(tmp_path / "team", names[1:])
    stuck = tmp_path / "team" / "stuck.xlsx"
    os.mkfifo(stuck)
    text = config.read_text()
    config.write_text('[[workbooks]]\nname = "stuck"\npath = "stuck.xlsx"\n' + text)
    argv = [sys.executable, "-m", "sheetsync.cli", "run", "--config", str(config),
            "--as-of", "2026-11-15", "--workers", "2", "--json"]  # fmt: skip
    run = subprocess.Popen(argv, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                           text=True, start_new_session=True)  # fmt: skip
    try:
        writer = _writer_once_read(stuck, timeout=60)
        os.killpg(run.pid, signal.SIGTERM)
        wait_signal_taken(run.pid, signal.SIGTERM)  # its stop is set before the stuck one ends
        os.close(writer)  # the file ends: that workbook fails on its own, not killed
        out, err = run.communicate(timeout=60)
    finally:
        run.kill()

    assert run.returncode == 1, err
    report = {w["name"]: w for w in json.loads(out)["workbooks"]}
    assert "is not an .xlsx workbook" in report["stuck"]["error"]
    for name in names[1:]:
        assert report[name]["ok"] or report[name]["error"] == "skipped: sheetsync was stopping"


def test_worker_log_lines_reach_the_run_log_naming_the_workbook_without_secrets(
    sheets_api, service_account_file, tmp_path, capsys, monkeypatch
):
    secret = "s3cr3t-backend-credential"
    monkeypatch.setenv("SHEETSYNC_TEST_TOKEN", secret)
    _, config = fifty(sheets_api, service_account_file, tmp_path, count=2)
    sheets_api.fail_next(503, kind="get", message=f"backend {secret} overloaded")

    code = main(["run", "--config", str(config), "--as-of", "2026-11-15", "--workers", "2"])

    assert code == 0
    err = capsys.readouterr().err
    (line,) = [line for line in err.splitlines() if "Google Sheets read failed" in line]
    assert "workbook=team-0" in line and "retrying" in line
    assert "backend *** overloaded" in line and secret not in err


def test_a_worker_killed_while_the_mail_goes_out_still_gets_its_workbooks_marked_sent(tmp_path):
    """The OOM killer picks a worker holding workbooks open while this process sends the
    digests: the mail went out, so the sent marks must still reach those Alerts tabs (a new
    process reads each tab again), or the next night would send the same digests again."""
    from datetime import UTC, date, datetime

    from sheetsync.alerts import OutboxMailer
    from sheetsync.config import load_config
    from sheetsync.runner import run_all

    class OomKillerMailer(OutboxMailer):
        def __init__(self, folder: Path) -> None:
            super().__init__(folder)
            self.killed: list[int] = []

        def send(self, msg):  # type: ignore[no-untyped-def]
            if not self.killed:
                victim = worker_pids()[0]
                os.kill(victim, signal.SIGKILL)
                self.killed.append(victim)
                wait_gone(victim)  # dead before the marks are written
            super().send(msg)

    config = load_config(teams(tmp_path / "team"))
    mailer = OomKillerMailer(tmp_path / "team" / "outbox")

    report = run_all(config, as_of=date(2026, 11, 15), now=datetime(2026, 11, 15, 6, tzinfo=UTC),
                     workers=2, mailer=mailer)  # fmt: skip

    assert mailer.killed
    assert {r.name: r.error for r in report.workbooks if r.error} == {}
    for name in TEAMS:
        alerts = tabs_without_times(tmp_path / "team" / f"{name}.xlsx")["Alerts"][2:]
        assert alerts and all("sent" in str(row[-2]) for row in alerts), (name, alerts)


@pytest.mark.skipif(sys.platform != "linux", reason="finds the fork server through /proc")
def test_a_fork_server_killed_while_workers_write_leaves_their_workbooks_reported_synced(
    sheets_api, service_account_file, tmp_path, capsys
):
    """The OOM killer (or a stop that reaches only some processes) kills the fork server while
    a worker writes its workbook: the worker lives on and finishes, so the run must report
    that workbook as synced (it was written), not failed."""
    sheets, config = fifty(sheets_api, service_account_file, tmp_path, count=2)
    killed: list[int] = []

    def kill_fork_server(record: object) -> None:
        (server,) = fork_servers()
        os.kill(server, signal.SIGKILL)
        killed.append(server)
        wait_gone(server)  # dead before this write answers

    sheets_api.before_next("batchUpdate", kill_fork_server)

    code = main(["run", "--config", str(config), "--as-of", "2026-11-15", "--workers", "2",
                 "--json"])  # fmt: skip

    out = json.loads(capsys.readouterr().out)
    assert killed
    assert [(w["name"], w["error"]) for w in out["workbooks"] if w["error"]] == []
    assert all(w["ok"] and w["wrote"] for w in out["workbooks"]) and code == 0
    assert sheets_api.counts["batchUpdate"] == 2
    for i in range(2):
        assert "Summary" in sheets.tabs(f"team-{i:02d}")


@pytest.mark.skipif(sys.platform != "linux", reason="finds the workers through /proc")
def test_workers_killed_while_writing_the_sent_marks_still_leave_them_written(
    sheets_api, service_account_file, tmp_path
):
    """The mail went out and a worker dies while it writes the sent marks: whether its write
    arrived or not, the run must end with the marks written (a new process reads the Alerts
    tab again and marks what is missing), or the next night would send the digests again."""
    from datetime import UTC, date, datetime

    from sheetsync.alerts import OutboxMailer
    from sheetsync.config import load_config
    from sheetsync.runner import run_all
    from tests.e2e.workbooks import GoogleSheets, write_config

    sheets = GoogleSheets(sheets_api, service_account_file)
    entries = [sheets.create(name, {"OKRs": CLEAN_OKRS, "KPIs": KPIS}) for name in TEAMS[:2]]
    extra = ALERTS + sheets.config_extra() + "requests_per_minute = 100000\n"
    config = load_config(write_config(tmp_path, entries, extra))
    killed: list[int] = []

    def kill_workers(record: object) -> None:
        for pid in worker_pids():
            os.kill(pid, signal.SIGKILL)
            killed.append(pid)
        wait_gone(*killed)  # dead before this write answers

    class MarksKiller(OutboxMailer):
        armed = False

        def send(self, msg):  # type: ignore[no-untyped-def]
            if not self.armed:  # the first write after the mail went out, once
                sheets_api.before_next("batchUpdate", kill_workers)
                self.armed = True
            super().send(msg)

    report = run_all(config, as_of=date(2026, 11, 15), now=datetime(2026, 11, 15, 6, tzinfo=UTC),
                     workers=2, mailer=MarksKiller(tmp_path / "outbox"))  # fmt: skip

    assert killed
    assert {r.name: r.error for r in report.workbooks if r.error} == {}
    for name in TEAMS[:2]:
        alerts = sheets.values(name, "Alerts")[2:]
        assert alerts and all("sent" in str(row[-2]) for row in alerts), (name, alerts)


ONE_CPU_RUN = """
import os, sys
from pathlib import Path
from sheetsync.cli import main

def children() -> int:
    found = 0
    for p in Path("/proc").iterdir():
        try:
            found += int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid()
        except (OSError, IndexError, ValueError):
            pass
    return found

if __name__ == "__main__":
    code = main(["run", "--config", sys.argv[1], "--as-of", "2026-11-15"])
    print(code, children())
"""


@pytest.mark.skipif(sys.platform != "linux", reason="sets the CPU affinity")
def test_without_workers_given_a_run_on_one_cpu_starts_no_worker_processes(tmp_path):
    """Worker processes only help with a core each: with one usable CPU (a container or a
    `taskset`), the default is to sync in the one process, starting no fork server."""
    config = teams(tmp_path / "team", TEAMS[:3])
    script = tmp_path / "one_cpu.py"
    script.write_text(ONE_CPU_RUN)

    one_cpu = {min(os.sched_getaffinity(0))}
    done = subprocess.run([sys.executable, str(script), str(config)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120,
                          env={**os.environ, "PYTHONPATH": str(ROOT)},
                          preexec_fn=lambda: os.sched_setaffinity(0, one_cpu))  # fmt: skip

    assert done.stdout.split()[-2:] == ["0", "0"], done.stderr[-3000:]
