"""`sheetsync report` in a real headless Chromium: the cascade, scores and statuses a manager sees.

The company workbook and its three departments (Excel and Google mixed) are synced by two
shard processes; `sheetsync report` then writes one page per workbook and an index. Chromium
loads them from a loopback server at desktop and phone widths; the test reads the text a person
sees and takes screenshots at both widths (the README's pictures come from the fuller story in
test_manager_story.py).
"""

from __future__ import annotations

import email
import email.policy
import http.client
import re
import signal
import socket
import subprocess
import time

import pytest

from sheetsync.cli import main
from tests.e2e.cascade import SHEETSYNC, make_cascade, night, report_shards
from tests.e2e.chromium import Chromium, png_size, serve_folder, words
from tests.e2e.workbooks import ExcelSheets, GoogleSheets, write_config

DESKTOP, PHONE = (1280, 1100), (390, 1500)


@pytest.fixture
def reports(sheets_api, service_account_file, tmp_path):
    google = GoogleSheets(sheets_api, service_account_file)
    config = make_cascade(google, ExcelSheets(tmp_path), tmp_path)
    night(config, "2026-11-15")
    site = tmp_path / "site"
    code = main(["report", "--config", str(config), "--out", str(site / "report"),
                 "--as-of", "2026-11-15"])  # fmt: skip
    assert code == 0
    return site


def test_report_pages_are_self_contained_files_one_per_workbook(reports):
    out = reports / "report"
    assert sorted(p.name for p in out.iterdir()) == [
        ".index.json",  # the index's lines, for shards that write their own pages
        ".index.lock",
        "company.html",
        "index.html",
        "marketing.html",
        "sales.html",
        "support.html",
    ]
    for page in out.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        # Nothing to fetch: no scripts, stylesheets, images, fonts or imports.
        for asset in ("<script", "<link", "<img", "src=", "url(", "@import"):
            assert asset not in text, (page.name, asset)
        assert "<style>" in text
        assert page.name == "index.html" or "<svg" in text  # the score bars are inline SVG
    # A Google workbook's page links to the spreadsheet (a link to follow, not an asset).
    assert 'href="https://docs.google.com/spreadsheets/d/' in (out / "company.html").read_text()


def test_a_manager_sees_the_cascade_with_scores_and_status_words_at_desktop_and_phone_widths(
    reports, tmp_path
):
    browser = Chromium(tmp_path / "chromium")
    with serve_folder(reports) as (url, requested):
        seen = {w: browser.visible_text(reports, url, "report/company.html", w)
                for w in (DESKTOP[0], PHONE[0])}  # fmt: skip
        index = browser.visible_text(reports, url, "report/index.html", DESKTOP[0])
        marketing = browser.visible_text(reports, url, "report/marketing.html", PHONE[0])
    desktop, phone, index, marketing = map(words, (seen[DESKTOP[0]], seen[PHONE[0]], index,
                                                   marketing))  # fmt: skip

    # Each objective with its score and status word, children below their parent (level 2),
    # a child from another workbook with the date its numbers are from.
    # (status points: Win EMEA has one key result Off track and one child On track: At risk)
    assert re.search(r"Grow revenue 0\.5[23] !At risk includes 1 child objective ↳ level 2: "
                     r"Win EMEA from Sales, as of 2026-11-15 0\.50 !At risk", desktop)  # fmt: skip
    assert "Delight customers 0.40 !At risk includes 2 child objectives" in desktop
    assert "Faster answers from Support, as of 2026-11-15 0.50 ✓On track" in desktop
    assert "Brand from Marketing, as of 2026-11-15 0.30 ✕Off track" in desktop
    assert "Revenue (k$) Ceo 600 1000 0.60 ✓On track" in desktop

    # Phone: the same words and numbers, each table row stacked into lines.
    for shown in ("Win EMEA from Sales, as of 2026-11-15 0.50 !At risk",
                  "Delight customers 0.40 !At risk", "Brand from Marketing", "0.30 ✕Off track",
                  "Revenue (k$) Ceo 600 1000 0.60 ✓On track"):  # fmt: skip
        assert shown in phone, shown
    assert "Parent makes a cycle: Loop A -> Loop B -> Loop A" in marketing
    assert marketing.count("Invalid") >= 2

    # The index links every workbook and says how its objectives stand.
    for name in ("Company", "Sales", "Support", "Marketing"):
        assert name in index
    assert "Marketing ✕Off track 1 –Invalid 2 2" in index

    # Nothing but our own pages (and the test's harness) was fetched: no external assets.
    assert {p.split("?")[0] for p in requested} <= {
        "/harness-1280.html",
        "/harness-390.html",
        "/report/company.html",
        "/report/index.html",
        "/report/marketing.html",
        "/favicon.ico",
    }

    # Screenshots at both widths.
    folder = tmp_path
    shots = []
    with serve_folder(reports) as (url, _):
        for name, (width, height) in (("desktop", DESKTOP), ("phone", PHONE)):
            path = folder / f"report-{name}.png"
            browser.screenshot(f"{url}/report/company.html", path, width, height)
            shots.append((path, width, height))
        index = folder / "report-index.png"
        browser.screenshot(f"{url}/report/index.html", index, DESKTOP[0], 500)
    for path, width, height in [*shots, (index, DESKTOP[0], 500)]:
        assert png_size(path) == (width, height)
        assert path.stat().st_size > 10_000  # a rendered page, not a blank image


def test_alert_digests_link_each_workbook_to_its_report_page(excel_sheets, tmp_path):
    okrs = [["Objective", "Key Result", "Owner", "Target", "Current"],
            ["Grow", "Leads", "ana@example.com", 100, 5]]  # fmt: skip
    entry = excel_sheets.create("Sales & Co", {"OKRs": okrs, "KPIs": [["KPI", "Target", "Actual"]]})
    extra = '[report]\nurl = "https://okrs.example.com/reports"\n[email]\noutbox = "outbox"\n'
    config = write_config(tmp_path, [entry], extra)
    main(["run", "--config", str(config), "--as-of", "2026-11-15"])
    (eml,) = (tmp_path / "outbox").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    page = "https://okrs.example.com/reports/sales-co.html"
    assert f"Report page: {page}" in text
    assert f'<a href="{page}">See Sales &amp; Co on the report page</a>' in html
    site = tmp_path / "site"
    main(["report", "--config", str(config), "--out", str(site), "--as-of", "2026-11-15"])
    assert (site / "sales-co.html").exists(), "the link names the page `report` writes"


def test_serve_writes_the_report_and_serves_it_read_only_on_loopback(excel_sheets, tmp_path):
    okrs = [["Objective", "Key Result", "Owner", "Target", "Current"],
            ["Grow", "Leads", "Ana", 100, 60]]  # fmt: skip
    entry = excel_sheets.create("Team", {"OKRs": okrs, "KPIs": [["KPI", "Target", "Actual"]]})
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = f'[report]\ndir = "site"\nport = {port}\n[schedule]\nat = "03:30"\n'
    config = write_config(tmp_path, [entry], extra)
    proc = subprocess.Popen([*SHEETSYNC, "serve", "--config", str(config)],
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        seen, deadline = "", time.monotonic() + 60
        while "report pages written" not in seen and time.monotonic() < deadline:
            seen += proc.stderr.readline()
        assert f"report pages served read-only at http://127.0.0.1:{port}/" in seen, seen
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        response = conn.getresponse()
        index = response.read().decode()
        assert response.status == 200 and 'href="team.html"' in index
        conn.request("GET", "/team.html")
        page = conn.getresponse().read().decode()
        assert "Leads" in page and re.search(r"</span>(On track|At risk|Off track)</span>", page)
        conn.request("POST", "/team.html", body=b"<h1>defaced</h1>")
        assert conn.getresponse().status == 501
        conn.close()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        proc.kill()


def test_each_shard_writes_its_own_pages_and_the_index_lists_every_workbook(
    sheets_api, service_account_file, tmp_path
):
    google = GoogleSheets(sheets_api, service_account_file)
    config = make_cascade(google, ExcelSheets(tmp_path), tmp_path)
    night(config, "2026-11-15")
    out = tmp_path / "site"

    # The company's shard first: its own two pages; the index already lists all four.
    report_shards(config, out, "2026-11-15", ("1/2",))
    assert sorted(p.name for p in out.glob("*.html")) == [
        "company.html", "index.html", "marketing.html"]  # fmt: skip
    index = words(re.sub(r"<[^>]+>", " ", (out / "index.html").read_text()))
    assert "Sales – No page yet" in index and "Support – No page yet" in index
    assert "Marketing ✕ Off track 1 – Invalid 2 2 2026-11-15" in index

    # Both shards at once, into the same folder: every page, one index listing them all.
    before = len(sheets_api.log)
    report_shards(config, out, "2026-11-15")
    assert sorted(p.name for p in out.glob("*.html")) == [
        "company.html", "index.html", "marketing.html", "sales.html", "support.html"]  # fmt: skip
    page = (out / "index.html").read_text()
    for name in ("company", "sales", "support", "marketing"):
        assert f'href="{name}.html"' in page
    assert "No page yet" not in page
    # Each workbook was read by one shard only: Company and its child Support's Summary in
    # one, Support in the other; nothing was written.
    sheet_requests = [r.kind for r in sheets_api.log[before:] if r.kind != "token"]
    assert sorted(sheet_requests) == ["get", "get", "get"]


def test_serve_shards_write_their_own_pages_into_one_folder_and_shard_0_serves_it(
    excel_sheets, tmp_path
):
    okrs = [["Objective", "Key Result", "Owner", "Target", "Current"],
            ["Grow", "Leads", "Ana", 100, 60]]  # fmt: skip
    kpis = [["KPI", "Target", "Actual"]]
    # Sales is in shard 0 of 2, Marketing in shard 1 (the split the cascade story runs).
    entries = [excel_sheets.create(n, {"OKRs": okrs, "KPIs": kpis}) for n in ("Sales", "Marketing")]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    extra = f'[report]\ndir = "site"\nport = {port}\n[schedule]\nat = "03:30"\n'
    config = write_config(tmp_path, entries, extra)
    procs = {
        shard: subprocess.Popen(
            [*SHEETSYNC, "serve", "--config", str(config), "--shard", shard],
            stderr=subprocess.PIPE,
            text=True,
        )
        for shard in ("1/2", "0/2")
    }
    try:
        logs = {}
        for shard, proc in procs.items():
            seen, deadline = "", time.monotonic() + 60
            while "report pages written:" not in seen and time.monotonic() < deadline:
                seen += proc.stderr.readline()
            logs[shard] = seen
        assert f"served read-only at http://127.0.0.1:{port}/" in logs["0/2"], logs
        assert "shard 0 serves them" in logs["1/2"] and "served read-only" not in logs["1/2"]
        assert "report pages written: 2" in logs["1/2"]  # its page and the index
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", "/")
        index = conn.getresponse().read().decode()
        assert 'href="sales.html"' in index and 'href="marketing.html"' in index
        for page in ("/sales.html", "/marketing.html"):
            conn.request("GET", page)
            response = conn.getresponse()
            assert response.status == 200 and "Leads" in response.read().decode()
        conn.close()
        for proc in procs.values():
            proc.send_signal(signal.SIGTERM)
        assert [proc.wait(timeout=30) for proc in procs.values()] == [0, 0]
    finally:
        for proc in procs.values():
            proc.kill()
