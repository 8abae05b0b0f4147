"""A team keeps its KPIs as a scorecard (one column per period) and runs `sheetsync run`.

Both backends: Excel files written by XlsxWriter as Excel writes them, and the Google stand-in.
"""

from __future__ import annotations

from datetime import datetime

import pytest

from sheetsync.cli import main
from sheetsync.core.model import Colour
from tests.e2e.workbooks import write_config

AS_OF = "2026-11-15"
OKRS = [
    ["Objective", "Key Result", "Start", "Target", "Current", "KPI"],
    ["Grow", "Signups to 150", 0, 150, None, "Signups"],
]
MONTHLY = [
    ["KPI", "Kind", "Owner", "Unit", "Direction", "Target", "Jul", "Aug", "Sep", "Oct", "Nov",
     "Dec"],
    ["Signups", None, "Ana", None, "higher", None, 80, 92, 101, 112, None, None],
    [None, "Target", None, None, None, None, 80, 90, 100, 120, 130, 140],
    ["Churn", None, "Dee", None, "lower", "2%", "3.1%", "2.8%", "2.6%", "2.4%", None, None],
    ["Revenue", None, "Ana", "$", "higher", 50000, None, None, None, None, None, None],
]  # fmt: skip


def run(config, *extra: str) -> int:
    return main(["run", "--config", str(config), "--as-of", AS_OF, *extra])


def synced(sheets, tmp_path, kpis, name="card"):
    entry = sheets.create(name, {"OKRs": OKRS, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    code = run(config)
    values = sheets.values(name, "KPIs")
    head = values[0]
    outputs = {
        h: [row[head.index(h)] for row in values[1:]] for h in ("Score", "Status", "Note", "Trend")
    }
    return code, outputs, config


def test_a_monthly_scorecard_with_a_ramped_target_is_judged_on_its_latest_month(sheets, tmp_path):
    code, out, _ = synced(sheets, tmp_path, MONTHLY)
    assert code == 0
    # Signups: October 112 against October's ramped target 120 (warning 108): At risk.
    assert out["Status"] == ["At risk", None, "Off track", "No data"]
    assert out["Score"][0] == pytest.approx(112 / 120, abs=1e-3)
    assert out["Status"][1] is None, "the Target row is an input: nothing is written there"
    # Churn (lower is better): 2.4% in October against 2% (warning 2.2%): Off track.
    assert out["Score"][2] == pytest.approx(0.02 / 0.024, abs=1e-3)
    assert sheets.fill("card", "KPIs", "N2") == Colour.AMBER.value
    okrs = sheets.values("card", "OKRs")
    assert okrs[1][okrs[0].index("Score")] == pytest.approx(112 / 150, abs=1e-3), (
        "a key result linked to a scorecard KPI takes its latest month"
    )


def test_weekly_quarterly_and_date_scorecards(sheets, tmp_path):
    weekly = [["KPI", "Target", "W44", "W45", "W46", "W47"], ["Tickets", 100, 90, 104, 120, None]]
    quarterly = [["KPI", "Target", "2026-Q2", "2026-Q3", "2026-Q4"], ["NPS", 40, 35, 42, None]]
    dated = [
        ["KPI", "Target", datetime(2026, 10, 31), datetime(2026, 11, 7), datetime(2026, 11, 21)],
        ["Uptime", 0.999, 0.9995, 0.998, 1.0],
    ]
    results = {}
    for name, grid in (("weekly", weekly), ("quarterly", quarterly), ("dated", dated)):
        folder = tmp_path / name
        folder.mkdir()
        results[name] = synced(sheets, folder, grid, name)[1]
    # W46 (9-15 Nov) has started by 15 Nov: 120 vs 100.
    assert results["weekly"]["Score"] == [pytest.approx(1.2)]
    # Q4 is blank: Q3's 42 vs 40.
    assert results["quarterly"]["Status"] == ["On track"]
    # 21 Nov is after the as-of date: 7 Nov's 99.8% vs 99.9% is within the 10% warning band.
    assert results["dated"]["Status"] == ["At risk"]


def test_mixed_layout_single_actual_and_scorecard_kpis_side_by_side(sheets, tmp_path):
    mixed = [
        ["KPI", "Target", "Actual", "Sep", "Oct"],
        ["Revenue", 100, 120, None, None],
        ["Signups", 50, None, 40, 55],
        ["Leads", 50, None, None, None],
    ]
    code, out, _ = synced(sheets, tmp_path, mixed)
    assert code == 0
    assert out["Status"] == ["On track", "On track", "No data"]
    assert out["Score"][:2] == [pytest.approx(1.2), pytest.approx(1.1)]


def test_problems_in_a_scorecard_are_named_by_cell(sheets, tmp_path):
    bad = [
        ["KPI", "Kind", "Target", "Sep", "Oct"],
        ["Signups", None, None, 40, "lots"],
        ["Ghost", "Target", None, 1, 2],
        ["Leads", None, None, 5, 6],
        [None, "Target", None, 5, 6],
        [None, "Target", None, 7, 8],
    ]
    code, out, _ = synced(sheets, tmp_path, bad)
    assert code == 1
    assert out["Status"] == ["Invalid", "Invalid", "Invalid", None, None]
    assert out["Note"][0].startswith("E2: Oct: not a number")
    assert out["Note"][1].startswith("B3: a Target row for KPI 'Ghost'")
    assert out["Note"][2].startswith("B6: a second Target row for KPI 'Leads'")


def test_an_unchanged_scorecard_is_not_written_again(sheets, tmp_path):
    _, _, config = synced(sheets, tmp_path, MONTHLY)
    before = sheets.snapshot("card")
    assert run(config) == 0
    assert sheets.snapshot("card") == before


def test_scorecard_kpis_show_their_trend_and_the_change_since_last_month(sheets, tmp_path):
    _, out, _ = synced(sheets, tmp_path, MONTHLY)
    assert out["Trend"] == ["↑ ▁▄▆█", None, "↑ █▅▃▁", None], (
        "Signups rising is better; Churn falling is better, so it points up too"
    )
    assert out["Note"][0] == "worse than target 120; +11 vs Sep"
    assert out["Note"][2] == "worse than the warning level 2.2%; −0.2 pp vs Sep"


def test_kpis_and_key_results_without_periods_trend_over_past_runs(sheets, tmp_path):
    kpis = [["KPI", "Target", "Actual"], ["NPS", 40, 30]]
    okrs = [
        ["Objective", "Key Result", "Start", "Target", "Current"],
        ["Grow", "Leads", 0, 100, 20],
    ]
    entry = sheets.create("runs", {"OKRs": okrs, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    for day, nps, leads in (("2026-11-13", 30, 20), ("2026-11-14", 36, 50), (AS_OF, 33, 60)):
        sheets.edit("runs", "KPIs", "C2", nps)
        sheets.edit("runs", "OKRs", "E2", leads)
        main(["run", "--config", str(config), "--as-of", day])
    kpi_row = sheets.values("runs", "KPIs")
    assert kpi_row[0][-1] == "Trend"
    assert kpi_row[1][-1] == "↓ ▁█▅", "NPS 30 -> 36 -> 33: down from yesterday"
    okr_row = sheets.values("runs", "OKRs")
    assert okr_row[1][-1] == "↑ ▁▆█", "Leads scored 0.2 -> 0.5 -> 0.6"
    before = sheets.snapshot("runs")
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert sheets.snapshot("runs") == before, "re-running a date draws the same trend"


def test_a_single_actual_kpis_note_says_how_far_it_moved_since_history_last_saw_it_different(
    sheets, tmp_path
):
    kpis = [["KPI", "Unit", "Target", "Actual"], ["Conversion", None, 0.1, 0.103],
            ["Revenue", "$", 50000, 60000], ["NPS", None, 40, 45]]  # fmt: skip
    formats = {"KPIs": {"C2": "0.0%", "D2": "0.0%"}}
    okrs = [["Objective", "Key Result", "Target", "Current"], ["Grow", "Leads", 100, 60]]
    entry = sheets.create("moves", {"OKRs": okrs, "KPIs": kpis}, formats=formats)
    config = write_config(tmp_path, [entry], sheets.config_extra())
    notes = {}
    for day, conversion, revenue in (
        ("2026-11-08", 0.103, 60000),
        ("2026-11-15", 0.115, 60000),
        ("2026-11-22", 0.115, 57000),
    ):
        sheets.edit("moves", "KPIs", "D2", conversion)
        sheets.edit("moves", "KPIs", "D3", revenue)
        assert main(["run", "--config", str(config), "--as-of", day]) == 0
        values = sheets.values("moves", "KPIs")
        notes[day] = [row[values[0].index("Note")] for row in values[1:]]
    assert notes["2026-11-08"] == [None, None, None], "no earlier value in History: no change"
    assert notes["2026-11-15"] == ["+1.2 pp since 8 Nov", None, None]
    assert notes["2026-11-22"] == ["+1.2 pp since 8 Nov", "−$3,000 since 15 Nov", None], (
        "Conversion kept 11.5% on 22 Nov: still measured from 10.3% on 8 Nov; NPS never moved"
    )


def test_a_single_actual_kpi_on_a_scorecard_tab_trends_over_past_runs(sheets, tmp_path):
    kpis = [["KPI", "Target", "Actual", "Sep", "Oct"], ["NPS", 40, 30, None, None],
            ["Signups", 50, None, 40, 55]]  # fmt: skip
    entry = sheets.create("mixed", {"OKRs": OKRS, "KPIs": kpis})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    for day, nps in (("2026-11-14", 30), (AS_OF, 36)):
        sheets.edit("mixed", "KPIs", "C2", nps)
        main(["run", "--config", str(config), "--as-of", day])
    values = sheets.values("mixed", "KPIs")
    trend = values[0].index("Trend")
    assert [row[trend] for row in values[1:]] == ["↑ ▁█", "↑ ▁█"]


def test_a_12_month_scorecard_of_500_kpis_costs_the_same_google_requests_as_10(
    sheets_api, service_account_file, tmp_path
):
    from tests.e2e.workbooks import GoogleSheets

    sheets = GoogleSheets(sheets_api, service_account_file)
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    costs = {}
    for count in (10, 500):
        kpis = [["KPI", "Kind", "Target", *months]]
        for i in range(count):
            kpis.append([f"KPI {i}", None, 100, *[90 + m + i % 7 for m in range(11)], None])
            kpis.append([None, "Target", None, *[95 + m for m in range(12)]])
        folder = tmp_path / str(count)
        folder.mkdir()
        okrs = [["Objective", "Key Result", "Target", "Current"], ["Grow", "Leads", 100, 60]]
        entry = sheets.create(f"card{count}", {"OKRs": okrs, "KPIs": kpis})
        config = write_config(folder, [entry], sheets.config_extra())
        runs = []
        for _ in range(2):
            sheets_api.reset_counts()
            assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
            runs.append(sheets_api.api_requests)
        costs[count] = tuple(runs)
        values = sheets.values(f"card{count}", "KPIs")
        assert values[1][values[0].index("Trend")].startswith("↑")
    assert costs[10] == costs[500] == (2, 1), "read + one batchUpdate, then only the read"
