"""A parent workbook reads a Google child's Summary with exactly one request, and never writes it.

The budget the README states: a parent's sync costs its own requests plus one
`spreadsheets.get` per Google child workbook, whatever the child's size.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from sheetsync.config import parse_config
from sheetsync.runner import run_all
from tests.e2e.workbooks import GoogleSheets

pytest_plugins = ["tests.sheets_standin.fixtures"]

HEAD = ["Objective ID", "Objective", "Parent", "Key Result", "Target", "Current"]
AS_OF = date(2026, 11, 15)
NOW = datetime(2026, 11, 15, 2, 0, tzinfo=UTC)


def _company_with(
    api: Any, service_account_file: Path, children: dict[str, list[list[Any]]]
) -> tuple[GoogleSheets, dict[str, Any]]:
    """A Company workbook whose children are the given Google workbooks (name: OKRs rows)."""
    sheets = GoogleSheets(api, service_account_file)
    company = sheets.create("Company", {"OKRs": [HEAD, ["C1", "Grow", None, "Revenue", 100, 50]]})
    entries = [sheets.create(name, {"OKRs": [HEAD, *rows]}) for name, rows in children.items()]
    raw = {
        "workbooks": [{**company, "children": list(children)}, *entries],
        "google": {"api_url": api.url, "credentials": str(service_account_file)},
        "tabs": {"kpis": ""},
        "alerts": {"enabled": False},
    }
    return sheets, raw


def test_parent_sync_reads_each_google_child_once_and_writes_only_itself(
    sheets_api, service_account_file, tmp_path
):
    big = [[None, f"Team goal {i}", "Company: C1", f"KR {i}", 10, i % 10] for i in range(300)]
    answer = [[None, "Answer", "Company: C1", "SLA", 10, 5]]
    sheets, raw = _company_with(sheets_api, service_account_file, {"Sales": big, "Support": answer})
    config = parse_config(raw, source=str(tmp_path / "sheetsync.toml"))
    children = [wb for wb in config.workbooks if wb.name != "Company"]
    run_all(config, as_of=AS_OF, now=NOW, workbooks=children, alerts=False)

    before = len(sheets_api.log)
    report = run_all(config, as_of=AS_OF, now=NOW, workbooks=config.workbooks[:1], alerts=False)
    during = sheets_api.log[before:]

    ids = {name: sheets.ids[name] for name in ("Company", "Sales", "Support")}
    for child in ("Sales", "Support"):
        hits = [r for r in during if ids[child] in r.path]
        assert [r.kind for r in hits] == ["get"], child
    own = [r for r in during if ids["Company"] in r.path]
    assert [r.kind for r in own] == ["get", "batchUpdate"]
    (company,) = report.workbooks
    assert company.requests == len(own) + 2
    assert company.objectives[0].note.startswith("includes 301 child objectives")


def test_a_parent_asks_a_google_child_for_its_summary_tab_only_and_the_child_keeps_ranged_reads(
    sheets_api, service_account_file, tmp_path
):
    big = [[None, f"Team goal {i}", "Company: C1", f"KR {i}", 10, i % 10] for i in range(300)]
    sheets, raw = _company_with(sheets_api, service_account_file, {"Sales": big})
    in_memory = parse_config(raw, source=str(tmp_path / "not-a-file.toml"))
    run_all(in_memory, as_of=AS_OF, now=NOW, alerts=False)  # remembers nothing between runs

    before = len(sheets_api.log)
    run_all(in_memory, as_of=AS_OF, now=NOW, workbooks=in_memory.workbooks[:1], alerts=False)
    (child_read,) = [r for r in sheets_api.log[before:] if sheets.ids["Sales"] in r.path]
    assert child_read.params["ranges"] == ["'Summary'"]
    assert child_read.status == 200

    config_file = tmp_path / "sheetsync.toml"
    config_file.write_text("# written by the test; the settings are below\n")
    remembering = parse_config(raw, source=str(config_file))
    run_all(remembering, as_of=AS_OF, now=NOW, alerts=False)  # children first, then the parent
    before = len(sheets_api.log)
    run_all(remembering, as_of=AS_OF, now=NOW, workbooks=remembering.workbooks[1:], alerts=False)
    (child_sync,) = [r for r in sheets_api.log[before:] if r.kind == "get"]
    assert child_sync.params["ranges"] == [
        "'OKRs'",
        "'Summary'",
        "'History'!1:2",  # its header only: the state tab holds what a night needs of it
        "'History state'",
    ]


def test_a_child_without_a_summary_yet_costs_the_parent_one_request(
    sheets_api, service_account_file, tmp_path
):
    sell = [[None, "Sell", "Company: C1", "Deals", 10, 5]]
    sheets, raw = _company_with(sheets_api, service_account_file, {"Sales": sell})
    config = parse_config(raw, source=str(tmp_path / "sheetsync.toml"))

    report = run_all(config, as_of=AS_OF, now=NOW, workbooks=config.workbooks[:1], alerts=False)

    (child_read,) = [r for r in sheets_api.log if sheets.ids["Sales"] in r.path]
    assert child_read.params["ranges"] == ["'Summary'"]
    (company,) = report.workbooks
    assert any("no sheetsync Summary yet" in p for p in company.problems)
