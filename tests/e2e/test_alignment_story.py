"""A company workbook and three department workbooks, Excel and Google mixed, in two shards.

Each night two `sheetsync run --shard I/2` processes run side by side. Each syncs only its own
workbooks; the company's sync reads each department's Summary tab (one request for a Google
department, none for an Excel file) and rolls the departments' objectives into its own.
"""

from __future__ import annotations

import pytest

from tests.e2e.cascade import make_cascade, night, tree
from tests.e2e.workbooks import ExcelSheets, GoogleSheets


@pytest.fixture
def company(sheets_api, service_account_file, tmp_path):
    google = GoogleSheets(sheets_api, service_account_file)
    excel = ExcelSheets(tmp_path)
    return google, excel, make_cascade(google, excel, tmp_path)


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
    # status points: own On track 1 x 1, Win EMEA At risk (own KR Off track, Paris On track:
    # 1/2) 1/2 x 3: 2.5 / 4 = 0.625
    assert rows["Grow revenue"]["Status"] == "At risk"
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
    # 2 (read, batch checked in its own answer), plus 1 for Support; the Excel children cost
    # no request.
    assert second["Company"]["api_requests"] == 2 + 1
    assert second["Support"]["api_requests"] == 2


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
