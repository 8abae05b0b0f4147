"""What an Excel night costs as whole `sheetsync run` processes, against its references.

Per size, on a workbook of realistic shape (`benchmarks.workbooks`), with the default
configuration (alerts on, no mail server: alerts are logged in the Alerts tab; one backup):

* first sync (nothing written yet) against openpyxl load + save of the same file, what any
  tool that edits the workbook in place pays (CPU and peak memory);
* an unchanged re-run against python-calamine reading every sheet of the synced file (the
  fastest reader of the values, Rust), and its peak memory against openpyxl load + save of
  the synced file;
* a re-run after 1% of the Current values changed, against the same calamine read.

Each process is measured by `benchmarks.processes`; `benchmarks/run.py` prints the figures
with issue #14's goals. The calamine reference needs `pip install -e ".[bench]"`.
"""

from __future__ import annotations

import re
import shutil
import sys
import zipfile
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from benchmarks.processes import Cost, measure, median, sheetsync_run, write_config
from benchmarks.workbooks import OKR_HEADER, write_xlsx

FIRST_NIGHT = date(2026, 10, 5)

OPENPYXL = "import openpyxl, sys\nwb = openpyxl.load_workbook(sys.argv[1])\nwb.save(sys.argv[2])\n"
CALAMINE = (
    "import sys\nfrom python_calamine import CalamineWorkbook\n"
    "wb = CalamineWorkbook.from_path(sys.argv[1])\n"
    "for name in wb.sheet_names:\n    wb.get_sheet_by_name(name).to_python()\n"
)


def excel_config(folder: Path, workbook: Path) -> Path:
    """The default configuration for one workbook (alerts on, one backup)."""
    return write_config(folder, [{"name": "bench", "path": workbook.name}])


def openpyxl_cost(book: Path, out: Path) -> Cost:
    return measure([sys.executable, "-c", OPENPYXL, str(book), str(out)])


def calamine_cost(book: Path) -> Cost:
    return measure([sys.executable, "-c", CALAMINE, str(book)])


def change_one_percent(path: Path) -> int:
    """Add 1 to the Current value of every hundredth key result, as Excel would save it.

    The cached values in the sheet XML are edited in place (plain numbers only, never a
    person's formula): saving through openpyxl instead would drop every formula's cached
    result and so change far more than 1% of what sheetsync reads. Returns the cells changed.
    """
    column = chr(ord("A") + OKR_HEADER.index("Current"))
    part = _sheet_part(path, "OKRs")
    changed = 0

    def bump(match: re.Match[str]) -> str:
        nonlocal changed
        row, attrs, value = int(match[1]), match[2], match[3]
        if (row - 2) % 100 or 't="' in attrs:
            return match[0]
        changed += 1
        return f'<c r="{column}{row}"{attrs}><v>{float(value) + 1:g}</v></c>'

    pattern = re.compile(rf'<c r="{column}(\d+)"([^>]*)><v>([^<]+)</v></c>')
    edited = path.with_suffix(".edited")
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(edited, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == part:
                data = pattern.sub(bump, data.decode("utf-8")).encode("utf-8")
            target.writestr(item, data)
    edited.replace(path)
    return changed


def _sheet_part(path: Path, title: str) -> str:
    """The package part holding the sheet called `title` (workbook.xml, then its rels)."""
    with zipfile.ZipFile(path) as package:
        workbook = package.read("xl/workbook.xml").decode("utf-8")
        rels = package.read("xl/_rels/workbook.xml.rels").decode("utf-8")
    sheet = re.search(rf'<sheet [^>]*name="{re.escape(title)}"[^>]*/>', workbook)
    if sheet is None:
        raise KeyError(f"{path.name} has no tab {title!r}")
    rid = re.search(r'r:id="([^"]+)"', sheet[0])
    target = rid and re.search(rf'<Relationship [^>]*Id="{rid[1]}"[^>]*/>', rels)
    found = target and re.search(r'Target="([^"]+)"', target[0])
    if not found:
        raise KeyError(f"{path.name}: no part for tab {title!r}")
    return "xl/" + found[1].removeprefix("/xl/")


def bench_size(n: int, work: Path, repeat: int) -> dict[str, Any]:
    """First, unchanged and 1%-changed syncs of `n` key results, medians of `repeat` rounds,
    and their references on the same files."""
    folder = work / f"excel-{n}"
    folder.mkdir()
    pristine = write_xlsx(folder / "pristine.xlsx", n)
    book = folder / "okrs.xlsx"
    config = excel_config(folder, book)
    out = folder / "saved.xlsx"

    def fresh() -> None:
        shutil.copyfile(pristine, book)
        shutil.rmtree(folder / ".sheetsync", ignore_errors=True)

    first, unchanged, changed = [], [], []
    for _ in range(repeat):
        fresh()
        first.append(measure(sheetsync_run(config, FIRST_NIGHT)))
        unchanged.append(measure(sheetsync_run(config, FIRST_NIGHT)))
        change_one_percent(book)
        changed.append(measure(sheetsync_run(config, FIRST_NIGHT)))
    synced = folder / "synced.xlsx"
    fresh()
    measure(sheetsync_run(config, FIRST_NIGHT))
    shutil.copyfile(book, synced)
    return {
        "rows": n,
        "first": median(first).__dict__,
        "unchanged": median(unchanged).__dict__,
        "changed_1pct": median(changed).__dict__,
        "openpyxl": median([openpyxl_cost(pristine, out) for _ in range(repeat)]).__dict__,
        "openpyxl_synced": median([openpyxl_cost(synced, out) for _ in range(repeat)]).__dict__,
        "calamine": median([calamine_cost(synced) for _ in range(repeat)]).__dict__,
    }


def bench_nights(n: int, nights: int, work: Path) -> dict[str, Any]:
    """`nights` unchanged nights in a row of `n` key results, the as-of date one day later
    each night (History grows): each night's cost."""
    folder = work / f"nights-{n}"
    folder.mkdir()
    book = folder / "okrs.xlsx"
    write_xlsx(book, n)
    config = excel_config(folder, book)
    per_night = []
    for night in range(nights):
        cost = measure(sheetsync_run(config, FIRST_NIGHT + timedelta(days=night)))
        per_night.append(cost.__dict__)
    return {"rows": n, "nights": per_night, "file_mb": book.stat().st_size / 1e6}
