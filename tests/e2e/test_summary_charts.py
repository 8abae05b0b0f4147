"""The Summary tab's native charts: drawn by a real spreadsheet program, updated in place.

The Excel result is opened by LibreOffice headless, exported to PDF (one page per tab) and
rasterised by pdftoppm; the Summary page must show the chart colours, which no cell uses.
"""

from __future__ import annotations

import subprocess
import zipfile
from pathlib import Path

import openpyxl

from sheetsync.cli import main
from sheetsync.core.charts import ACTUAL_COLOUR, CHART_COLOURS
from sheetsync.core.model import Colour
from tests.deploy.checks import tool
from tests.e2e.test_scorecards import MONTHLY
from tests.e2e.workbooks import write_config, write_like_excel

AS_OF = "2026-11-15"
OKRS = [
    ["Objective", "Key Result", "Start", "Target", "Current"],
    ["Grow revenue", "Leads", 0, 100, 60],
    ["Grow revenue", "Deals", 0, 10, 2],
    ["Delight customers", "NPS", 0, 50, 45],
    ["Ship faster", "Cycle time in days", 10, 5, 9],
]
SUMMARY_PAGE = 3
"""The tabs in order: OKRs, KPIs, Summary, History, Alerts."""


def synced(folder: Path, kpis=MONTHLY) -> tuple[Path, Path]:
    path = write_like_excel(folder / "team.xlsx", {"OKRs": OKRS, "KPIs": kpis})
    config = write_config(folder, [{"name": "team", "path": str(path)}])
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    return path, config


def chart_parts(path: Path) -> list[str]:
    with zipfile.ZipFile(path) as package:
        return sorted(n for n in package.namelist() if n.startswith(("xl/charts/", "xl/drawings/")))


def render_page(path: Path, page: int, out: Path) -> tuple[int, int, bytes]:
    """The page as RGB pixels (width, height, bytes), through LibreOffice and pdftoppm."""
    soffice, pdftoppm = tool("soffice"), tool("pdftoppm")
    one_page_per_tab = 'pdf:calc_pdf_Export:{"SinglePageSheets":{"type":"boolean","value":"true"}}'
    subprocess.run(
        [soffice, "--headless", f"-env:UserInstallation=file://{out}/profile",
         "--convert-to", one_page_per_tab, "--outdir", str(out), str(path)],
        check=True, capture_output=True, timeout=180,
    )  # fmt: skip
    pdf = out / f"{path.stem}.pdf"
    subprocess.run(
        [pdftoppm, "-r", "60", "-f", str(page), "-l", str(page), "-singlefile", str(pdf),
         str(out / "page")],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return _read_ppm((out / "page.ppm").read_bytes())


def _read_ppm(data: bytes) -> tuple[int, int, bytes]:
    magic, width, height, depth, pixels = data.split(maxsplit=4)
    assert magic == b"P6" and depth == b"255"
    return int(width), int(height), pixels


def pixels_of(image: tuple[int, int, bytes], colour: str, tolerance: int = 12) -> int:
    """How many pixels are within `tolerance` of RRGGBB `colour` on every channel."""
    _, _, pixels = image
    want = bytes.fromhex(colour)
    count = 0
    for i in range(0, len(pixels), 3):
        if all(abs(pixels[i + k] - want[k]) <= tolerance for k in range(3)):
            count += 1
    return count


def test_the_summary_gets_a_bar_chart_of_objectives_and_a_line_chart_per_kpi(tmp_path):
    path, _ = synced(tmp_path)
    assert chart_parts(path) == [
        "xl/charts/chart1.xml",
        "xl/charts/chart2.xml",
        "xl/charts/chart3.xml",
        "xl/drawings/_rels/drawing1.xml.rels",
        "xl/drawings/drawing1.xml",
    ], "objectives, Signups and Churn (Revenue has no month filled yet: no chart)"
    with zipfile.ZipFile(path) as package:
        bar = package.read("xl/charts/chart1.xml").decode()
        line = package.read("xl/charts/chart2.xml").decode()
    assert "<c:barChart>" in bar and "'Summary'!$B$5:$B$7" in bar
    assert CHART_COLOURS[Colour.RED] in bar, "Ship faster is off track: a red bar"
    assert "<c:lineChart>" in line and ">Signups<" in line and 'prstDash val="dash"' in line


def test_a_rerun_updates_the_charts_in_place_and_an_unchanged_one_writes_nothing(tmp_path):
    path, config = synced(tmp_path)
    parts = chart_parts(path)
    before = path.read_bytes()
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert path.read_bytes() == before, "nothing changed: nothing written"

    # A person reports November and saves with another program, which rewrites the package
    # its own way: sheetsync brings its charts back to what they should be, never a copy more.
    book = openpyxl.load_workbook(path)
    book["KPIs"]["K2"] = 125
    book.save(path)
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert chart_parts(path) == parts
    with zipfile.ZipFile(path) as package:
        assert "<c:v>125.0</c:v>" in package.read("xl/charts/chart2.xml").decode()
        assert package.read("xl/drawings/drawing1.xml").decode().count("<xdr:twoCellAnchor") == 3


def test_libreoffice_draws_the_charts(tmp_path):
    path, _ = synced(tmp_path)
    drawn = render_page(path, SUMMARY_PAGE, tmp_path / "drawn")
    assert pixels_of(drawn, ACTUAL_COLOUR) > 100, "the KPI lines"
    for colour in (Colour.GREEN, Colour.AMBER, Colour.RED):
        assert pixels_of(drawn, CHART_COLOURS[colour]) > 200, f"a {colour.name} bar"

    bare = tmp_path / "bare"
    bare.mkdir()
    no_periods = [["KPI", "Unit", "Target", "Actual"], ["Revenue", "$", 50000, 48000]]
    bare_path, _ = synced(bare, no_periods)
    bare_page = render_page(bare_path, SUMMARY_PAGE, bare / "out")
    assert pixels_of(bare_page, ACTUAL_COLOUR) == 0, "no KPI chart, no line colour"


def google_charts(sheets, name: str) -> dict[int, dict]:
    sheet = sheets.api.spreadsheet(sheets.ids[name]).sheet("Summary")
    return sheet.charts


def test_google_gets_the_same_charts_in_the_one_batch_and_updates_them_in_place(
    sheets_api, service_account_file, tmp_path
):
    from tests.e2e.workbooks import GoogleSheets

    sheets = GoogleSheets(sheets_api, service_account_file)
    entry = sheets.create("team", {"OKRs": OKRS, "KPIs": MONTHLY})
    config = write_config(tmp_path, [entry], sheets.config_extra())
    sheets_api.reset_counts()
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert sheets_api.counts.get("batchUpdate") == 1, "charts travel in the one batchUpdate"
    charts = google_charts(sheets, "team")
    kinds = sorted(c["spec"]["basicChart"]["chartType"] for c in charts.values())
    assert kinds == ["BAR", "LINE", "LINE"]
    bar = next(c for c in charts.values() if c["spec"]["basicChart"]["chartType"] == "BAR")
    overrides = bar["spec"]["basicChart"]["series"][0]["styleOverrides"]
    assert len(overrides) == 3, "one colour per objective, by status"

    before = sheets.snapshot("team")
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    assert sheets.snapshot("team") == before, "unchanged: no batchUpdate at all"

    sheets.edit("team", "KPIs", "K2", 125)  # November's signups: the chart follows its cells
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    sent = [next(iter(r)) for r in sheets_api.requests_of("batchUpdate")[-1].body["requests"]]
    assert not {"addChart", "updateChartSpec", "deleteEmbeddedObject"} & set(sent)

    for cell, value in zip(
        ("A6", "B6", "C6", "D6", "E6"), ("Hire", "Engineers", 0, 4, 1), strict=True
    ):
        sheets.edit("team", "OKRs", cell, value)  # a fourth objective: a fourth bar
    assert main(["run", "--config", str(config), "--as-of", AS_OF]) == 0
    sent = [next(iter(r)) for r in sheets_api.requests_of("batchUpdate")[-1].body["requests"]]
    assert "updateChartSpec" in sent and "addChart" not in sent
    assert sorted(google_charts(sheets, "team")) == sorted(charts), "the same charts, updated"
