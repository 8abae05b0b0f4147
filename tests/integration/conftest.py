"""Real .xlsx files for the backend tests, written the way Excel writes them.

XlsxWriter stores cached formula results, sparklines and the other x14 extension blocks, charts,
images, comments, data validation and conditional formats, so a test can check that a patch
leaves every one of them exactly as it was.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
import xlsxwriter

OKRS_HEADER = ["Objective", "Key result", "Start", "Target", "Current", "Score", "Status", "Note"]
SCORE, STATUS, NOTE = 6, 7, 8
"""The output columns (1-based) sheetsync owns on the OKRs tab."""


def _png(width: int = 2, height: int = 2) -> bytes:
    """A tiny valid PNG, so XlsxWriter can embed an image without a fixture file."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def build_okrs(path: Path, rows: int = 4) -> Path:
    """An OKRs tab with a formula in an input column and every feature a patch must keep.

    Row 2's Current (E2) is the formula =2+5 with cached result 7; E3 is =SUM(C3:D3)/4 (cached
    2.5). Columns F:H (Score, Status, Note) are the outputs; I has sparklines, a chart and an
    image sit to the right, A1 has a comment, G has a drop-down, E a conditional format. The
    Notes tab is a person's own.
    """
    book = xlsxwriter.Workbook(str(path))
    bold = book.add_format({"bold": True})
    okrs = book.add_worksheet("OKRs")
    okrs.write_row(0, 0, OKRS_HEADER, bold)
    for r in range(1, rows + 1):
        okrs.write_row(r, 0, ["Grow sales", f"KR {r}", 0, 10, r])
        okrs.add_sparkline(r, 8, {"range": f"OKRs!C{r + 1}:E{r + 1}"})
    okrs.write_formula("E2", "=2+5", None, 7)
    okrs.write_formula("E3", "=SUM(C3:D3)/4", None, 2.5)
    okrs.write_comment("A1", "Owners fill in Current every Friday")
    okrs.data_validation(
        "G2:G100", {"validate": "list", "source": ["On track", "At risk", "Off track"]}
    )
    okrs.conditional_format(
        "E2:E100", {"type": "cell", "criteria": ">", "value": 8, "format": bold}
    )
    okrs.set_column("A:A", 28)
    okrs.set_column("B:B", 40)
    okrs.freeze_panes(1, 0)
    chart = book.add_chart({"type": "column"})
    chart.add_series({"values": f"=OKRs!$E$2:$E${rows + 1}"})
    okrs.insert_chart("K2", chart)
    okrs.insert_image("K20", "logo.png", {"image_data": io.BytesIO(_png())})
    notes = book.add_worksheet("Notes")
    notes.write("A1", "Remember the offsite")
    notes.write_datetime("B1", date(2024, 3, 1), book.add_format({"num_format": "yyyy-mm-dd"}))
    book.define_name("Targets", f"=OKRs!$D$2:$D${rows + 1}")
    book.close()
    return path


@pytest.fixture
def okrs_file(tmp_path: Path) -> Path:
    """A small OKRs workbook as Excel would save it (see `build_okrs`)."""
    return build_okrs(tmp_path / "okrs.xlsx")


@pytest.fixture
def make_okrs(tmp_path: Path) -> Callable[..., Path]:
    """Build an OKRs workbook with a given number of key-result rows: make_okrs(rows=...)."""

    def make(name: str = "okrs.xlsx", rows: int = 4) -> Path:
        return build_okrs(tmp_path / name, rows)

    return make


def rewrite_parts(path: Path, edits: dict[str, Callable[[str], str] | str]) -> None:
    """Replace or add parts of a package: part name -> new text, or a function of the old text."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    for name, edit in edits.items():
        parts[name] = (edit if isinstance(edit, str) else edit(parts[name].decode())).encode()
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


@pytest.fixture
def edit_package() -> Callable[[Path, dict[str, Callable[[str], str] | str]], None]:
    """Hand-edit XML parts of a workbook, for cases XlsxWriter cannot produce (shared formulas,
    a calculation chain, a wrong dimension)."""
    return rewrite_parts
