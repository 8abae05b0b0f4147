"""Spreadsheets, plans and backends shared by the Google backend tests."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from sheetsync.backends.base import CellWrite, OwnedTab, RowGuard, WritePlan
from sheetsync.backends.google import GoogleSheetsWorkbook, RetryPolicy
from sheetsync.core.model import Colour
from tests.sheets_standin import SheetsStandIn

FAST = RetryPolicy(max_attempts=4, max_seconds=10, base_delay=0.01, max_delay=0.05)

HEADER = ["Objective", "Key result", "Target", "Current", "Score", "Status", "Note"]


def okr_rows(n: int) -> list[list[Any]]:
    return [HEADER] + [[f"Objective {i // 4}", f"KR {i}", 100, i] for i in range(n)]


def open_book(
    api: SheetsStandIn, sid: str, credentials: Path, **kwargs: Any
) -> GoogleSheetsWorkbook:
    kwargs.setdefault("retry", FAST)
    kwargs.setdefault("timeout", 5.0)
    return GoogleSheetsWorkbook(sid, credentials=credentials, api_url=api.url, **kwargs)


def score_plan(n: int, *, history: int = 0) -> WritePlan:
    """Score, Status and Note for n key results, plus an owned History tab of `history` rows."""
    cells = []
    guards = []
    for i in range(n):
        row = i + 2
        colour = Colour.GREEN if i % 2 else Colour.RED
        cells += [
            CellWrite("OKRs", row, 5, round(i / max(n, 1), 4), colour, "0.00"),
            CellWrite("OKRs", row, 6, "On track" if i % 2 else "Off track", colour),
            CellWrite("OKRs", row, 7, f"note {i}"),
        ]
        guards.append(RowGuard("OKRs", row, 2, f"KR {i}"))
    owned = []
    if history:
        rows: list[list[Any]] = [["Date", "Key result", "Score"]]
        rows += [[date(2024, 1, 1 + i % 28), f"KR {i}", i / 10] for i in range(history)]
        owned.append(OwnedTab("History", rows, widths={1: 12, 2: 30}))
    return WritePlan(cells=cells, owned_tabs=owned, guards=guards)
