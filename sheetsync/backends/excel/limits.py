"""How much of a workbook sheetsync will take in: each part's uncompressed size and each text's
length are bounded, and each part is refused if it declares a DTD.

An .xlsx is a zip: a 1.5 MB file can hold a sheet that inflates to 1.5 GB, and one cell can hold
a 50 MB string that would go on into the Summary and emails. The bounds are far above what real
workbooks hold (Excel itself stops a cell at 32,767 characters), so only a broken or hostile
file meets them, and that workbook fails with a message while the others go on.
"""

from __future__ import annotations

import zipfile
from dataclasses import dataclass
from typing import Any

from lxml import etree

from sheetsync.backends.excel.ooxml import RefusedPackage

MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """The most sheetsync takes from one workbook."""

    part_bytes: int = 100 * MB
    """Uncompressed size of each part (a worksheet, the shared strings, an image ...)."""
    text_chars: int = 100_000
    """Characters in one cell's text (Excel holds at most 32,767; Google Sheets 50,000)."""


def check_part_sizes(archive: zipfile.ZipFile, limits: Limits) -> None:
    """Refuse a package with a part larger than allowed, before anything is inflated.

    The size checked is the one the zip's directory declares: `zipfile` never inflates more
    than that (a part that inflates further fails its CRC check), so it bounds the memory used.
    """
    for info in archive.infolist():
        if info.file_size > limits.part_bytes:
            raise RefusedPackage(
                f"its part {info.filename} is {_size(info.file_size)} uncompressed, more than the"
                f" {_size(limits.part_bytes)} sheetsync reads from one part; if the workbook is"
                " really that big, raise [excel] max_part_mb in the config"
            )


def check_text(text: str, where: str, limits: Limits) -> None:
    """Refuse a cell text longer than allowed; `where` names the cell or part it is in."""
    if len(text) > limits.text_chars:
        raise RefusedPackage(
            f"{where} holds a text of {len(text):,} characters, more than the"
            f" {limits.text_chars:,} sheetsync reads from one cell (Excel holds at most 32,767);"
            " shorten it, or raise [excel] max_text_chars in the config"
        )


def parse_part(data: bytes, name: str, parser: etree.XMLParser) -> Any:
    """The part's root element; a part that declares a DTD is refused.

    The packaging standard forbids DTDs in a package's XML. sheetsync never expands their
    entities, and lxml drops the DOCTYPE when it writes a part back, which would leave entity
    references nothing declares: XML no reader accepts.
    """
    root = etree.fromstring(data, parser)
    refuse_dtd(root, name)
    return root


def refuse_dtd(root: Any, name: str) -> None:
    """Refuse a part whose document declares a DTD (see `parse_part`)."""
    if root is not None and root.getroottree().docinfo.doctype:
        raise RefusedPackage(
            f"its part {name} declares a DTD (<!DOCTYPE …>), which an .xlsx file may not"
            " contain, so sheetsync neither reads nor writes it; open the workbook in Excel or"
            " LibreOffice and save it as Excel Workbook (.xlsx)"
        )


def _size(size: int) -> str:
    return f"{size / MB:,.0f} MB" if size >= MB else f"{size:,} bytes"
