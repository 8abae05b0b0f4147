"""What sheetsync takes in from one workbook: each part's uncompressed size and each cell's text
are bounded (configurable), and a part that declares a DTD is refused, so a broken or hostile
file fails that workbook with a message instead of exhausting memory or being written back as
XML no reader accepts."""

from __future__ import annotations

import tracemalloc
import zipfile
from pathlib import Path

import pytest

from sheetsync.backends.base import CellWrite, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.backends.excel.limits import MB, Limits
from sheetsync.config import parse_config
from sheetsync.core.errors import BackendError
from sheetsync.runner import open_backend
from tests.integration.conftest import NOTE, rewrite_parts
from tests.integration.excel.conftest import OKRS_PART, entries, results_plan


def with_text_in_h2(text: str):
    """An edit of the OKRs sheet putting `text` in H2 as an inline string."""

    def edit(xml: str) -> str:
        cell = f'<c r="H2" t="inlineStr"><is><t>{text}</t></is></c>'
        return xml.replace("</row>", cell + "</row>", 2).replace(cell, "", 1)

    return edit


def inflate_sheet(path: Path, extra_mb: int) -> None:
    """Pad the OKRs sheet with `extra_mb` MB of whitespace after its root: still valid XML, a
    few hundred KB compressed."""
    parts = entries(path)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for name, data in parts.items():
            if name != OKRS_PART:
                archive.writestr(name, data)
                continue
            with archive.open(name, "w") as part:
                part.write(data)
                for _ in range(extra_mb):
                    part.write(b" " * MB)


def test_a_sheet_that_inflates_beyond_the_limit_is_refused_before_it_is_inflated(okrs_file):
    inflate_sheet(okrs_file, 150)  # 150 MB from a file of a few hundred KB
    before = okrs_file.read_bytes()
    assert len(before) < 2 * MB

    tracemalloc.start()
    try:
        with pytest.raises(BackendError) as refused:
            ExcelWorkbook(okrs_file).read(["OKRs"])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert peak < 20 * MB
    assert refused.value.detail.startswith(
        f"its part {OKRS_PART} is 150 MB uncompressed, more than the 100 MB sheetsync reads"
    )
    assert "[excel] max_part_mb" in refused.value.detail
    with pytest.raises(BackendError, match="max_part_mb"):  # a write without a read too
        ExcelWorkbook(okrs_file).write(results_plan())
    assert okrs_file.read_bytes() == before


def test_the_part_limit_is_configurable(okrs_file):
    inflate_sheet(okrs_file, 3)
    small = ExcelWorkbook(okrs_file, limits=Limits(part_bytes=2 * MB))
    with pytest.raises(BackendError, match="is 3 MB uncompressed, more than the 2 MB"):
        small.read(["OKRs"])

    tabs = ExcelWorkbook(okrs_file, limits=Limits(part_bytes=4 * MB)).read(["OKRs"]).tabs

    assert tabs["OKRs"][1][1] == "KR 1"


def test_a_text_longer_than_the_limit_is_refused_naming_its_cell(okrs_file, tmp_path):
    rewrite_parts(okrs_file, {OKRS_PART: with_text_in_h2("x" * 150_000)})

    with pytest.raises(BackendError) as refused:
        ExcelWorkbook(okrs_file).read(["OKRs"])

    assert refused.value.detail.startswith(
        "cell OKRs!H2 holds a text of 150,000 characters, more than the 100,000"
    )
    config = parse_config(
        {"workbooks": [{"name": "t", "path": str(okrs_file)}], "excel": {"max_text_chars": 200_000}}
    )
    tabs = open_backend(config.workbooks[0], config).read(["OKRs"]).tabs
    assert len(tabs["OKRs"][1][NOTE - 1]) == 150_000


def test_a_long_shared_string_is_refused_where_a_cell_uses_it(tmp_path):
    import xlsxwriter

    path = tmp_path / "shared.xlsx"
    book = xlsxwriter.Workbook(str(path))
    book.add_worksheet("OKRs").write_string("C3", "y" * 300)
    book.close()

    with pytest.raises(BackendError, match=r"cell OKRs!C3 holds a text of 300 characters"):
        ExcelWorkbook(path, limits=Limits(text_chars=200)).read(["OKRs"])


def test_the_config_defaults_are_the_backends_defaults():
    excel = parse_config({"workbooks": [{"name": "t", "path": "t.xlsx"}]}).excel
    assert Limits(excel.max_part_mb * MB, excel.max_text_chars) == Limits()


DTD_SHEET = (
    '<?xml version="1.0" encoding="UTF-8"?>\n'
    '<!DOCTYPE worksheet [<!ENTITY owner "Ana">]>\n'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    '<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>Objective</t></is></c></row>'
    '<row r="2"><c r="A2" t="inlineStr"><is><t>&owner;</t></is></c></row></sheetData>'
    "</worksheet>"
)


def test_a_sheet_that_declares_a_dtd_is_refused_and_never_written_back(okrs_file):
    rewrite_parts(okrs_file, {OKRS_PART: DTD_SHEET})
    before = okrs_file.read_bytes()

    with pytest.raises(BackendError) as refused:
        ExcelWorkbook(okrs_file).read(["OKRs"])

    assert refused.value.detail.startswith(f"its part {OKRS_PART} declares a DTD")
    assert "save it as Excel Workbook (.xlsx)" in refused.value.detail
    with pytest.raises(BackendError, match="declares a DTD"):
        ExcelWorkbook(okrs_file).write(WritePlan([CellWrite("OKRs", 2, 2, "Grow")]))
    assert okrs_file.read_bytes() == before
