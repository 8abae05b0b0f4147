"""Workbooks laid out the way other programs write them, and where the real ones are kept.

`files/` holds small real workbooks (see its README for where each comes from). For producers
whose files could not be copied, `with_prefixed_spreadsheetml` rewrites a workbook the way the
Open XML SDK and Tencent Docs lay theirs out: every SpreadsheetML element of every part under
the prefix `x`, with no default namespace.
"""

from __future__ import annotations

import re
import shutil
import zipfile
from pathlib import Path
from typing import Any

from lxml import etree

FILES = Path(__file__).parent / "files"
SPREADSHEETML = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_UNPREFIXED_TAG = re.compile(rb"<(/?)([A-Za-z][\w.-]*)(?=[\s/>])")


def real_file(name: str, folder: Path) -> Path:
    """A copy of `files/<name>` in `folder`, to be written to."""
    return Path(shutil.copy(FILES / name, folder / name))


def _outline(root: Any) -> list[tuple[Any, ...]]:
    """What a part says, whatever prefixes it uses: each element's name, attributes, text."""
    return [(e.tag, sorted(e.attrib.items()), e.text, e.tail) for e in root.iter()]


def _prefixed(data: bytes) -> bytes:
    """A part whose default namespace is SpreadsheetML, with that namespace as `x:` instead."""
    declaration = f'xmlns="{SPREADSHEETML}"'.encode()
    if declaration not in data:
        return data
    head, _, body = data.partition(b"?>") if data.startswith(b"<?xml") else (b"", b"", data)
    body = _UNPREFIXED_TAG.sub(rb"<\1x:\2", body)
    body = body.replace(declaration, f'xmlns:x="{SPREADSHEETML}"'.encode())
    rewritten = head + (b"?>" if head else b"") + body
    assert _outline(etree.fromstring(rewritten)) == _outline(etree.fromstring(data))
    return rewritten


def with_prefixed_spreadsheetml(path: Path) -> Path:
    """Rewrite an .xlsx (one XlsxWriter made: no other default namespace inside its
    SpreadsheetML parts) so that its SpreadsheetML parts use the prefix `x`, as files from the
    Open XML SDK and Tencent Docs do. The parts say exactly what they said before (checked)."""
    with zipfile.ZipFile(path) as archive:
        parts = [(info, archive.read(info)) for info in archive.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in parts:
            archive.writestr(info, _prefixed(data) if info.filename.endswith(".xml") else data)
    return path
