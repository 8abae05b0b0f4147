"""Fifty Google workbooks, five at a time, with rate limiting and 429s: every one gets synced."""

from __future__ import annotations

import json

from sheetsync.cli import main
from tests.e2e.test_sync_story import KPIS, OKRS
from tests.e2e.workbooks import GoogleSheets, write_config

CLEAN_OKRS = [row for row in OKRS if row[0] != "S3"]


def fifty(sheets_api, service_account_file, tmp_path, count=50):
    sheets = GoogleSheets(sheets_api, service_account_file)
    entries = [
        sheets.create(f"team-{i:02d}", {"OKRs": CLEAN_OKRS, "KPIs": KPIS}) for i in range(count)
    ]
    extra = sheets.config_extra() + "requests_per_minute = 100000\n"
    return sheets, write_config(tmp_path, entries, extra)


def test_fifty_workbooks_with_five_workers_and_injected_429s_all_sync(
    sheets_api, service_account_file, tmp_path, capsys
):
    sheets, config = fifty(sheets_api, service_account_file, tmp_path)
    sheets_api.fail_next(429, times=6, retry_after=0, kind="get")
    sheets_api.fail_next(503, times=2, kind="batchUpdate")
    code = main(
        ["run", "--config", str(config), "--as-of", "2026-11-15", "--workers", "5", "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, [w["error"] for w in out["workbooks"] if w["error"]]
    assert len(out["workbooks"]) == 50
    assert all(w["ok"] and w["wrote"] for w in out["workbooks"])
    for i in range(50):
        assert "Summary" in sheets.tabs(f"team-{i:02d}")
    # per workbook one read and one batch (checked in its own answer); plus the retried
    # requests, and after each 5xx on a batch one get to check whether the lost attempt was
    # applied
    assert sheets_api.counts["batchUpdate"] == 50 + 2
    assert sheets_api.counts["get"] == 50 + 6 + 2


def test_shards_split_the_workbooks_and_together_sync_each_exactly_once(
    sheets_api, service_account_file, tmp_path, capsys
):
    _, config = fifty(sheets_api, service_account_file, tmp_path, count=12)
    seen = []
    for shard in ("0/3", "1/3", "2/3"):
        main(["run", "--config", str(config), "--as-of", "2026-11-15", "--shard", shard, "--json"])
        seen += [w["name"] for w in json.loads(capsys.readouterr().out)["workbooks"]]
    assert sorted(seen) == [f"team-{i:02d}" for i in range(12)]
    assert sheets_api.counts["batchUpdate"] == 12


def test_one_key_file_gets_one_token_for_every_workbook_of_the_run(
    sheets_api, service_account_file, tmp_path, capsys
):
    """The key is read and signed once per process, not once per workbook: 200 workbooks
    used to cost 200 token requests and half the client's CPU."""
    _, config = fifty(sheets_api, service_account_file, tmp_path, count=12)
    code = main(
        ["run", "--config", str(config), "--as-of", "2026-11-15", "--workers", "4", "--json"]
    )
    out = json.loads(capsys.readouterr().out)
    assert code == 0, [w["error"] for w in out["workbooks"] if w["error"]]
    assert sheets_api.counts["token"] == 1
