"""Owners check in: confidence beside the score, a confidence drop alerts, a late check-in is stale.

Real CLI on both backends, a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

from sheetsync.cli import main
from tests.e2e.test_alerts_story import alerts_rows, mail  # noqa: F401  (the fixture)
from tests.e2e.workbooks import cell, okrs_workbook

OKRS = [
    ["Objective", "Key Result", "Owner", "Target", "Current", "Period", "Confidence", "Updated"],
    ["Grow", "Leads", "Dee", 100, 80, "2026-Q4", 8, "2026-11-14"],
    ["Grow", "Deals", "Dee", 10, 8, "2026-Q4", "High", "2026-10-01"],
    ["Grow", "Demos", "Dee", 100, 10, "2026-Q4", 6, "2026-10-01"],
]  # fmt: skip


def mail_to_dee(mail, alerts: str) -> str:  # noqa: F811
    """Config: mail through the loopback server, Dee's address, and these [alerts] settings."""
    return (
        f'[email]\nhost = "127.0.0.1"\nport = {mail.port}\nsecurity = "none"\n'
        'sender = "sheetsync@example.com"\n'
        f'[alerts]\n{alerts}\n[alerts.owners]\n"Dee" = "dee@example.com"\n'
    )


def kind(logged):
    """The event's kind, as its Event ID starts."""
    return str(logged["Event ID"]).split("-")[0]


def test_a_confidence_drop_alerts_the_owner_and_a_missed_check_in_is_stale(
    sheets,
    tmp_path,
    mail,  # noqa: F811
):
    config = okrs_workbook(sheets, tmp_path, OKRS, mail_to_dee(mail, "stale_after_days = 30"))

    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    okrs = sheets.values("team", "OKRs")
    assert cell(okrs, 2, "Note").startswith("confidence 8/10")
    assert cell(okrs, 3, "Note").startswith("confidence High")
    # nobody checked in on Deals or Demos since 1 October: Demos is behind, so that is news;
    # Deals is On track, and an item On track is never stale
    (stale,) = [r for r in alerts_rows(sheets) if kind(r) == "stale"]
    assert "Demos" in stale["Item"]
    assert "Last check-in 1 Oct" in stale["Message"]
    assert (
        "nobody checked in"
        in mail.inbox.to("dee@example.com")[0].get_body(("plain",)).get_content()
    )

    # a week later Leads' owner checks in with less confidence; Deals' owner from High to Medium
    sheets.edit("team", "OKRs", "G2", 4)
    sheets.edit("team", "OKRs", "H2", "2026-11-21")
    sheets.edit("team", "OKRs", "G3", "Medium")
    sheets.edit("team", "OKRs", "H3", "2026-11-21")
    assert main(["run", "--config", str(config), "--as-of", "2026-11-22"]) == 0
    drops = [r for r in alerts_rows(sheets) if kind(r) == "confidence"]
    assert [r["Item"] for r in drops] == ["Grow / Leads"]  # 8 -> 4; High -> Medium is no drop
    assert "Confidence dropped to 4/10 (was 8/10 on 15 Nov)" in drops[0]["Message"]
    body = mail.inbox.to("dee@example.com")[-1].get_body(("plain",)).get_content()
    assert "Confidence dropped to 4/10" in body
    assert not [r for r in alerts_rows(sheets) if kind(r) == "stale" and "11-22" in str(r)]

    # the same date again says nothing new; High -> Low is a drop
    sheets.edit("team", "OKRs", "G3", "Low")
    assert main(["run", "--config", str(config), "--as-of", "2026-11-29"]) == 0
    drops = [r for r in alerts_rows(sheets) if kind(r) == "confidence"]
    assert [r["Item"] for r in drops] == ["Grow / Leads"]  # Medium -> Low is only 2 points


def test_confidence_outside_one_to_ten_is_a_validation_error_on_its_cell(sheets, tmp_path):
    rows = [OKRS[0], ["Grow", "Leads", "Dee", 100, 80, "2026-Q4", 11, None]]
    config = okrs_workbook(sheets, tmp_path, rows)

    assert main(["validate", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 1
    okrs = sheets.values("team", "OKRs")
    assert cell(okrs, 2, "Status") == "Invalid"
    assert "G2" in cell(okrs, 2, "Note") and "1 to 10" in cell(okrs, 2, "Note")


def test_with_notify_confidence_off_a_drop_is_shown_but_not_alerted(
    sheets,
    tmp_path,
    mail,  # noqa: F811
):
    config = okrs_workbook(
        sheets, tmp_path, OKRS[:2], mail_to_dee(mail, "notify_confidence = false")
    )
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    sheets.edit("team", "OKRs", "G2", 4)
    assert main(["run", "--config", str(config), "--as-of", "2026-11-22"]) == 0

    assert cell(sheets.values("team", "OKRs"), 2, "Note").startswith("confidence 4/10")
    assert not [r for r in alerts_rows(sheets) if kind(r) == "confidence"]
    assert not mail.inbox.messages
