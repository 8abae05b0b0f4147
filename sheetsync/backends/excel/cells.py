"""One cell: A1 references, what a Python value becomes in a `<c>`, and reading or setting a
`<c>`'s content and style, in the tree or as XML text (escaping text as Excel and XML need)."""

from __future__ import annotations

import math
import re
import string
from collections.abc import Callable
from datetime import date, datetime
from functools import cache, lru_cache
from itertools import chain, product
from typing import Any, TypeAlias

from lxml import etree

from sheetsync.backends.base import (
    CellValue,
)
from sheetsync.backends.excel.ooxml import (
    FORMULA,
    INLINE_STRING,
    RUN,
    TEXT,
    VALUE,
    XML_SPACE,
    DamagedPackage,
)
from sheetsync.backends.excel.serials import to_excel

_DATE_FORMAT = "yyyy-mm-dd"
_DATETIME_FORMAT = "yyyy-mm-dd hh:mm:ss"
_MAX_TEXT = 32767  # the most characters an Excel cell holds
_NOT_XML = "[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]"


@cache  # compiled on first use: its character classes cost ~5 ms, and most runs never need it
def _to_escape() -> re.Pattern[str]:
    """What `_escape` rewrites: a character XML cannot hold, and an underscore that would
    start what reads as an escape once those characters are escaped."""
    return re.compile(f"_(?=x[0-9A-Fa-f]{{4}}(?:_|{_NOT_XML}))|{_NOT_XML}")


_ESCAPED = re.compile(r"_x([0-9A-Fa-f]{4})_")
DIGITS = "0123456789"
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d+)")


CellContent: TypeAlias = tuple[str, Any]
"""A cell's content as the XML states it: ("n", float), ("s", str), ("b", bool), ("e", code),
("f", None) for any formula (never equal to what sheetsync writes), or BLANK."""
BLANK: CellContent = ("", None)
ShownCell: TypeAlias = tuple[CellContent, str | None, str]
"""What a cell of an owned tab shows: content, fill (RGB hex, "other" or None), number format."""


@lru_cache(maxsize=20000)
def column_letters(col: int) -> str:
    text = ""
    while col:
        col, rest = divmod(col - 1, 26)
        text = chr(65 + rest) + text
    return text


_ALPHABET = string.ascii_uppercase
COLUMN_NUMBERS = dict(
    zip(
        chain(
            _ALPHABET,
            map("".join, product(_ALPHABET, repeat=2)),
            map("".join, product(_ALPHABET, repeat=3)),
        ),
        range(1, 16385),
        strict=False,  # the letters run on to ZZZ; a worksheet ends at XFD
    )
)
"""Column letters -> number, for every column a worksheet has (A to XFD: letters in column
order, built without converting each number, which would cost start-up time)."""


def cell_ref(row: int, col: int) -> str:
    return f"{column_letters(col)}{row}"


@lru_cache(maxsize=20000)
def _column(letters: str) -> int:
    col = 0
    for ch in letters.upper():
        col = col * 26 + ord(ch) - 64
    return col


def split_ref(ref: str) -> tuple[int, int]:
    found = _CELL_REF.fullmatch(ref)
    if found is None:
        raise DamagedPackage(f"bad cell reference {ref!r}")
    return int(found[2]), _column(found[1])


def split_range(ref: str) -> tuple[int, int, int, int]:
    first, _, last = ref.partition(":")
    r1, c1 = split_ref(first)
    r2, c2 = split_ref(last) if last else (r1, c1)
    return min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2)


def range_ref(r1: int, c1: int, r2: int, c2: int) -> str:
    return cell_ref(r1, c1) if (r1, c1) == (r2, c2) else f"{cell_ref(r1, c1)}:{cell_ref(r2, c2)}"


def _escape(text: str) -> str:
    """The text as Excel stores it: `_xHHHH_` for a character XML cannot hold (a control
    character), and `_x005F_` for an underscore that would otherwise start such an escape.

    Excel (and `_unescape`) read escapes left to right, each `_xHHHH_` as one character, so
    every underscore that begins `_xHHHH_` in the result must itself be escaped, including one
    whose closing underscore is the start of an escaped control character: then any text reads
    back as written.
    """
    if text.isprintable() and "_x" not in text:  # the common case, without a regex
        return text
    return _to_escape().sub(lambda m: f"_x{ord(m[0]):04X}_", text)


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 16)), text) if "_x" in text else text


def _number_text(number: float) -> str:
    if number.is_integer() and abs(number) < 1e15:
        return str(int(number))
    return repr(number)


def desired_content(value: CellValue, epoch: datetime) -> tuple[CellContent, str | None]:
    """What to store for a Python value, and the number format it needs (dates)."""
    if value is None:
        return BLANK, None
    if isinstance(value, bool):
        return ("b", value), None
    if isinstance(value, int | float):
        number = float(value)
        return (("n", number) if math.isfinite(number) else ("e", "#NUM!")), None
    if isinstance(value, datetime):
        return ("n", float(to_excel(value.replace(tzinfo=None), epoch))), _DATETIME_FORMAT
    if isinstance(value, date):
        return ("n", float(to_excel(value, epoch))), _DATE_FORMAT
    if isinstance(value, str):
        return ("s", value[:_MAX_TEXT]), None
    raise TypeError(f"cannot write a {type(value).__name__} to a cell: {value!r}")


def rich_text(element: Any) -> str:
    """The text of an `<is>` or `<si>`: its `<t>` or its runs' `<t>`s (not phonetic hints)."""
    if len(element) == 1 and element[0].tag == TEXT:
        return element[0].text or ""
    plain = element.find(TEXT)
    parts = [plain.text or ""] if plain is not None else []
    parts += [t.text or "" for run in element.iterfind(RUN) for t in run.iterfind(TEXT)]
    return "".join(parts)


def current_content(cell: Any, shared: Callable[[int], str]) -> CellContent:
    if not len(cell):
        return BLANK
    first = cell[0]  # the schema's order: f, v, is, extLst
    if first.tag == FORMULA:
        return ("f", None)
    kind = cell.get("t", "n")
    if kind == "inlineStr":
        inline = first if first.tag == INLINE_STRING else cell.find(INLINE_STRING)
        return ("s", _unescape(rich_text(inline))) if inline is not None else BLANK
    text = first.text if first.tag == VALUE else None
    if not text:
        return BLANK
    try:
        if kind == "n":
            return ("n", float(text))
        if kind == "s":
            return ("s", _unescape(shared(int(text))))
    except ValueError:
        return ("?", text)
    if kind == "str":
        return ("s", _unescape(text))
    if kind == "b":
        return ("b", text.strip() in ("1", "true"))
    return (kind, text)


def set_value(cell: Any, value: CellContent) -> None:
    if len(cell):
        for child in [*cell.iterchildren(FORMULA, VALUE, INLINE_STRING)]:
            cell.remove(child)
    if len(cell.attrib) > 1:
        for attribute in ("t", "cm", "vm"):  # vm/cm: metadata of the value or formula replaced
            cell.attrib.pop(attribute, None)
    kind, payload = value
    if not kind:
        return
    if len(cell):  # keep what follows the value (extLst)
        content = etree.Element(INLINE_STRING if kind == "s" else VALUE)
        cell.insert(0, content)
    else:
        content = etree.SubElement(cell, INLINE_STRING if kind == "s" else VALUE)
    if kind == "s":
        cell.set("t", "inlineStr")
        text = etree.SubElement(content, TEXT)
        text.text = _escape(payload)
        if payload != payload.strip():
            text.set(XML_SPACE, "preserve")
    elif kind == "n":
        content.text = _number_text(payload)
    else:
        cell.set("t", kind)
        content.text = ("1" if payload else "0") if kind == "b" else payload


def set_style(cell: Any, style: int) -> None:
    if style:
        cell.set("s", str(style))
    else:
        cell.attrib.pop("s", None)


def cell_xml(content: CellContent, style: int, prefix: str = "") -> str:
    """A `<c>` as lxml serialises the cell `set_style` and `set_value` make, after its `r`.

    `prefix` is what the worksheet puts before its SpreadsheetML tags ("x:" in files from
    ClosedXML, the Open XML SDK or Tencent Docs; "" where the namespace is the default), so
    that the cell's elements are in the sheet's namespace where they are spliced in.
    """
    attributes = f' s="{style}"' if style else ""
    kind, payload = content
    if not kind:
        return f"{attributes}/>"
    p = prefix
    if kind == "s":
        text = _xml_text(_escape(payload))
        space = ' xml:space="preserve"' if payload != payload.strip() else ""
        inner = f"<{p}t{space}>{text}</{p}t>" if text else f"<{p}t{space}/>"
        return f'{attributes} t="inlineStr"><{p}is>{inner}</{p}is></{p}c>'
    if kind == "n":
        return f"{attributes}><{p}v>{_number_text(payload)}</{p}v></{p}c>"
    text = ("1" if payload else "0") if kind == "b" else _xml_text(payload)
    return f'{attributes} t="{kind}"><{p}v>{text}</{p}v></{p}c>'


def _xml_text(text: str) -> str:
    """Text as libxml2 escapes it in element content."""
    if "&" in text or "<" in text or ">" in text or "\r" in text:
        text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        text = text.replace("\r", "&#13;")
    return text
