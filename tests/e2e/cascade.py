"""The cascade the alignment and report stories share: a company and three departments.

`Company` (Google) has two objectives; `Sales` (Excel) and `Support` (Google) and `Marketing`
(Excel) name parents in it. Marketing also has a cycle, on purpose.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

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
COMPANY_KPIS = [
    ["KPI", "Owner", "Direction", "Target", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11"],
    ["Signups", "Ana", "higher", 100, 80, 92, 101, 112, 118],
    ["Churn", "Dee", "lower", "2%", "3.1%", "2.8%", "2.6%", "2.4%", "2.5%"],
]
NO_KPIS = [["KPI", "Target", "Actual"]]
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


def make_cascade(google: GoogleSheets, excel: ExcelSheets, folder: Path) -> Path:
    """Create the four workbooks; return the config (the company reads the three)."""
    entries = [
        google.create("Company", {"OKRs": COMPANY, "KPIs": COMPANY_KPIS}),
        excel.create("Sales", {"OKRs": SALES, "KPIs": NO_KPIS}),
        google.create("Support", {"OKRs": SUPPORT, "KPIs": NO_KPIS}),
        excel.create("Marketing", {"OKRs": MARKETING, "KPIs": NO_KPIS}),
    ]
    entries[0]["children"] = ["Sales", "Support", "Marketing"]
    return write_config(folder, entries, google.config_extra())


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


def report_shards(
    config: Path, out: Path, as_of: str, shards: tuple[str, ...] = ("0/2", "1/2")
) -> None:
    """`sheetsync report --shard I/N` for each shard, as processes side by side, into `out`."""
    procs = [
        subprocess.Popen(
            [
                *SHEETSYNC,
                "report",
                "--config",
                str(config),
                "--out",
                str(out),
                "--as-of",
                as_of,
                "--shard",
                shard,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for shard in shards
    ]
    for proc in procs:
        out_text, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, out_text + err


def tree(values: list[list]) -> dict[str, list]:
    start = next(i for i, row in enumerate(values) if row and row[0] == "Alignment tree")
    header = values[start + 1]
    rows = {}
    for row in values[start + 2 :]:
        if not row or row[0] in (None, ""):
            break
        rows[row[0]] = dict(zip(header, row, strict=False))
    return rows
