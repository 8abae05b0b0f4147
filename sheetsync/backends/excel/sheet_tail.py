"""The two ends of a long owned tab, as text: its first rows to read, new rows to append.

History only grows, so its sheet XML is never parsed whole: a night reads its marker and
header (`head`, the text up to its second row, closed again) and adds its new rows by splicing
their XML in before `</sheetData>` (`append_rows`), with the sheet's dimension moved to cover
them. The rows already there are neither parsed nor rewritten.
"""

from __future__ import annotations

import re

from sheetsync.backends.excel.cells import COLUMN_NUMBERS, column_letters

_ROOT = re.compile(rb"<([A-Za-z_][\w.-]*:)?worksheet[\s>]")
_DIMENSION = re.compile(rb'(<(?:[\w.-]+:)?dimension\b[^>]*\bref=")([^"]*)(")')
_ROW_NUMBER = re.compile(rb"""\sr\s*=\s*(["'])(\d+)\1""")
_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row(?=[\s/>])")
_SHEET_DATA = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?sheetData(?=[\s/>])[^>]*>")
_PREFIX = re.compile(rb"[A-Za-z_][\w.-]*:")
_AFTER_NAME = (b" ", b"\t", b"\r", b"\n", b"/", b">")
_REF = re.compile(r"([A-Z]{1,3})(\d+)")


def _prefix(data: bytes) -> bytes:
    """The sheet's tag prefix (`x:` or nothing), from its root element."""
    root = _ROOT.search(data)
    return root.group(1) or b"" if root else b""


def tag_prefix(data: bytes) -> str:
    """The prefix the sheet's tags carry (`x:` or ""), for rows written into it."""
    return _prefix(data).decode("ascii")


def head(data: bytes, rows: int) -> bytes:
    """The sheet's XML up to the end of its `rows`-th row, its sheetData and root closed again
    (the rest is left out: a reader of the first rows parses only this)."""
    prefix = _prefix(data)
    opening = data.find(b"<" + prefix + b"sheetData")
    if opening < 0:
        return data
    end_tag = b"</" + prefix + b"row>"
    at = data.find(b">", opening) + 1
    if data[at - 2 : at - 1] == b"/":  # <sheetData/>: no rows at all
        return data
    for _ in range(rows):
        found = data.find(end_tag, at)
        if found < 0:
            return data
        at = found + len(end_tag)
    return data[:at] + b"</" + prefix + b"sheetData></" + prefix + b"worksheet>"


def _last_row_tag(data: bytes, start: int, end: int) -> int:
    """Where the last `<row` start tag (any prefix) between `start` and `end` begins, or -1.

    Searched from the end: text in cells cannot hold a `<` (it is written `&lt;`), so a `row`
    right after `<` or after `<prefix:` and before a space, `/` or `>` is a row's tag."""
    at = end
    while True:
        at = data.rfind(b"row", start, at)
        if at < 0:
            return -1
        if data[at + 3 : at + 4] not in _AFTER_NAME:
            continue
        if data[at - 1 : at] == b"<":
            return at - 1
        if data[at - 1 : at] == b":":
            opening = data.rfind(b"<", start, at)
            if opening >= 0 and _PREFIX.fullmatch(data, opening + 1, at):
                return opening


def last_row(data: bytes) -> int:
    """The number of the sheet's last `<row>` (0 when it has none), however the producer wrote
    its tags: any namespace prefix, attributes in any order, in either quotes, with spaces
    around `=`; a row without `r` is the one after the row before it (read from the start
    then, the one case that reads the whole sheet)."""
    opening = _SHEET_DATA.search(data)
    if opening is None:
        return 0
    start = opening.end()
    closing = data.rfind(b"sheetData>")
    end = closing if closing > start else len(data)
    found = _last_row_tag(data, start, end)
    if found < 0:
        return 0
    number = _ROW_NUMBER.search(data, found, data.find(b">", found) + 1)
    if number is not None:
        return int(number.group(2))
    row = 0  # rows without numbers: count them from the last one that has one
    for tag in _ROW_TAG.finditer(data, start, end):
        given = _ROW_NUMBER.search(data, tag.start(), data.find(b">", tag.start()) + 1)
        row = int(given.group(2)) if given else row + 1
    return row


def append_rows(data: bytes, rows_xml: str, last: tuple[int, int]) -> bytes:
    """`data` with `rows_xml` (whole `<row>` elements, numbered below every row there) spliced
    in before `</sheetData>`, and its dimension grown to reach row and column `last`."""
    prefix = _prefix(data)
    added = rows_xml.encode("utf-8")
    closing = data.rfind(b"</" + prefix + b"sheetData>")
    if closing >= 0:
        data = data[:closing] + added + data[closing:]
    else:
        empty = re.search(rb"<" + re.escape(prefix) + rb"sheetData\s*/>", data)
        if empty is None:
            raise ValueError("the sheet has no sheetData element")
        tag = b"sheetData"
        data = (
            data[: empty.start()]
            + b"<" + prefix + tag + b">" + added + b"</" + prefix + tag + b">"
            + data[empty.end() :]
        )  # fmt: skip
    dimension = _DIMENSION.search(data)
    if dimension is None:
        return data
    refs = [_REF.fullmatch(part) for part in dimension.group(2).decode("ascii").split(":")]
    corners = [(COLUMN_NUMBERS.get(m[1], 1), int(m[2])) for m in refs if m]
    first = corners[0] if corners else (1, 1)
    end = corners[-1] if corners else (1, 1)
    row, col = max(end[1], last[0]), max(end[0], last[1])
    ref = f"{column_letters(first[0])}{first[1]}:{column_letters(col)}{row}"
    return data[: dimension.start(2)] + ref.encode("ascii") + data[dimension.end(2) :]
