"""A company workbook and three department workbooks, Excel and Google mixed, in two shards.

Each night two `sheetsync run --shard I/2` processes run side by side. Each syncs only its own
workbooks; the company's sync reads each department's Summary tab (one request for a Google
department, none for an Excel file) and rolls the departments' objectives into its own.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.workbooks import ExcelSheets, GoogleSheets, write_config

HEAD = [
    "Objective ID",
    "Objective",
    "Parent",
    "Objective weight",
    "Key Result",
    "Owner",
    "Start",
    "Target",
    "Current",
]
COMPANY = [
    HEAD,
    ["C1", "Grow revenue", None, None, "Revenue (k$)", "Ceo", 0, 1000, 600],
    ["C2", "Delight customers", None, None, None, None, None, None, None],
]
SALES = [
    HEAD,
    [None, "Win EMEA", "Company: C1", 3, "EMEA deals", "Ana", 0, 10, 2],
    [None, "Win Paris", "Win EMEA", None, "Paris deals", "Ana", 0, 10, 8],
]
SUPPORT = [
    HEAD,
    [None, "Faster answers", "Company: C2", None, "First response (h)", "Dee", 4, 2, 3],
]
MARKETING = [
    HEAD,
    [None, "Brand", "Company: C2", None, "Awareness %", "Mo", 0, 100, 30],
    [None, "Loop A", "Loop B", None, "x", "Mo", 0, 10, 5],
    [None, "Loop B", "Loop A", None, "y", "Mo", 0, 10, 5],
]  # fmt: skip


SHEETSYNC = [sys.executable, "-m", "sheetsync.cli"]


@pytest.fixture
def company(sheets_api, service_account_file, tmp_path):
    google = GoogleSheets(sheets_api, service_account_file)
    excel = ExcelSheets(tmp_path)
    entries = [
        google.create("Company", {"OKRs": COMPANY}),
        excel.create("Sales", {"OKRs": SALES}),
        google.create("Support", {"OKRs": SUPPORT}),
        excel.create("Marketing", {"OKRs": MARKETING}),
    ]
    entries[0]["children"] = ["Sales", "Support", "Marketing"]
    extra = google.config_extra() + '[tabs]\nkpis = ""\n'
    return google, excel, write_config(tmp_path, entries, extra)


def night(config: Path, as_of: str, shards: tuple[str, ...] = ("0/2", "1/2")) -> dict:
    """Run each shard as its own process, side by side; their JSON results by workbook."""
    procs = [
        subprocess.Popen(
            [
                *SHEETSYNC,
                "run",
                "--config",
                str(config),
                "--as-of",
                as_of,
                "--shard",
                shard,
                "--json",
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for shard in shards
    ]
    results = {}
    for proc in procs:
        out, err = proc.communicate(timeout=120)
        assert out, err
        for wb in json.loads(out)["workbooks"]:
            assert wb["name"] not in results, "a workbook was synced by two shards"
            results[wb["name"]] = wb
    return results


def tree(values: list[list]) -> dict[str, list]:
    start = next(i for i, row in enumerate(values) if row and row[0] == "Alignment tree")
    header = values[start + 1]
    rows = {}
    for row in values[start + 2 :]:
        if not row or row[0] in (None, ""):
            break
        rows[row[0]] = dict(zip(header, row, strict=False))
    return rows


def test_the_company_rolls_up_its_departments_across_shards_and_backends(company):
    google, excel, config = company
    first = night(config, "2026-11-15")
    assert sorted(first) == ["Company", "Marketing", "Sales", "Support"]
    second = night(config, "2026-11-16")

    sales = tree(excel.values("Sales", "Summary"))
    assert sales["Win EMEA"]["Score"] == 0.5  # own 0.2 and Paris 0.8
    assert sales["    ↳ Win Paris"]["Level"] == 1

    summary = google.values("Company", "Summary")
    rows = tree(summary)
    # Grow revenue: own 0.6 (weight 1) and Sales' Win EMEA 0.5 (objective weight 3)
    assert rows["Grow revenue"]["Score"] == pytest.approx(0.525)
    assert rows["Grow revenue"]["Status"] == "On track"
    assert rows["    ↳ Win EMEA"]["Workbook"] == "Sales"
    assert rows["    ↳ Win EMEA"]["As of"] in ("2026-11-15", "2026-11-16")
    # Delight customers has no key results: the mean of Support's 0.5 and Marketing's 0.3
    assert rows["Delight customers"]["Score"] == pytest.approx(0.4)
    assert rows["    ↳ Faster answers"]["Workbook"] == "Support"
    assert rows["    ↳ Brand"]["Workbook"] == "Marketing"

    # The cycle in Marketing is a validation error on its Parent cells; the rest still syncs.
    assert second["Marketing"]["invalid_rows"] == 2
    assert any("OKRs!C3: Parent makes a cycle: Loop A -> Loop B -> Loop A" in p
               for p in second["Marketing"]["problems"])  # fmt: skip
    marketing = excel.values("Marketing", "OKRs")
    assert marketing[2][marketing[0].index("Status")] == "Invalid"

    # The company's sync reads one Google child with one request: its own changed sync costs
    # 3 (read, verify, batch), plus 1 for Support; the Excel children cost no request.
    assert second["Company"]["api_requests"] == 3 + 1
    assert second["Support"]["api_requests"] == 3


def test_a_department_that_stopped_syncing_is_flagged_stale_on_the_company_summary(company):
    google, _, config = company
    night(config, "2026-11-15")
    night(config, "2026-11-16")
    # Only the company's shard runs two weeks later: the departments are not synced again.
    later = night(config, "2026-11-30", shards=("1/2",))
    assert sorted(later) == ["Company", "Marketing"]
    rows = tree(google.values("Company", "Summary"))
    assert rows["    ↳ Faster answers"]["Note"] == "stale: 'Support' last synced 2026-11-16"
    assert "'Support' is stale (last synced 2026-11-16)" in rows["Delight customers"]["Note"]
    assert not rows["    ↳ Brand"]["Note"]  # Marketing ran in the same shard, same night
