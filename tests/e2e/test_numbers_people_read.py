"""Every number sheetsync writes for people is shown as their own cell shows it.

Through the CLI, on both backends: notes, the Alerts tab and the emails say `11.5% vs target
15%`, not `0.115% vs target 0.15%`; numbers that cannot be read for sure are reported, never
guessed.
"""

from __future__ import annotations

from datetime import date
from email import message_from_bytes
from email.message import Message

import pytest

from sheetsync.alerts.cells import cell_date
from sheetsync.cli import main
from tests.e2e.workbooks import write_config

AS_OF = "2026-11-15"
OKR_HEAD = ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Period"]
KPI_HEAD = ["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual"]


def okr(kid, text, start, target, current):
    return [kid, "Grow sales", text, "ana@example.com", start, target, current, "2026-Q4"]


def run(config) -> int:
    return main(["run", "--config", str(config), "--as-of", AS_OF])


def column(values, header):
    idx = values[0].index(header)
    return [row[idx] if idx < len(row) else None for row in values[1:]]


def messages(sheets, name):
    rows = sheets.values(name, "Alerts")
    head = rows[1]
    return {row[head.index("Item")]: row[head.index("Message")] for row in rows[2:]}


def email_text(outbox) -> str:
    def body(msg: Message) -> str:
        part = next(p for p in msg.walk() if p.get_content_type() == "text/plain")
        return part.get_payload(decode=True).decode()

    return "\n".join(body(message_from_bytes(p.read_bytes())) for p in outbox.glob("*.eml"))


def test_percent_and_currency_numbers_reach_people_as_their_cells_show_them(sheets, tmp_path):
    okrs = [OKR_HEAD, okr("S1", "Revenue", "$500,000", "$750,000", "$540,000")]
    kpis = [KPI_HEAD, ["Lead conversion", "ben@example.com", "%", "higher", "15%", "12%", "11.5%"]]
    entry = sheets.create("team", {"OKRs": okrs, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "out"\n')

    run(config)

    kpi_tab = sheets.values("team", "KPIs")
    assert column(kpi_tab, "Note") == ["worse than the warning level 12%"]
    said = messages(sheets, "team")
    assert said["Lead conversion"] == "Off track. 11.5% vs target 15%; first run."
    assert said["S1"] == "Revenue: Off track. $540,000 vs target $750,000; first run."
    mail = email_text(tmp_path / "out")
    assert "11.5% vs target 15%" in mail and "$540,000 vs target $750,000" in mail
    assert "0.115" not in mail and "540000" not in mail


def test_formatted_numeric_cells_are_shown_in_their_own_number_format(sheets, tmp_path):
    okrs = [OKR_HEAD, okr("S1", "Revenue", 500_000, 750_000, 540_000)]
    kpis = [KPI_HEAD, ["Lead conversion", "ben@example.com", None, "higher", 0.15, 0.12, 0.115]]
    money = {cell: '"$"#,##0' for cell in ("E2", "F2", "G2")}
    percent = {"E5": "0%", "E2": "0%", "F2": "0%", "G2": "0.0%"}
    entry = sheets.create("team", {"OKRs": okrs, "KPIs": kpis}, {"OKRs": money, "KPIs": percent})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[email]\noutbox = "out"\n')

    run(config)

    assert column(sheets.values("team", "KPIs"), "Note") == ["worse than the warning level 12%"]
    said = messages(sheets, "team")
    assert said["Lead conversion"] == "Off track. 11.5% vs target 15%; first run."
    assert said["S1"] == "Revenue: Off track. $540,000 vs target $750,000; first run."


def test_a_change_since_the_last_run_is_shown_in_the_cells_unit(sheets, tmp_path):
    kpis = [KPI_HEAD, ["Lead conversion", "ben@example.com", "%", "higher", "15%", "12%", "10%"]]
    entry = sheets.create("team", {"KPIs": kpis})
    extra = sheets.config_extra() + '[tabs]\nokrs = ""\n[email]\noutbox = "out"\n'
    config = write_config(tmp_path, [entry], extra)
    main(["run", "--config", str(config), "--as-of", "2026-11-15"])
    sheets.edit("team", "KPIs", "G2", "16.5%")
    main(["run", "--config", str(config), "--as-of", "2026-11-16"])
    sheets.edit("team", "KPIs", "G2", "10%")
    main(["run", "--config", str(config), "--as-of", "2026-11-17"])
    rows = sheets.values("team", "Alerts")[2:]
    texts = [r[6] for r in rows]
    assert "Back to On track (was Off track). 16.5% vs target 15%; +6.5% since 15 Nov." in (texts)
    assert "Off track (was On track). 10% vs target 15%; -6.5% since 16 Nov." in texts


def test_numbers_that_cannot_be_read_for_sure_are_invalid_with_a_note(sheets, tmp_path):
    okrs = [
        OKR_HEAD,
        okr("E1", "Deals", "€0", "€250.000", "€80.000"),
        okr("E2", "Huge", 0, 10, "9" * 309),
        okr("E3", "Bracketed", 0, "(-5)", 1),
        okr("E4", "Plain", 0, 10, 5),
    ]
    entry = sheets.create("team", {"OKRs": okrs})
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[tabs]\nkpis = ""\n')

    assert run(config) == 1
    values = sheets.values("team", "OKRs")
    status, note = column(values, "Status"), column(values, "Note")
    assert status == ["Invalid", "Invalid", "Invalid", "On track"]
    assert "ambiguous: 250.000 could be 250 or 250000" in note[0]
    assert "too large to be a number" in note[1]
    assert "sign inside brackets" in note[2]
    assert all("inf" not in str(v) and "nan" not in str(v) for v in column(values, "Score"))


def test_a_comma_decimal_workbook_is_read_once_its_locale_is_configured(sheets, tmp_path):
    okrs = [OKR_HEAD, okr("E1", "Deals", "€0", "€250.000", "€80.000")]
    entry = sheets.create("team", {"OKRs": okrs})
    extra = sheets.config_extra() + '[tabs]\nkpis = ""\n[workbooks.parsing]\ndecimal = ","\n'
    config = write_config(tmp_path, [entry], extra)

    assert run(config) == 0
    values = sheets.values("team", "OKRs")
    assert column(values, "Score") == [0.32]
    assert column(values, "Status") == ["Off track"]


def test_a_google_spreadsheets_own_locale_decides_how_its_text_numbers_are_read(
    sheets_api, service_account_file, tmp_path
):
    from tests.e2e.workbooks import GoogleSheets

    german = GoogleSheets(sheets_api, service_account_file, locale="de_DE")
    okrs = [OKR_HEAD, okr("E1", "Deals", "€0", "€250.000", "€80.000")]
    entry = german.create("team", {"OKRs": okrs})
    config = write_config(tmp_path, [entry], german.config_extra() + '[tabs]\nkpis = ""\n')

    assert run(config) == 0
    assert column(german.values("team", "OKRs"), "Score") == [0.32]


def test_a_workbooks_own_setting_wins_over_the_spreadsheet_locale(
    sheets_api, service_account_file, tmp_path
):
    from tests.e2e.workbooks import GoogleSheets

    german = GoogleSheets(sheets_api, service_account_file, locale="de_DE")
    okrs = [OKR_HEAD, okr("E1", "Deals", 0, "4.5", "1.5")]
    entry = german.create("team", {"OKRs": okrs})
    extra = german.config_extra() + '[tabs]\nkpis = ""\n[workbooks.parsing]\ndecimal = "."\n'
    config = write_config(tmp_path, [entry], extra)

    assert run(config) == 0
    assert column(german.values("team", "OKRs"), "Score") == [pytest.approx(1 / 3)]


def test_scores_have_two_decimals_by_number_format_and_history_has_real_dates(sheets, tmp_path):
    okrs = [
        OKR_HEAD,
        okr("S1", "Deals", 0, 3, 1),
        okr("S2", "Revenue", "$500,000", "$750,000", "$612,500"),
    ]
    kpis = [KPI_HEAD, ["Lead conversion", "ben@example.com", "%", "higher", "15%", "12%", "11.5%"]]
    entry = sheets.create("team", {"OKRs": okrs, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra())

    run(config)

    okr_tab = sheets.values("team", "OKRs")
    assert column(okr_tab, "Score")[0] == pytest.approx(1 / 3, abs=1e-12), "full precision"
    assert sheets.number_format("team", "OKRs", "I2") == "0.00"
    kpi_tab = sheets.values("team", "KPIs")
    assert column(kpi_tab, "Score") == [pytest.approx(0.115 / 0.15)]
    assert sheets.number_format("team", "KPIs", "H2") == '0%" of target"'
    summary = {r[0]: r for r in sheets.values("team", "Summary") if r and r[0]}
    assert summary["Grow sales"][1] == pytest.approx((1 / 3 + 0.45) / 2, abs=1e-12)
    assert sheets.number_format("team", "Summary", "B5") == "0.00"
    history = sheets.values("team", "History")
    assert cell_date(history[2][0]) == date(2026, 11, 15) and not isinstance(history[2][0], str)
    assert sheets.number_format("team", "History", "A3") == "yyyy-mm-dd"
    by_key = {row[3]: i + 1 for i, row in enumerate(history)}
    assert sheets.number_format("team", "History", f"H{by_key['S2']}") == '"$"#,##0'
    assert sheets.number_format("team", "History", f"J{by_key['S2']}") == "0.00"
    kpi_row = by_key["Lead conversion"]
    assert sheets.number_format("team", "History", f"H{kpi_row}") == "0.0%", "11.5%"
    assert sheets.number_format("team", "History", f"I{kpi_row}") == "0%", "15%"
    assert sheets.number_format("team", "History", f"J{kpi_row}") == '0%" of target"'

    before = sheets.snapshot("team")
    run(config)
    assert sheets.snapshot("team") == before, "formats do not make the next run rewrite cells"


def test_validate_names_numbers_as_their_cells_show_them(sheets, tmp_path, capsys):
    kpis = [KPI_HEAD, ["Lead conversion", "ben@example.com", None, "higher", 0.15, 0.2, 0.1]]
    formats = {"KPIs": {"E2": "0%", "F2": "0%", "G2": "0.0%"}}
    entry = sheets.create("team", {"KPIs": kpis}, formats)
    config = write_config(tmp_path, [entry], sheets.config_extra() + '[tabs]\nokrs = ""\n')

    assert main(["validate", "--config", str(config), "--as-of", AS_OF]) == 1

    out = " ".join(capsys.readouterr().out.split())
    assert "Warning 20% is on the wrong side of Target 15%" in out
    assert "(found '20%')" in out
