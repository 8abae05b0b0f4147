"""The delivery marks land on their own alert's row, whatever a person does to the Alerts tab
while the e-mails go out.

Between a night's sync (which logs its alerts as pending) and the write recording that they
were sent (after the mail server answered for every workbook, up to minutes later), a person
may sort the Alerts tab or insert rows in it. The marks follow each alert's Event ID: an alert
marked sent is never mailed again, and one still owed is never marked sent.
"""

from __future__ import annotations

from pathlib import Path

from sheetsync.cli import main
from tests.e2e.test_history_nights import KPIS, OKRS, night
from tests.e2e.workbooks import GoogleSheets, write_config


def alerts(sheets) -> list[dict]:
    rows = sheets.values("team", "Alerts")
    return [dict(zip(rows[1], row, strict=False)) for row in rows[2:]]


def team_with_k1_off_track(sheets, tmp_path) -> tuple[Path, Path]:
    """The team's workbook after night 1 and night 11 (Signed deals fell far behind and was
    alerted), e-mails to an outbox: the config and the outbox."""
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    assert main(["run", "--config", str(config), "--as-of", night(1)]) == 0
    sheets.edit("team", "OKRs", "G2", 2)  # Signed deals falls far behind
    assert main(["run", "--config", str(config), "--as-of", night(11)]) == 0
    return config, tmp_path / "outbox"


def test_alerts_sorted_while_mail_goes_out_get_their_own_delivery_marks(
    sheets_api, service_account_file, tmp_path
):
    sheets = GoogleSheets(sheets_api, service_account_file)
    config, outbox = team_with_k1_off_track(sheets, tmp_path)
    assert [(a["Item"], a["Delivery"].split()[0]) for a in alerts(sheets)] == [("K1", "sent")]
    sheets.edit("team", "KPIs", "E2", 0.5)  # Uptime falls far below target
    mailed = len(list(outbox.glob("*.eml")))
    reads: list[str] = []
    sheets_api.on_request(
        "get", lambda record: reads.extend(record.params.get("ranges", []) or ["(every tab)"])
    )

    def person_sorts_alerts_newest_first(_request) -> None:
        sheets_api.reorder_rows(sheets.ids["team"], "Alerts", 3, [4, 3])

    # the night's first batchUpdate logs the Uptime alert as pending (below the rows the state
    # counts: the Alerts tab is read to its header only); a person sorts the tab while the
    # e-mail goes out, before the second one records its delivery
    sheets_api.after_next("batchUpdate", person_sorts_alerts_newest_first)
    assert main(["run", "--config", str(config), "--as-of", night(12)]) == 0
    assert [r for r in reads if "Alerts'" in r][-3:] == [
        "'Alerts'!1:2",  # the night's read: the header only
        "'Alerts'!4:4",  # the row the mark goes to, checked before writing: it moved
        "'Alerts'",  # so the tab is read again whole and marked where each event now is
    ]

    marks = {a["Item"]: a["Delivery"] for a in alerts(sheets)}
    assert [a["Item"] for a in alerts(sheets)] == ["Uptime", "K1"], "the person's order is kept"
    assert marks["Uptime"].startswith("sent"), "the alert sent tonight is marked sent"
    assert marks["K1"] == "sent", "K1 keeps its own mark"
    assert len(list(outbox.glob("*.eml"))) == mailed + 1

    assert main(["run", "--config", str(config), "--as-of", night(13)]) == 0
    assert len(list(outbox.glob("*.eml"))) == mailed + 1, "nothing is mailed twice"


def test_a_row_typed_below_the_alerts_log_never_gets_a_mark_meant_for_an_alert(sheets, tmp_path):
    """A person types a note below the Alerts log between two nights: the state does not
    count it, so the night's new row lands below the note, not on the row the state says.
    Its delivery mark follows its Event ID (checked before the mark is written): the note is
    left alone and the alert is marked where it is."""
    config, outbox = team_with_k1_off_track(sheets, tmp_path)
    sheets.edit("team", "KPIs", "E2", 0.5)  # Uptime falls far below target
    assert main(["run", "--config", str(config), "--as-of", night(12)]) == 0
    assert [a["Item"] for a in alerts(sheets)] == ["K1", "Uptime"]
    sheets.edit("team", "Alerts", "A5", "note: K1 discussed on Monday")
    sheets.edit("team", "OKRs", "G3", 10)  # Website visits falls far behind too
    mailed = len(list(outbox.glob("*.eml")))

    assert main(["run", "--config", str(config), "--as-of", night(13)]) == 0

    rows = sheets.values("team", "Alerts")
    assert rows[4][0] == "note: K1 discussed on Monday" and not any(rows[4][1:]), "left alone"
    marks = {a["Item"]: a["Delivery"] for a in alerts(sheets) if a["Item"]}
    assert marks == {"K1": "sent", "Uptime": "sent", "K2": "sent"}, marks
    assert rows[5][2] == "K2", "the new alert is below the note"
    assert len(list(outbox.glob("*.eml"))) == mailed + 1
    assert main(["run", "--config", str(config), "--as-of", night(14)]) == 0
    assert len(list(outbox.glob("*.eml"))) == mailed + 1, "nothing is mailed twice"
