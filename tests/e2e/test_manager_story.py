"""Issue #16's whole story in one: a company, three departments, two shards, five nights.

The company (Google) cascades into Sales (Excel), Support (Google) and Marketing (Excel). Two
`sheetsync run --shard I/2` processes sync them side by side each night, a real SMTP server
on 127.0.0.1 takes the alert mail, and at the end each shard writes its report pages into one
folder, which headless Chromium loads. Along the way:

* the company's objectives roll up from the departments' (read from their Summary tabs);
* Marketing has a Parent cycle: a validation error naming the cell, the rest still syncs;
* Sales' owner overrides a status until 20 Nov: the Note and the Summary say so, then the
  computed status comes back;
* Support's owner checks in with less confidence: one "Confidence dropped" email, once;
* the company's "Website visits +30%" takes its target from the value on the period's first run.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.e2e.cascade import night, report_shards, tree
from tests.e2e.chromium import Chromium, png_size, serve_folder, words
from tests.e2e.test_alerts_story import mail  # noqa: F401  (the fixture)
from tests.e2e.workbooks import ExcelSheets, GoogleSheets, cell, write_config

DOCS = Path(__file__).resolve().parents[2] / "docs"
DESKTOP, PHONE = (1280, 1400), (390, 2400)

HEAD = ["Objective ID", "Objective", "Parent", "Objective weight", "Team", "Key Result", "Owner",
        "Start", "Target", "Change", "Current", "Period", "Confidence", "Status override",
        "Override until"]  # fmt: skip
COMPANY = [
    HEAD,
    ["C1", "Grow revenue", None, None, "Revenue", "Revenue (k$)", "Ceo", 0, 1000, None, 600,
     "2026-Q4", 7, None, None],
    ["C1", "Grow revenue", None, None, None, "Website visits", "Ana", None, None, "+30%", 1000,
     "2026-Q4", "High", None, None],
    ["C2", "Delight customers", None, None, "Customers", "NPS", "Cy", 20, 50, None, 35,
     "2026-Q4", None, None, None],
]  # fmt: skip
SALES = [
    HEAD,
    [None, "Win EMEA", "Company: C1", 3, "EMEA", "EMEA deals", "Ana", 0, 10, None, 2, "2026-Q4",
     None, "On track", "2026-11-20"],
]  # fmt: skip
SUPPORT = [
    HEAD,
    [None, "Faster answers", "Company: C2", None, "Care", "First response (h)", "Dee", 4, 2,
     None, 3, "2026-Q4", 8, None, None],
]  # fmt: skip
MARKETING = [
    HEAD,
    [None, "Brand", "Company: C2", None, "Brand", "Awareness %", "Mo", 0, 100, None, 30,
     "2026-Q4", None, None, None],
    [None, "Loop A", "Loop B", None, None, "x", "Mo", 0, 10, None, 5, "2026-Q4", None, None, None],
    [None, "Loop B", "Loop A", None, None, "y", "Mo", 0, 10, None, 5, "2026-Q4", None, None, None],
]  # fmt: skip
NO_KPIS = [["KPI", "Target", "Actual"]]


@pytest.fixture
def company(sheets_api, service_account_file, tmp_path, mail):  # noqa: F811
    google = GoogleSheets(sheets_api, service_account_file)
    excel = ExcelSheets(tmp_path)
    entries = [
        google.create("Company", {"OKRs": COMPANY, "KPIs": NO_KPIS}),
        excel.create("Sales", {"OKRs": SALES, "KPIs": NO_KPIS}),
        google.create("Support", {"OKRs": SUPPORT, "KPIs": NO_KPIS}),
        excel.create("Marketing", {"OKRs": MARKETING, "KPIs": NO_KPIS}),
    ]
    entries[0]["children"] = ["Sales", "Support", "Marketing"]
    mail_settings = (
        f'[email]\nhost = "127.0.0.1"\nport = {mail.port}\nsecurity = "none"\n'
        'sender = "sheetsync@example.com"\n'
        '[alerts.owners]\n"Dee" = "dee@example.com"\n'
    )
    config = write_config(tmp_path, entries, google.config_extra() + mail_settings)
    return google, excel, config


def confidence_mail(mail) -> list[str]:  # noqa: F811
    """The bodies of the e-mails to Dee that tell of a confidence drop."""
    bodies = [m.get_body(("plain",)).get_content() for m in mail.inbox.to("dee@example.com")]
    return [b for b in bodies if "Confidence dropped" in b]


def test_a_quarter_of_the_company_and_its_departments_in_two_shards(company, mail, tmp_path):  # noqa: F811
    google, excel, config = company

    # 5 Oct, the quarter's first run: the visits of today start the +30% key result.
    first = night(config, "2026-10-05")
    assert sorted(first) == ["Company", "Marketing", "Sales", "Support"]
    okrs = google.values("Company", "OKRs")
    assert "target 1300 = +30% from 1000 (value on 2026-10-05)" in cell(okrs, 3, "Note")
    assert cell(okrs, 3, "Score") == 0

    # Mid-November: the visits grew; two nights in a row.
    google.edit("Company", "OKRs", "K3", 1150)
    night(config, "2026-11-14")
    mid = night(config, "2026-11-15")

    # The company rolls up its departments (each child's own Summary, read by the company's
    # shard). Grow revenue: its own Revenue 0.6 and Website visits 0.5 count once each, Sales'
    # Win EMEA (0.2) three times (its Objective weight): (0.6 + 0.5 + 3 x 0.2) / 5 = 0.34.
    rows = tree(google.values("Company", "Summary"))
    assert rows["Grow revenue"]["Score"] == pytest.approx(0.34)
    assert rows["    ↳ Win EMEA"]["Workbook"] == "Sales"
    assert rows["    ↳ Win EMEA"]["As of"] in ("2026-11-14", "2026-11-15")
    # Delight customers: its NPS 0.5, Support's Faster answers 0.5, Marketing's Brand 0.3.
    assert rows["Delight customers"]["Score"] == pytest.approx(1.3 / 3)
    assert rows["    ↳ Faster answers"]["Workbook"] == "Support"
    assert rows["    ↳ Brand"]["Workbook"] == "Marketing"
    # One request for the Google child, none for the Excel ones, on top of the company's own 2.
    assert mid["Company"]["api_requests"] == 2 + 1

    # The target stays the one the period started from: 1150 of 1000 -> 1300 is halfway.
    okrs = google.values("Company", "OKRs")
    assert "target 1300 = +30% from 1000 (value on 2026-10-05)" in cell(okrs, 3, "Note")
    assert cell(okrs, 3, "Score") == 0.5

    # Marketing's cycle is an error on its Parent cells; the rest of Marketing still syncs.
    assert mid["Marketing"]["invalid_rows"] == 2
    assert any("OKRs!C3: Parent makes a cycle: Loop A -> Loop B -> Loop A" in p
               for p in mid["Marketing"]["problems"])  # fmt: skip
    marketing = excel.values("Marketing", "OKRs")
    assert cell(marketing, 3, "Status") == "Invalid"
    assert cell(marketing, 2, "Status") == "Off track"

    # Sales' owner holds EMEA deals On track until 20 Nov, against the computed Off track.
    sales = excel.values("Sales", "OKRs")
    assert cell(sales, 2, "Status") == "On track"
    assert cell(sales, 2, "Note") == "overridden by owner until 20 Nov; computed: Off track"
    overridden = [
        r for r in excel.values("Sales", "Summary") if r[0] == "Statuses overridden by owners"
    ]
    assert overridden[0][1] == 1
    assert confidence_mail(mail) == []

    # Support's owner checks in less sure: 8/10 -> 4/10.
    google.edit("Support", "OKRs", "M2", 4)
    night(config, "2026-11-21")

    # The override has expired: the computed status is back, and the Summary counts none.
    sales = excel.values("Sales", "OKRs")
    assert cell(sales, 2, "Status") == "Off track"
    assert "overridden" not in (cell(sales, 2, "Note") or "")
    assert not [
        r for r in excel.values("Sales", "Summary") if r[0] == "Statuses overridden by owners"
    ]

    # The drop is one e-mail to Dee, and one line in Support's Alerts tab.
    (told,) = confidence_mail(mail)
    assert "Confidence dropped to 4/10 (was 8/10 on 15 Nov)" in told
    assert cell(google.values("Support", "OKRs"), 2, "Note").startswith("confidence 4/10")

    # The next night, and the same night again: nothing new to say about it.
    night(config, "2026-11-22")
    night(config, "2026-11-22")
    assert len(confidence_mail(mail)) == 1
    alerts = google.values("Support", "Alerts")
    ids = [str(dict(zip(alerts[1], row, strict=False))["Event ID"]) for row in alerts[2:]]
    assert sum(1 for i in ids if i.startswith("confidence-")) == 1

    # Each shard writes its own workbooks' report pages into one folder; Chromium loads them.
    site = tmp_path / "site"
    report_shards(config, site / "report", "2026-11-22")
    browser = Chromium(tmp_path / "chromium")
    with serve_folder(site) as (url, requested):
        seen = {
            (page, width): words(browser.visible_text(site, url, f"report/{page}.html", width))
            for page, width in (("company", DESKTOP[0]), ("company", PHONE[0]),
                                ("sales", DESKTOP[0]), ("support", DESKTOP[0]),
                                ("marketing", PHONE[0]), ("index", DESKTOP[0]))
        }  # fmt: skip
    company_desktop, company_phone = seen[("company", DESKTOP[0])], seen[("company", PHONE[0])]
    for text in (company_desktop, company_phone):
        # the cascade, each level with its score and status word
        assert "Grow revenue 0.34 ✕Off track includes 1 child objective" in text
        assert "level 2: Win EMEA from Sales, as of 2026-11-22 0.20 ✕Off track" in text
        assert "level 2: Faster answers from Support, as of 2026-11-22 0.50 !At risk" in text
        assert "level 2: Brand from Marketing, as of 2026-11-22 0.30 ✕Off track" in text
        # each team's key results with their counts, owners, confidence beside the score, and
        # the relative target worked out from the period's start
        assert "Revenue 2 key results: !At risk 1 ✓On track 1 Nothing needs attention." in text
        assert "Grow revenue · owner Ceo · ✕Off track · score 0.34" in text
        assert "Revenue (k$) Ceo 600 1000 0.60 confidence 7/10 ✓On track" in text
        assert "Website visits Ana 1150 1300 = +30% from 1000 0.50 confidence High !At risk" in text
        assert "Customers 1 key result: !At risk 1" in text
    assert "First response (h) Dee 3 2 0.50 confidence 4/10 !At risk" in seen[("support", 1280)]
    sales_page = seen[("sales", DESKTOP[0])]
    assert "Needs attention: Win EMEA / EMEA deals (Off track, Ana)" in sales_page
    assert "EMEA deals Ana 2 10 0.20 ✕Off track" in sales_page
    marketing_page = seen[("marketing", PHONE[0])]
    assert "Loop A no score –Invalid" in marketing_page
    assert "OKRs!C3: Parent makes a cycle: Loop A -> Loop B -> Loop A" in marketing_page
    assert "Company ✕Off track 2 0 2026-11-22" in seen[("index", DESKTOP[0])]
    assert "Marketing ✕Off track 1 –Invalid 2 2 2026-11-22" in seen[("index", DESKTOP[0])]
    assert {p.split("?")[0] for p in requested} <= {
        "/harness-1280.html",
        "/harness-390.html",
        *(f"/report/{page}.html" for page in ("company", "sales", "support", "marketing", "index")),
        "/favicon.ico",
    }, "nothing but the pages themselves is fetched"

    # The pictures in the README (SHEETSYNC_UPDATE_DOCS=1 keeps them in docs/).
    folder = DOCS if os.environ.get("SHEETSYNC_UPDATE_DOCS") == "1" else tmp_path
    shots = [("report-desktop.png", "company", DESKTOP), ("report-phone.png", "company", PHONE),
             ("report-index.png", "index", (DESKTOP[0], 420))]  # fmt: skip
    with serve_folder(site) as (url, _):
        for name, page, (width, height) in shots:
            path = browser.screenshot(f"{url}/report/{page}.html", folder / name, width, height)
            assert png_size(path) == (width, height)
            assert path.stat().st_size > 10_000  # a rendered page, not a blank image
