"""The delivery marks land on their own alert's row, whatever a person does to the Alerts tab
while the e-mails go out.

Between a night's sync (which logs its alerts as pending) and the write recording that they
were sent (after the mail server answered for every workbook, up to minutes later), a person
may sort the Alerts tab or insert rows in it. The marks follow each alert's Event ID: an alert
marked sent is never mailed again, and one still owed is never marked sent.
"""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.test_history_nights import KPIS, OKRS, night
from tests.e2e.workbooks import GoogleSheets, write_config


def alerts(sheets) -> list[dict]:
    rows = sheets.values("team", "Alerts")
    return [dict(zip(rows[1], row, strict=False)) for row in rows[2:]]


def test_alerts_sorted_while_mail_goes_out_get_their_own_delivery_marks(
    sheets_api, service_account_file, tmp_path
):
    sheets = GoogleSheets(sheets_api, service_account_file)
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": KPIS})
    outbox = tmp_path / "outbox"
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "outbox"\n')
    assert main(["run", "--config", str(config), "--as-of", night(1)]) == 0
    sheets.edit("team", "OKRs", "G2", 2)  # Signed deals falls far behind
    assert main(["run", "--config", str(config), "--as-of", night(11)]) == 0
    assert [(a["Item"], a["Delivery"].split()[0]) for a in alerts(sheets)] == [("K1", "sent")]
    sheets.edit("team", "KPIs", "E2", 0.5)  # Uptime falls far below target
    mailed = len(list(outbox.glob("*.eml")))

    def person_sorts_alerts_newest_first(_request) -> None:
        sheets_api.reorder_rows(sheets.ids["team"], "Alerts", 3, [4, 3])

    # the night's first batchUpdate logs the Uptime alert as pending; a person sorts the tab
    # before the second one records its delivery
    sheets_api.after_next(
        "batchUpdate",
        lambda _: sheets_api.before_next("batchUpdate", person_sorts_alerts_newest_first),
    )
    assert main(["run", "--config", str(config), "--as-of", night(12)]) == 0

    marks = {a["Item"]: a["Delivery"] for a in alerts(sheets)}
    assert [a["Item"] for a in alerts(sheets)] == ["Uptime", "K1"], "the person's order is kept"
    assert marks["Uptime"].startswith("sent"), "the alert sent tonight is marked sent"
    assert marks["K1"] == "sent", "K1 keeps its own mark"
    assert len(list(outbox.glob("*.eml"))) == mailed + 1

    assert main(["run", "--config", str(config), "--as-of", night(13)]) == 0
    assert len(list(outbox.glob("*.eml"))) == mailed + 1, "nothing is mailed twice"
