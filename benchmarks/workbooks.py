"""Realistic workbooks for benchmarks: N key results, N/10 KPIs, formulas and user columns."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from tests.e2e.workbooks import write_like_excel

OKR_HEADER = [
    "ID", "Objective", "Key Result", "Owner", "Type", "Start", "Target", "Current",
    "Period", "KPI", "Comments", "Last update",
]  # fmt: skip
KPI_HEADER = ["KPI", "Owner", "Unit", "Direction", "Target", "Warning", "Actual", "Comments"]


def rows(n: int, seed: int = 7) -> tuple[list[list[Any]], list[list[Any]]]:
    """OKR and KPI rows (as values; formulas given as (formula, cached result) tuples)."""
    rnd = random.Random(seed)
    kpis: list[list[Any]] = [KPI_HEADER]
    for i in range(max(1, n // 10)):
        target = rnd.choice([100, 50_000, 0.85, 4.5])
        actual = round(target * rnd.uniform(0.6, 1.2), 3)
        kpis.append([f"KPI {i}", f"owner{i % 40}@example.com", "", rnd.choice(["higher", "lower"]),
                     target, None, actual, "weekly"])  # fmt: skip
    okrs: list[list[Any]] = [OKR_HEADER]
    for i in range(n):
        objective = f"Objective {i // 4}" if i % 4 == 0 else None
        kind = "milestone" if i % 17 == 0 else "metric"
        start = rnd.randint(0, 50)
        target = start + rnd.randint(10, 200)
        current: Any = rnd.randint(start - 5, target + 20)
        if i % 9 == 0:  # a person's formula in an input column, with its cached result
            current = (f"=F{i + 2}+{current - start}", current)
        if kind == "milestone":
            current, start, target = rnd.choice(["done", ""]), None, None
        kpi = f"KPI {i % max(1, n // 10)}" if i % 13 == 0 else None
        if kpi:
            current = None
        okrs.append([f"K{i}", objective, f"Key result {i}", f"owner{i % 40}@example.com", kind,
                     start, target, current, "2026-Q4", kpi, "note" if i % 5 == 0 else None,
                     ("=TODAY()", 46349)])  # fmt: skip
    return okrs, kpis


def write_xlsx(path: Path, n: int) -> Path:
    """Write the workbook the way Excel saves it (cached formula results), with XlsxWriter."""
    okrs, kpis = rows(n)
    return write_like_excel(path, {"OKRs": okrs, "KPIs": kpis}, constant_memory=True)


def grids(n: int) -> tuple[list[list[Any]], list[list[Any]]]:
    """The same rows as a backend reads them (formulas as their results)."""

    def plain(data: list[list[Any]]) -> list[list[Any]]:
        return [[v[1] if isinstance(v, tuple) else v for v in row] for row in data]

    okrs, kpis = rows(n)
    return plain(okrs), plain(kpis)
