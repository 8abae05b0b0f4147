"""What the Excel backend's test files share: a plan of results, and looks into the .xlsx
package (its parts, a worksheet's XML, what openpyxl loads and warns about)."""

from __future__ import annotations

import subprocess
import sys
import warnings
import zipfile
from collections.abc import Callable
from datetime import date
from pathlib import Path

import openpyxl
from lxml import etree

from sheetsync.backends.base import CellWrite, OwnedTab, WritePlan
from sheetsync.core.model import Colour
from tests.integration.conftest import NOTE, SCORE, STATUS

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"


OKRS_PART = "xl/worksheets/sheet1.xml"


def results_plan(rows: int = 4) -> WritePlan:
    """Score, Status and Note for every key-result row, as the pipeline would plan them."""
    cells = []
    for row in range(2, rows + 2):
        score = round(row / 10, 2)
        colour = Colour.GREEN if score >= 0.3 else Colour.RED
        status = "On track" if colour is Colour.GREEN else "Off track"
        cells += [
            CellWrite("OKRs", row, SCORE, score, colour, "0.00"),
            CellWrite("OKRs", row, STATUS, status, colour),
            CellWrite("OKRs", row, NOTE, f"checked row {row}"),
        ]
    return WritePlan(cells=cells)


def entries(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def calc_chain_edits(cells: str) -> dict[str, Callable[[str], str] | str]:
    """The `edit_package` edits that give a workbook a calculation chain of these `<c>`s,
    with its relationship and content type (XlsxWriter writes none)."""
    return {
        "xl/calcChain.xml": f'<calcChain xmlns="{MAIN[1:-1]}">{cells}</calcChain>',
        "xl/_rels/workbook.xml.rels": lambda xml: xml.replace(
            "</Relationships>",
            '<Relationship Id="rId99" Type="http://schemas.openxmlformats.org/officeDocument/'
            '2006/relationships/calcChain" Target="calcChain.xml"/></Relationships>',
        ),
        "[Content_Types].xml": lambda xml: xml.replace(
            "</Types>",
            '<Override PartName="/xl/calcChain.xml" ContentType="application/vnd.openxml'
            'formats-officedocument.spreadsheetml.calcChain+xml"/></Types>',
        ),
    }


def sheet_xml(path: Path, part: str = OKRS_PART) -> etree._Element:
    return etree.fromstring(entries(path)[part])


def load(path: Path, **options: object) -> openpyxl.Workbook:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # openpyxl on x14 extensions it skips
        return openpyxl.load_workbook(path, **options)


def assert_well_formed(path: Path) -> None:
    """Rows ascend, cells ascend within their row and name it, `count`s match their lists."""
    for name, data in entries(path).items():
        if not name.endswith(".xml"):
            continue
        root = etree.fromstring(data)
        if name.startswith("xl/worksheets/"):
            rows = [int(row.get("r")) for row in root.iter(f"{MAIN}row")]
            assert rows == sorted(set(rows)), f"{name}: rows out of order"
            for row in root.iter(f"{MAIN}row"):
                refs = [c.get("r") for c in row.iter(f"{MAIN}c")]
                cols = [openpyxl.utils.cell.coordinate_to_tuple(ref) for ref in refs]
                assert all(r == int(row.get("r")) for r, _ in cols), f"{name}: {refs}"
                assert [c for _, c in cols] == sorted({c for _, c in cols}), f"{name}: {refs}"
        if name == "xl/styles.xml":
            for section in ("numFmts", "fonts", "fills", "borders", "cellXfs"):
                element = root.find(f"{MAIN}{section}")
                if element is not None:
                    assert int(element.get("count")) == len(element), section


def summary(rows: int) -> OwnedTab:
    grid: list[list[object]] = [["Run", "Objective", "Score", "Status"]]
    fills = {}
    for r in range(rows):
        grid.append([date(2024, 1, 1 + r), "Grow sales", 0.25 * r, "At risk"])
        fills[(r + 2, 4)] = Colour.AMBER
    return OwnedTab("History", grid, fills, widths={1: 12, 2: 30})  # type: ignore[arg-type]


REPO = Path(__file__).resolve().parents[3]

KILLED_SAVE = """
import os, signal, sys
from sheetsync.backends.excel import ExcelWorkbook
from tests.integration.excel.conftest import results_plan
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)  # killed once the data is written
workbook = ExcelWorkbook(sys.argv[1])
workbook.read(["OKRs"])
workbook.write(results_plan())
"""


def kill_a_save(path: Path) -> Path:
    """Run a sync's save of `path` in another process, killed (SIGKILL) after it wrote the
    temporary file and before it renamed it; the temporary file it leaves behind."""
    before = set(path.parent.iterdir())
    run = subprocess.run([sys.executable, "-c", KILLED_SAVE, str(path)], cwd=REPO, check=False)
    assert run.returncode == -9
    (left,) = set(path.parent.iterdir()) - before
    return left
