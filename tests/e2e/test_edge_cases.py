"""Edge cases a real team hits: duplicates, unlabelled columns, odd text, moved rows."""

from __future__ import annotations

from datetime import date, datetime

from sheetsync.backends.memory import MemoryWorkbook
from sheetsync.cli import main
from sheetsync.config import parse_config
from sheetsync.sync import sync_workbook
from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import write_config

HEAD = OKRS[0]


def kr(kid, text, current, **extra):
    row = [kid, "Grow", text, "ana@example.com", "metric", 0, 100, current, None, "2026-Q4"]
    return [*row, extra.get("kpi"), extra.get("note")]


def test_a_duplicate_id_does_not_hide_the_valid_key_results_alerts(sheets, tmp_path):
    okrs = [HEAD, kr("K1", "Leads", 5), kr("K1", "Copy of leads", 90)]
    entry = sheets.create("t", {"OKRs": okrs, "KPIs": KPIS})
    extra = sheets.config_extra() + '[email]\noutbox = "outbox"\n[alerts]\nalert_after = 2\n'
    config = write_config(tmp_path, [entry], extra)
    for day in ("2026-11-15", "2026-11-16", "2026-11-17"):
        main(["run", "--config", str(config), "--as-of", day])
    alerts = sheets.values("t", "Alerts")[2:]
    leads = [a for a in alerts if a[2] == "K1"]
    assert len(leads) == 1 and leads[0][5] == "Off track", "alerted once, after two nights"


def test_two_key_results_with_the_same_text_and_no_id_are_flagged_not_alerted_every_night(
    sheets, tmp_path, capsys
):
    okrs = [HEAD, kr(None, "Leads", 90), kr(None, "Deals", 50), kr(None, "Leads", 5)]
    entry = sheets.create("t", {"OKRs": okrs, "KPIs": KPIS})
    extra = sheets.config_extra() + '[email]\noutbox = "outbox"\n'
    config = write_config(tmp_path, [entry], extra)
    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    out = capsys.readouterr().out
    assert "OKRs!C2: same Objective and Key Result as C4 and no ID" in out
    assert "OKRs!C4: same Objective and Key Result as C2 and no ID" in out
    for day in ("2026-11-15", "2026-11-16", "2026-11-17"):
        main(["run", "--config", str(config), "--as-of", day])
    history = sheets.values("t", "History")[2:]
    leads = [r[10] for r in history if r[3] == "Grow / Leads"]
    assert leads == ["Invalid"], "one row (it never changed), flagged: no two rows' scores mixed"
    state = [
        r
        for r in sheets.values("t", "History state")[2:]
        if r[1] == "Grow / Leads" and r[0] != "Logged"  # its spells, not its logged events
    ]
    assert {r[7] for r in state} == {"Invalid"} and sum(r[4] for r in state) == 3, "3 nights"
    deals = [r[10] for r in history if r[3] == "Grow / Deals"]
    assert deals == ["On track", "At risk"], "a row when its status changed, none after"
    assert not [a for a in sheets.values("t", "Alerts")[2:] if a[2] == "Leads"]


def test_new_output_columns_never_land_on_a_persons_unlabelled_data(sheets, tmp_path):
    okrs = [HEAD, kr("K1", "Leads", 50, note="n")]
    okrs[1] = [*okrs[1], "my private note"]  # column M: data, but no header
    entry = sheets.create("t", {"OKRs": okrs, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    main(["run", "--config", str(config), "--as-of", "2026-11-15"])
    values = sheets.values("t", "OKRs")
    assert values[1][12] == "my private note"
    assert values[0][13:16] == ["Score", "Status", "Note"]


def test_cell_text_that_looks_like_terminal_markup_is_printed_as_is(excel_sheets, tmp_path, capsys):
    okrs = [HEAD, kr("K1", "Leads", "[/x] [red]lots")]
    entry = excel_sheets.create("t", {"OKRs": okrs, "KPIs": KPIS})
    config = write_config(tmp_path, [entry])
    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    assert "[/x] [red]lots" in capsys.readouterr().out


def test_a_bad_default_period_is_a_configuration_error(tmp_path):
    config = write_config(
        tmp_path, [{"name": "t", "path": "t.xlsx"}], '[scoring]\ndefault_period = "soon"\n'
    )
    assert main(["run", "--config", str(config)]) == 2


def test_rows_moved_between_read_and_write_redo_the_cycle_and_score_the_right_rows():
    okrs = [HEAD, kr("K1", "Leads", 50), kr("K2", "Deals", 100)]

    class PersonInsertsARow(MemoryWorkbook):
        moved = False

        def write(self, plan):
            if not self.moved:  # a person inserts a row above K1 while we compute
                self.moved = True
                self.tabs["OKRs"].insert(1, kr("K0", "New", 10))
            return super().write(plan)

    book = PersonInsertsARow({"OKRs": okrs, "KPIs": KPIS})
    config = parse_config({"workbooks": [{"name": "t", "path": "t.xlsx"}]})
    outcome = sync_workbook(book, config.workbooks[0], config, date(2026, 11, 15), datetime.now())
    assert outcome.report.cycles == 2
    rows = {row[0]: row for row in book.tabs["OKRs"][1:]}
    assert [rows[k][12] for k in ("K0", "K1", "K2")] == [0.1, 0.5, 1.0]


def test_a_backup_holds_the_file_as_it_was_before_the_run(excel_sheets, tmp_path):
    entry = excel_sheets.create("t", {"OKRs": OKRS, "KPIs": KPIS})
    before = excel_sheets.path("t").read_bytes()
    extra = '[email]\noutbox = "outbox"\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
    main(["run", "--config", str(write_config(tmp_path, [entry], extra)), "--as-of", "2026-11-15"])
    assert list((tmp_path / "outbox").glob("*.eml")), "alerts were sent: the file was saved twice"
    assert (tmp_path / "t.xlsx.bak").read_bytes() == before
