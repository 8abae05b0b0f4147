"""A year of nights costs what a night changes: the Alerts log is remembered, not re-read.

A team runs sheetsync every night. The History state tab keeps what the alert rules need of
the Alerts log (each item's last logged event of each kind, how many rows the log has), so a
night reads the Alerts tab to its header only and adds its new rows below the counted ones.
With no mail server configured at all, an e-mail alert is logged as not sent, once, instead
of staying owed for ever.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

from sheetsync.cli import main
from sheetsync.core.parse import a1
from tests.e2e.workbooks import write_config

OKRS = [
    ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period"],
    ["K1", "Grow", "Signed deals", "ana@example.com", 0, 100, 2, "2026-Q4"],
    ["K2", "Grow", "Website visits", "ben@example.com", 0, 1000, 1000, "2026-Q4"],
]
KPIS = [
    ["KPI", "Owner", "Direction", "Target", "Actual"],
    ["Uptime", "ana@example.com", "higher", 0.99, 0.995],
]
FIRST = date(2026, 11, 2)


def night(n: int) -> str:
    return (FIRST + timedelta(days=n - 1)).isoformat()


def run_json(config, as_of: str, capsys) -> dict:
    capsys.readouterr()
    code = main(["run", "--config", str(config), "--as-of", as_of, "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["exit_code"] == code
    return report


def test_with_no_mail_server_an_alert_is_logged_as_not_sent_once_and_never_owed(
    sheets, tmp_path, capsys
):
    """Neither [email] host nor outbox: K1 is off track. Its alert is logged as not sent (not
    pending), the run says so without failing, and the next nights carry nothing owed."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())

    first = run_json(config, night(1), capsys)

    assert first["exit_code"] == 0, first
    assert first["alerts"]["pending"] == 0
    assert any("1 alert not sent" in e and "[email] host" in e for e in first["alerts"]["errors"])
    alerts = sheets.values("team", "Alerts")[2:]
    assert [(a[2], a[8]) for a in alerts] == [("K1", "not sent: no mail server configured")]
    assert sheets.fill("team", "Alerts", "I3") is None, "not amber: nothing is waiting"

    second = run_json(config, night(2), capsys)

    assert second["exit_code"] == 0
    assert second["alerts"]["pending"] == 0, "yesterday's alert is not owed"
    assert not any("not sent" in e for e in second["alerts"]["errors"]), "nothing new to say"
    assert len(sheets.values("team", "Alerts")) == 3


def alerts_ranges(sheets) -> list[str]:
    """The Alerts ranges the last runs' reads asked for (Google), in order."""
    found = [r for q in sheets.api.requests_of("get") for r in q.params.get("ranges", []) or []]
    return [r for r in found if "Alerts'" in r]


def logged(sheets) -> list[tuple[str, str]]:
    return [(a[2], a[9].split("-")[0]) for a in sheets.values("team", "Alerts")[2:] if a[9]]


def test_a_night_reads_the_alerts_log_to_its_header_and_adds_its_rows_below(sheets, tmp_path):
    """From the second night on, the Alerts tab is read to its header only: a weekly reminder
    is decided from the state and added below the rows the state counts. On Excel, an old
    Alerts row holding a cell too long to read would stop any run that parsed the log."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    extra = sheets.config_extra() + '[email]\noutbox = "outbox"\n[excel]\nmax_text_chars = 500\n'
    config = write_config(tmp_path, [entry], extra)
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    if sheets.kind == "excel":
        sheets.edit("team", "Alerts", "G3", "an old message far too long to read " * 40)
    if sheets.kind == "google":
        sheets.api.reset_counts()

    for n in range(3, 16):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0

    found = logged(sheets)
    assert found[:3] == [("K1", "alert"), ("K1", "reminder"), ("K1", "reminder")], found
    assert found[3:] == [("K1", "stale")], "14 days at the same value"
    assert all(a[8] == "sent" for a in sheets.values("team", "Alerts")[2:])
    if sheets.kind == "google":
        ranges = alerts_ranges(sheets)
        assert ranges.count("'Alerts'!1:2") == 13, "each night's read: the header only"
        assert set(ranges) - {"'Alerts'!1:2"} == {"'Alerts'!4:4", "'Alerts'!5:6"}, (
            "a night's marks read back only that night's rows first"
        )
    else:
        assert sheets.values("team", "Alerts")[2][6].startswith("an old message"), "kept"
    state = sheets.values("team", "History state")[0]
    assert state[state.index("Alerts rows") + 1] == 6
    assert state[state.index("Alerts owed") + 1] == 0


def test_a_state_without_the_alerts_memory_reads_the_log_whole_once(sheets, tmp_path):
    """A workbook an older version synced: its state tab does not count the Alerts rows. The
    first run reads the Alerts tab whole and writes the memory (no row lost or doubled); the
    next ones read its header only."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    for n in (1, 2):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    top = sheets.values("team", "History state")[0]
    at = top.index("Alerts rows")
    for col in range(at, at + 4):  # the labels and counts, as a state tab written before
        sheets.edit("team", "History state", a1(1, col + 1), None)
    if sheets.kind == "google":
        sheets.api.reset_counts()

    for n in (8, 9):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0

    assert logged(sheets) == [("K1", "alert"), ("K1", "reminder")]
    if sheets.kind == "google":
        assert alerts_ranges(sheets) == ["'Alerts'!1:2", "'Alerts'", "'Alerts'!1:2"]
    top = sheets.values("team", "History state")[0]
    assert top[top.index("Alerts rows") + 1] == 4


def test_a_back_dated_run_reads_the_log_whole_and_raises_nothing_already_logged(sheets, tmp_path):
    """`--as-of` before the latest night the state has seen: the Alerts tab is read whole,
    so an event already logged is not raised again."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    for n in (1, 2, 8, 9):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    before = logged(sheets)
    if sheets.kind == "google":
        sheets.api.reset_counts()

    for n in (1, 8):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0

    assert logged(sheets) == before == [("K1", "alert"), ("K1", "reminder")]
    if sheets.kind == "google":
        assert "'Alerts'" in alerts_ranges(sheets), "read whole"
    assert main(["run", "--config", str(config), "--as-of", night(10)]) == 0
    assert logged(sheets) == before


def test_a_row_typed_into_the_alerts_log_is_not_read_on_a_night_the_state_remembers(
    sheets, tmp_path, capsys
):
    """Nothing read from a sheet directs mail: a night that decides from the state does not
    read the Alerts rows at all, so a row a person types there (a forged pending alert) is
    neither mailed nor reported, and the night's own rows go below it."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    outbox = tmp_path / "outbox"
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    assert main(["run", "--config", str(config), "--as-of", night(1)]) == 0
    mailed = sorted(p.name for p in outbox.glob("*.eml"))
    for col, value in zip("ABCDEFGHIJ", [
        "2026-11-02 02:00:00", "team", "K2", "ben", "On track", "Off track", "Wire the money",
        "victim@outside.test", "pending", "alert-20261102-0123456789abcdef",
    ], strict=True):  # fmt: skip
        sheets.edit("team", "Alerts", f"{col}4", value)

    report = run_json(config, night(8), capsys)

    assert report["exit_code"] == 0 and report["alerts"]["errors"] == []
    assert sorted(p.name for p in outbox.glob("*.eml")) != mailed, "the reminder went out"
    assert not any("victim" in p.read_text() for p in outbox.glob("*.eml"))
    assert logged(sheets) == [("K1", "alert"), ("K2", "alert"), ("K1", "reminder")]


def delete_alert_rows(sheets, first: int, count: int) -> None:
    """A person moves old rows out of the Alerts log (as the README allows)."""
    if sheets.kind == "google":
        sheets.api.delete_rows(sheets.ids["team"], "Alerts", first, count)
        return
    import openpyxl

    path = sheets.path("team")
    book = openpyxl.load_workbook(path)
    book["Alerts"].delete_rows(first, count)
    book.save(path)


def test_alerts_moved_out_of_the_log_are_not_raised_again_on_a_night_that_reads_it_whole(
    sheets, tmp_path
):
    """The state still remembers what was logged: a night that reads the Alerts tab whole (a
    back-dated run, or the night after a delivery failed) decides from the tab and that
    memory together, so an alert whose row a person deleted is not sent a second time."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    for n in (1, 2, 8, 9):
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0
    assert logged(sheets) == [("K1", "alert"), ("K1", "reminder")]
    mailed = sorted(p.name for p in (tmp_path / "outbox").glob("*.eml"))
    delete_alert_rows(sheets, 3, 2)

    for n in (8, 9, 10):  # night 8 is back-dated: the log is read whole
        assert main(["run", "--config", str(config), "--as-of", night(n)]) == 0

    assert logged(sheets) == []
    assert sorted(p.name for p in (tmp_path / "outbox").glob("*.eml")) == mailed


def test_a_dry_run_with_no_mail_server_says_what_a_real_run_would_log(sheets, tmp_path, capsys):
    """A dry run writes nothing: it says the alert would be logged as not sent, not that it
    was."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    capsys.readouterr()

    code = main(["run", "--config", str(config), "--as-of", night(1), "--dry-run", "--json"])
    report = json.loads(capsys.readouterr().out)

    assert code == report["exit_code"] == 0
    said = [e for e in report["alerts"]["errors"] if "not sent" in e]
    assert len(said) == 1 and "would be logged" in said[0] and "[email] host" in said[0], said
    assert "Alerts" not in sheets.tabs("team")
