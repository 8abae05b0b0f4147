"""The README's hand-checkable table is what `sheetsync demo` really shows on that date."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest

from sheetsync.cli import main

README = Path(__file__).resolve().parents[2] / "README.md"
MARKER = "<!-- demo table:"
AS_OF = "2026-11-15"


def readme_table() -> tuple[dict[str, tuple[float, str]], dict[str, tuple[float, str]]]:
    """Key result ID -> (score, status) and objective -> (score, status), as the README says."""
    lines = README.read_text(encoding="utf-8").split(MARKER, 1)[1].splitlines()[3:]
    rows = lines[: next(i for i, line in enumerate(lines) if not line.startswith("|"))]
    key_results, objectives = {}, {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        score = float(re.findall(r"\d+\.\d+", cells[3])[-1])
        status = cells[4].split(" (")[0]
        if cells[0].startswith("**"):
            objectives[cells[0].strip("*")] = (score, status)
        else:
            key_results[cells[0].split()[0]] = (score, status)
    return key_results, objectives


def test_the_readme_table_matches_the_synced_demo(tmp_path):
    main(["demo", "--dir", str(tmp_path), "--as-of", AS_OF])
    book = openpyxl.load_workbook(tmp_path / "okrs-demo.xlsx", data_only=True)
    head, *rows = list(book["OKRs"].iter_rows(values_only=True))
    synced = {r[head.index("ID")]: r for r in rows if r[head.index("ID")]}
    key_results, objectives = readme_table()
    assert set(key_results) == set(synced), "every key result of the demo is in the table"
    for kid, (score, status) in key_results.items():
        row = synced[kid]
        assert row[head.index("Score")] == pytest.approx(score, abs=0.005), kid
        assert row[head.index("Status")] == status, kid
    summary = {r[0]: r for r in book["Summary"].iter_rows(values_only=True) if r and r[0]}
    assert len(objectives) == 3
    for name, (score, status) in objectives.items():
        assert summary[name][1] == pytest.approx(score, abs=0.005), name
        assert summary[name][2] == status, name
