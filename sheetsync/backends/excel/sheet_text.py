"""A person's worksheet patched as text: the output cells are found and spliced into the part's
XML, and every other byte of it is kept as it was.

Parsing a whole worksheet into an lxml tree costs about 18 bytes of memory per byte of XML (a
10,000-row OKRs tab: 100 MB) and building, then serialising, the tree costs more time than
the sync's own work on it. The cells sheetsync writes are a few columns of each row, so this
class finds rows and cells with regular expressions over the XML and compares or replaces only
the target cells' text. An unchanged run finds that every output cell already holds what it
should and leaves the part untouched; a changed one replaces those cells' text only.

A tab sheetsync owns that exists is brought to its planned content the same way, by whole
rows (`has_row`, `row_matches`, `shown`, `replace_rows`; the editor's `row_changes` picks the
rows): a row already as sheetsync writes it is recognised by its bytes, only the rows that show
something else are written again, and every other byte of the part is kept, so a night that
changed 1% of the values costs the rows it changed, not a tree of every row.

Only the part outside `<sheetData>` (columns, dimension, views: small) is parsed, as a
skeleton worksheet, so column widths and the dimension are edited by `Worksheet` exactly as on
a whole tree. A sheet or a cell this class does not handle as text raises `NeedsTree` before
anything is written, and the editor does that tab on the whole tree instead: shared, array or
data-table formulas (overwriting them needs the formulas around them), comments, CDATA or
namespace declarations among the rows, two prefixes for the SpreadsheetML namespace, a part
in an encoding other than UTF-8 or whose part outside the rows does not read on its own (a
`<sheetData` in a comment), rows or cells without a reference or out of order, a row with an
extension list, and cells with attributes other than r, s, t, cm and vm.
"""

from __future__ import annotations

import re
import secrets
from bisect import bisect_left
from collections.abc import Callable
from typing import Any

from lxml import etree

from sheetsync.backends.excel.cells import (
    BLANK,
    COLUMN_NUMBERS,
    CellContent,
    ShownCell,
    _unescape,
    cell_ref,
    cell_xml,
    column_letters,
    current_content,
)
from sheetsync.backends.excel.limits import parse_part
from sheetsync.backends.excel.ooxml import MAIN_NS
from sheetsync.backends.excel.styles import Styles
from sheetsync.backends.excel.worksheet import Worksheet
from sheetsync.core.model import Colour

__all__ = ["NeedsTree", "SheetText"]


class NeedsTree(Exception):
    """The sheet (or a cell to write) is beyond what is patched as text: use the whole tree."""


_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData\b[^>]*?(/?)>")
_TREE_ONLY_TEXT = (b"<!--", b"<![CDATA[", b"<?", b"xmlns")
"""What, among the rows, sends the sheet to the whole tree (with an extension list and a
shared, array or data-table formula: `_tree_only`)."""
_EXT_LIST = re.compile(rb"<(?:\w+:)?extLst\b")
_ROW = re.compile(rb"<(\w+:)?row\b([^>]*?)(/?)>")
_CELL = re.compile(rb"<(\w+:)?c\b([^>]*?)(/?)>")
_ATTRIBUTE = re.compile(rb"\s+([^\s=\"'<>/]+)\s*=\s*(?:\"([^\"]*)\"|'([^']*)')")
"""One attribute, its whole name (`my-r` is not `r`), after the whitespace before it."""
_ROW_NUMBER = re.compile(rb'\s+r="(\d+)"')
_CELL_ATTRIBUTES = {b"r", b"s", b"t", b"cm", b"vm"}
_SIMPLE_VALUE = re.compile(rb"<(?:\w+:)?v>([^<&]*)</(?:\w+:)?v>")
_SIMPLE_INLINE = re.compile(
    rb"<(?:\w+:)?is><(?:\w+:)?t(?: xml:space=\"preserve\")?>([^<&]*)</(?:\w+:)?t></(?:\w+:)?is>"
    rb"|<(?:\w+:)?is><(?:\w+:)?t(?: xml:space=\"preserve\")?/></(?:\w+:)?is>"
)
_FORMULA = re.compile(rb"<(?:\w+:)?f[\s/>]")
"""A formula anywhere in a cell's XML (after whitespace too), as `cell.find(FORMULA)` finds
it: text and attribute values hold no `<`, and comments or CDATA go to the tree."""
_DECLARED_ENCODING = re.compile(
    rb"(?:\xef\xbb\xbf)?<\?xml\s[^>]*?\bencoding\s*=\s*[\"']([^\"']*)[\"']"
)
"""The encoding the part's XML declaration names (none: UTF-8, the only one read as text)."""


class _Cell:
    """One `<c>` of a row: its XML, its attributes and its text between the tags."""

    __slots__ = ("attributes", "inner", "text")

    def __init__(self, text: bytes, attributes: dict[bytes, bytes], inner: bytes):
        self.text, self.attributes, self.inner = text, attributes, inner


class _Row:
    """One `<row>`: where its text is; once indexed, where each of its cells starts."""

    __slots__ = (
        "_attributes",
        "close",
        "cols",
        "end",
        "open_end",
        "raw",
        "start",
        "starts",
    )

    def __init__(self, start: int, open_end: int, close: int, end: int, raw: bytes):
        self.start, self.open_end, self.close, self.end = start, open_end, close, end
        """Where the row starts, its opening tag ends, its closing tag starts, it ends."""
        self.raw = raw
        """Its opening tag's attributes, as written."""
        self._attributes: dict[bytes, bytes] | None = None
        self.cols: list[int] | None = None
        self.starts: list[int] = []

    @property
    def attributes(self) -> dict[bytes, bytes]:
        if self._attributes is None:
            self._attributes = _attributes(self.raw)
        return self._attributes


class SheetText:
    """One worksheet part, its rows kept as text; the output cells edited in place.

    The methods are those of `Worksheet` that the editor uses on a person's tab (write_cell,
    style_of, set_style, set_column_width, release_formulas, finish), with the same results.
    Cells are found by an index of where each cell of a row starts (one regular expression
    over the row); only the cells written are read in full.
    """

    def __init__(
        self, data: bytes, name: str, shared: Callable[[int], str], parser: etree.XMLParser
    ) -> None:
        declared = _DECLARED_ENCODING.match(data)
        if declared is not None and declared[1].lower() != b"utf-8":
            raise NeedsTree("a part in another encoding than UTF-8")
        found = _SHEET_DATA.search(data)
        if found is None or found[2]:
            raise NeedsTree("no rows")
        close = data.rfind(b"</" + (found[1] or b"") + b"sheetData>")
        if close < found.end():
            raise NeedsTree("no end of the rows")
        self._data = data
        self._body_start, self._body_end = found.end(), close
        self._prefix = found[1] or b""
        if _tree_only(data, self._body_start, self._body_end, self._prefix):
            raise NeedsTree("formulas, comments or declarations among the rows")
        self._shared = shared
        target = f"sheetsync-rows-{secrets.token_hex(8)}"
        self._placeholder = f"<?{target}?>".encode()
        """Where the rows go in the skeleton: a name no part holds (as the tree's splices)."""
        if self._placeholder in data:
            raise NeedsTree("the rows' placeholder already in the part")
        skeleton = data[: self._body_start] + self._placeholder + data[self._body_end :]
        try:
            root = parse_part(skeleton, name, parser)
        except etree.XMLSyntaxError as exc:  # a `<sheetData` in a comment, say; or damaged
            raise NeedsTree("the part without its rows does not read") from exc
        self._skeleton = Worksheet(root, shared, target)
        self.prefix = self._skeleton.prefix
        rows = self._skeleton.data
        if len(rows) != 1 or rows[0].tag is not etree.PI:  # `<sheetData>` in another namespace
            raise NeedsTree("rows the skeleton does not hold")
        if self.prefix.encode() != self._prefix:
            raise NeedsTree("rows in another namespace prefix")
        if [uri for uri in rows.nsmap.values() if uri == MAIN_NS] != [MAIN_NS]:
            raise NeedsTree("two prefixes for the rows' namespace")
        p = re.escape(self._prefix)
        self._cell_start = re.compile(rb'<%sc\s+r="([A-Z]{1,3})(\d+)"' % p)
        """A cell whose reference is its first attribute, as every producer writes it."""
        self._cell_tag = b"<" + self._prefix + b"c"
        self._quick_cell = re.compile(
            rb'<%sc r="([A-Z]{1,3}\d+)"(?: s="(\d+)")?(?: t="(\w+)")?(?:/>|>(' % p
            + rb"<%sv>[^<]*</%sv>|<%sis><%st(?: xml:space=\"preserve\")?>[^<]*</%st></%sis>"
            % (p, p, p, p, p, p)
            + rb")</%sc>)" % p
        )
        """A cell as sheetsync writes it, read without a dictionary of attributes."""
        self._quick_value = re.compile(
            rb'<%sc r="[A-Z]{1,3}\d+"(?: s="(\d+)")?(?: t="(\w+)")?(?:/>|(>)(?:' % p
            + rb"<%sv>([^<]*)</%sv>|<%sis><%st(?: xml:space=\"preserve\")?>([^<]*)</%st></%sis>"
            % (p, p, p, p, p, p)
            + rb")</%sc>)" % p
        )
        """`_quick_cell` with the value's parts: style, type, `>` (not empty), value, text."""
        self._foreign = re.compile(rb"</?(?!%s)\w+:" % p if self._prefix else rb"</?\w+:")
        """A tag in a namespace prefix other than the rows' (declared on the worksheet)."""
        self._rows: dict[int, _Row] = {}
        self._numbers: list[int] = []
        self._index_rows()
        self._found: dict[tuple[int, int], int] | None = None
        """(row, col) -> where the cell starts, for the cells to be written (`scan`); None
        when not scanned or when a cell might be missed (then rows are indexed one by one)."""
        self._scanned: set[int] = set()
        """The columns `scan` looked for."""
        self._read: dict[tuple[int, int], _Cell | None] = {}
        """(row, col) -> the cell as it is now (read, or as edited; None: no cell)."""
        self._edits: dict[int, dict[int, bytes | None]] = {}
        """Row -> column -> the cell's new XML (None: the cell is removed)."""
        self._row_edits: dict[int, bytes | None] = {}
        """Row -> its whole new XML (None: the row is removed), for an owned tab's rows."""
        self._spans: dict[int, bytes] = {}
        """Row -> its new `spans` attribute value (empty: remove it)."""
        self._column_styles: dict[int, int] = {}
        """Column -> the format its cells show with no `<c>` (`<cols>`; widths do not change it)."""
        self._dimension_changed = False
        self.changed = False
        self.removed_formulas: set[str] = set()

    @property
    def root(self) -> Any:
        """The worksheet without its rows (columns, dimension, drawing ...), as a tree."""
        return self._skeleton.root

    def _index_rows(self) -> None:
        data = self._data
        close = b"</" + self._prefix + b"row>"
        previous, position, stop = 0, self._body_start, self._body_end
        while True:
            found = _ROW.search(data, position, stop)
            if found is None:
                break
            if (found[1] or b"") != self._prefix:
                raise NeedsTree("rows in another namespace prefix")
            if found[2].count(b'"') % 2 or found[2].count(b"'") % 2:
                raise NeedsTree("a row's attribute holding a '>'")
            plain = _ROW_NUMBER.match(found[2])
            number_text = plain[1] if plain else _attributes(found[2]).get(b"r")
            if number_text is None or not number_text.isdigit():
                raise NeedsTree("a row without its number")
            number = int(number_text)
            if number <= previous:
                raise NeedsTree("rows out of order")
            if found[3]:
                closing = end = found.end()
            else:
                closing = data.find(close, found.end(), stop)
                if closing < 0:
                    raise NeedsTree("a row without its end")
                end = closing + len(close)
            self._rows[number] = _Row(found.start(), found.end(), closing, end, found[2])
            self._numbers.append(number)
            previous, position = number, end

    # --- whole rows (a tab sheetsync owns) ---

    def has_row(self, number: int) -> bool:
        return number in self._rows

    def row_matches(self, number: int, xml: str) -> bool:
        """Whether the row is, byte for byte, `xml` (the whole `<row>` sheetsync writes)."""
        row = self._rows[number]
        return self._data[row.start : row.end] == xml.encode()

    def row_numbers(self) -> list[int]:
        return self._numbers

    def shown(self, number: int, styles: Styles) -> tuple[dict[int, ShownCell], list[str]]:
        """As `Worksheet.shown`: what each non-blank cell of a row shows (value, fill, number
        format) and the references of its formulas. NeedsTree for a cell this class does not
        read."""
        shown: dict[int, ShownCell] = {}
        formulas: list[str] = []
        row = self._rows.get(number)
        if row is None:
            return shown, formulas
        for at, col in enumerate(self._index(row, number)):
            cell = self._parse(row.starts[at], row.close)
            value = self._content(cell)
            if value[0] == "f":
                formulas.append(cell_ref(number, col))
            style = int(cell.attributes.get(b"s") or 0)
            fill, fmt = styles.fill_of(style), styles.format_of(style)
            if value != BLANK or fill is not None or fmt != "General":
                shown[col] = (value, fill, fmt)
        return shown, formulas

    def replace_rows(self, rows: dict[int, bytes | None]) -> None:
        """Replace or add whole rows (row number -> the `<row>`'s XML) or remove them (None)
        when the part is written (`to_bytes`): every other row keeps its bytes."""
        self._row_edits.update(rows)
        self.changed = True

    def set_dimension(self, bounds: tuple[int, int, int, int] | None) -> None:
        """As `Worksheet.set_dimension`."""
        dimension = self._skeleton.root.find(f"{{{MAIN_NS}}}dimension")
        before = None if dimension is None else dimension.get("ref")
        self._skeleton.set_dimension(bounds)
        if dimension is not None and dimension.get("ref") != before:
            self._dimension_changed = self.changed = True

    def prepare(self, cells: set[tuple[int, int]]) -> None:
        """Index the rows and read the cells of `cells`, so that a row or a cell this class
        does not handle raises NeedsTree now, before anything is changed in them."""
        for number in {number for number, _ in cells}:
            self._ready(number)
        for number, col in cells:
            self._cell(number, col)

    def _ready(self, number: int) -> None:
        """Index a row and read its attributes (NeedsTree for a row this class does not
        handle): done before any of its cells is changed."""
        row = self._rows.get(number)
        if row is not None:
            row.attributes  # noqa: B018 - read now: an attribute it refuses raises here
            self._index(row, number)

    def scan(self, cells: set[tuple[int, int]]) -> None:
        """Find the cells to be written with one search over the rows, so that `write_cell`
        recognises a cell already as wanted without indexing its row.

        Only when every cell among the rows starts `<c r="` (as every producer writes them)
        is a cell not found known to be absent; otherwise nothing is kept and rows are
        indexed one by one. A row to change is indexed and checked when a cell of it is
        changed: `write_cell` may raise NeedsTree then (see `write_cell`).
        """
        data, p = self._data, self._prefix
        start, stop = self._body_start, self._body_end
        if re.compile(rb'<%sc(?! r=")[\s/>]' % re.escape(p)).search(data, start, stop):
            return
        columns = {col for _, col in cells}
        letters = b"|".join(column_letters(col).encode() for col in sorted(columns))
        pattern = re.compile(rb'<%sc r="(%s)(\d+)"' % (re.escape(p), letters))
        found: dict[tuple[int, int], int] = {}
        rows = self._rows
        for hit in pattern.finditer(data, start, stop):
            number = int(hit[2])
            row = rows.get(number)
            at = hit.start()
            key = (number, COLUMN_NUMBERS[hit[1].decode()])
            if row is None or not row.open_end <= at < row.close or key in found:
                return  # a cell out of its row, or twice: rows are indexed one by one
            found[key] = at
        self._found, self._scanned = found, columns

    def _unchanged(
        self,
        number: int,
        col: int,
        value: CellContent,
        look: tuple[Styles, Colour | None, str | None] | None,
    ) -> bool:
        """True when a scanned cell surely already holds `value` and the cell format its own
        becomes with `look` (styles, fill, number format; None: its own kept), as
        `write_cell` would find it; False when it must look closer."""
        found = self._found
        if found is None or col not in self._scanned or (number, col) in self._read:
            return False
        edits = self._edits.get(number)
        if edits is not None and col in edits:
            return False
        at = found.get((number, col))
        if at is None:  # no cell there: as wanted only when blank and in its row's format
            if value != BLANK:
                return False
            base = self._default_style(number, col)
            return look is None or look[0].derive(base, look[1], look[2]) == base
        quick = self._quick_value.match(self._data, at, self._body_end)
        if quick is None:
            return False
        base = int(quick[1]) if quick[1] else 0
        if look is not None and look[0].derive(base, look[1], look[2]) != base:
            return False
        kind, payload = value
        number_text, inline = quick[4], quick[5]
        if quick[3] is None:  # <c .../>
            return not kind
        if kind == "n" and number_text and quick[2] in (None, b"n"):
            try:
                return float(number_text) == payload
            except ValueError:
                return False
        if kind == "s" and b"&" not in (inline or number_text or b""):
            if quick[2] == b"inlineStr" and inline is not None:
                return _unescape(inline.decode()) == payload
            if quick[2] == b"s" and number_text is not None and number_text.isdigit():
                return _unescape(self._shared(int(number_text))) == payload
        return False

    def _index(self, row: _Row, number: int) -> list[int]:
        """The columns of a row's cells, in order (their starts in `row.starts`)."""
        if row.cols is not None:
            return row.cols
        data = self._data
        cols: list[int] = []
        starts: list[int] = []
        wanted = str(number).encode()
        previous = 0
        for found in self._cell_start.finditer(data, row.open_end, row.close):
            col = COLUMN_NUMBERS.get(found[1].decode())
            if col is None or col <= previous or found[2] != wanted:
                raise NeedsTree("cells out of order")
            cols.append(col)
            starts.append(found.start())
            previous = col
        if data.count(self._cell_tag, row.open_end, row.close) != len(cols):
            cols, starts = self._index_slowly(row, wanted)
        row.cols, row.starts = cols, starts
        return cols

    def _index_slowly(self, row: _Row, wanted: bytes) -> tuple[list[int], list[int]]:
        """The index, for a row whose cells are not all written `<c r="..."` (or whose rich
        text has tags starting like a cell's, such as `<color>`)."""
        data = self._data
        cols: list[int] = []
        starts: list[int] = []
        position, previous = row.open_end, 0
        close = b"</" + self._prefix + b"c>"
        while True:
            found = _CELL.search(data, position, row.close)
            if found is None:
                return cols, starts
            if (found[1] or b"") != self._prefix:
                raise NeedsTree("a cell in another namespace prefix")
            ref = _attributes(found[2]).get(b"r")
            if ref is None:
                raise NeedsTree("a cell without its reference")
            letters = ref.rstrip(b"0123456789")
            col = COLUMN_NUMBERS.get(letters.decode("ascii", "replace"))
            if col is None or col <= previous or ref[len(letters) :] != wanted:
                raise NeedsTree("cells out of order")
            cols.append(col)
            starts.append(found.start())
            previous = col
            if found[3]:
                position = found.end()
            else:
                position = data.find(close, found.end(), row.close)
                if position < 0:
                    raise NeedsTree("a cell without its end")

    def _cell(self, number: int, col: int) -> _Cell | None:
        """The cell as it is now (as edited, if it was), None if there is none."""
        key = (number, col)
        if key in self._read:
            return self._read[key]
        edits = self._edits.get(number)
        if edits is not None and col in edits:
            xml = edits[col]
            cell = None if xml is None else self._parse_own(xml)
        else:
            cell = None
            row = self._rows.get(number)
            if row is not None:
                cols = self._index(row, number)
                at = bisect_left(cols, col)
                if at < len(cols) and cols[at] == col:
                    cell = self._parse(row.starts[at], row.close)
        self._read[key] = cell
        return cell

    def content(self, number: int, col: int) -> CellContent:
        """What a cell holds now (`BLANK` when there is none), as `Worksheet.content`."""
        cell = self._cell(number, col)
        return BLANK if cell is None else self._content(cell)

    @staticmethod
    def _parse_own(xml: bytes) -> _Cell:
        """A cell sheetsync has just written (`cell_xml`)."""
        found = _CELL.match(xml)
        assert found is not None
        inner = b"" if found[3] else xml[found.end() : xml.rfind(b"</")]
        return _Cell(xml, _attributes(found[2]), inner)

    def _parse(self, start: int, stop: int) -> _Cell:
        data = self._data
        quick = self._quick_cell.match(data, start, stop)
        if quick is not None:  # as sheetsync writes a cell: r, s, t; a value, text or nothing
            attributes = {b"r": quick[1]}
            if quick[2] is not None:
                attributes[b"s"] = quick[2]
            if quick[3] is not None:
                attributes[b"t"] = quick[3]
            return _Cell(quick[0], attributes, quick[4] or b"")
        found = _CELL.match(data, start, stop)
        if found is None or found[2].count(b'"') % 2 or found[2].count(b"'") % 2:
            raise NeedsTree("a cell that does not read (an attribute holding a '>'?)")
        attributes = _attributes(found[2])
        if not attributes.keys() <= _CELL_ATTRIBUTES:
            raise NeedsTree("a cell with attributes sheetsync does not rewrite")
        if found[3]:
            return _Cell(data[start : found.end()], attributes, b"")
        close = b"</" + self._prefix + b"c>"
        end = data.find(close, found.end(), stop)
        if end < 0:
            raise NeedsTree("a cell without its end")
        inner = data[found.end() : end]
        if inner and self._foreign.search(inner) is not None:
            raise NeedsTree("a cell with elements of another namespace")
        return _Cell(data[start : end + len(close)], attributes, inner)

    # --- what a cell holds ---

    def _content(self, cell: _Cell) -> CellContent:
        """As `current_content` gives for the cell's element."""
        inner = cell.inner
        if not inner:
            return BLANK
        if _FORMULA.match(inner):
            return ("f", None)
        kind = cell.attributes.get(b"t", b"n")
        if kind == b"inlineStr":
            simple = _SIMPLE_INLINE.fullmatch(inner)
            if simple is not None:
                return ("s", _unescape((simple[1] or b"").decode()))
        else:
            simple = _SIMPLE_VALUE.fullmatch(inner)
            if simple is not None and kind in (b"n", b"s", b"str", b"b", b"e"):
                return self._value(kind, simple[1].decode())
        return current_content(self._element(cell), self._shared)

    def _value(self, kind: bytes, text: str) -> CellContent:
        if not text:
            return BLANK
        try:
            if kind == b"n":
                return ("n", float(text))
            if kind == b"s":
                return ("s", _unescape(self._shared(int(text))))
        except ValueError:
            return ("?", text)
        if kind == b"str":
            return ("s", _unescape(text))
        if kind == b"b":
            return ("b", text.strip() in ("1", "true"))
        return ("e", text)

    def _element(self, cell: _Cell) -> Any:
        """The cell parsed on its own (for contents the quick forms above do not cover)."""
        p = self.prefix
        declare = f"xmlns:{p[:-1]}" if p else "xmlns"
        wrapped = f'<{p}row {declare}="{MAIN_NS}">'.encode() + cell.text + f"</{p}row>".encode()
        return etree.fromstring(wrapped)[0]  # XMLSyntaxError: damaged, as on the tree

    def _default_style(self, number: int, col: int) -> int:
        """The format a cell there would show with no `<c>`: its row's or its column's."""
        row = self._rows.get(number)
        if (
            row is not None
            and b"customFormat" in row.raw  # most rows: without reading their attributes
            and row.attributes.get(b"customFormat") in (b"1", b"true")
        ):
            return int(row.attributes.get(b"s", b"0"))
        style = self._column_styles.get(col)
        if style is None:
            style = self._column_styles[col] = self._skeleton._default_style(0, col)
        return style

    def _style(self, number: int, col: int) -> tuple[_Cell | None, int]:
        cell = self._cell(number, col)
        if cell is None:
            return None, self._default_style(number, col)
        return cell, int(cell.attributes.get(b"s") or 0)

    # --- the editor's operations ---

    def release_formulas(self, targets: set[tuple[int, int]], tab: str) -> None:
        """Nothing to release: a sheet with shared or array formulas is done on the tree."""

    def write_cell(
        self,
        number: int,
        col: int,
        value: CellContent,
        fill: Colour | None,
        number_format: str | None,
        styles: Styles,
        keep_format: bool = False,
    ) -> bool:
        """As `Worksheet.write_cell`: a value, fill and number format; False if already so.

        After `scan`, a cell to change has its row indexed and checked first, so NeedsTree
        may be raised here; the caller then does the tab on the whole tree.
        """
        if self._found is not None:
            look = None if keep_format else (styles, fill, number_format)
            if self._unchanged(number, col, value, look):
                return False
            self._ready(number)
        cell, base = self._style(number, col)
        style = base if keep_format else styles.derive(base, fill, number_format)
        if cell is None:
            if value == BLANK and style == base:
                return False
            self._edit(number, col, cell_xml(value, style, self.prefix), added=True)
            return True
        if style == base and self._content(cell) == value:
            return False
        if _FORMULA.search(cell.inner):
            self.removed_formulas.add(cell_ref(number, col))
        if value == BLANK and style == self._default_style(number, col):
            self._edit(number, col, None)
        else:
            self._edit(number, col, cell_xml(value, style, self.prefix))
        return True

    def style_of(self, number: int, col: int) -> int:
        return self._style(number, col)[1]

    def set_style(self, number: int, col: int, style: int) -> bool:
        """Give a cell the cell format `style`, its value kept; False if it had it."""
        cell, base = self._style(number, col)
        if style == base:
            return False
        if cell is None:
            self._edit(number, col, f' s="{style}"/>' if style else "/>", added=True)
            return True
        attributes = dict(cell.attributes)
        if style:
            attributes[b"s"] = str(style).encode()
        else:
            attributes.pop(b"s", None)
        head = b"".join(b' %s="%s"' % (k, v) for k, v in attributes.items() if k != b"r")
        tail = b">" + cell.inner + b"</" + self._prefix + b"c>" if cell.inner else b"/>"
        self._edit(number, col, (head + tail).decode())
        return True

    def set_column_width(self, col: int, width: float) -> bool:
        changed = self._skeleton.set_column_width(col, width)
        self.changed |= changed
        return changed

    def finish(self) -> None:
        """Grow `<dimension>` over the cells added (the cells are spliced in by `to_bytes`)."""
        dimension = self._skeleton.root.find(f"{{{MAIN_NS}}}dimension")
        before = None if dimension is None else dimension.get("ref")
        self._skeleton.finish()
        if dimension is not None and dimension.get("ref") != before:
            self._dimension_changed = self.changed = True

    def _edit(self, number: int, col: int, tail: str | None, *, added: bool = False) -> None:
        """Set a cell's XML (`tail`: what follows its reference, as `cell_xml` gives it), or
        remove the cell (None). `added`: there was no cell there."""
        self.changed = True
        edits = self._edits.setdefault(number, {})
        if tail is None:
            edits[col] = None
            self._read[number, col] = None
            return
        if added:
            self._skeleton._grow(number, col)
            self._widen_spans(number, col)
        edits[col] = f'<{self.prefix}c r="{cell_ref(number, col)}"{tail}'.encode()
        self._read.pop((number, col), None)  # read again from the edit if asked for

    def _widen_spans(self, number: int, col: int) -> None:
        row = self._rows.get(number)
        spans = self._spans.get(number) or (row.attributes.get(b"spans") if row else None)
        if not spans:
            return
        try:
            bounds = [int(n) for part in spans.split() for n in part.split(b":")]
        except ValueError:
            self._spans[number] = b""
            return
        if not min(bounds) <= col <= max(bounds):
            self._spans[number] = f"{min(*bounds, col)}:{max(*bounds, col)}".encode()

    # --- the part ---

    def to_bytes(self, *, skeleton_changed: bool = False) -> bytes:
        """The part with its edited cells and rows, every other byte as it was.

        `skeleton_changed`: the part outside the rows (`root`) was edited by someone else
        (the charts' `<drawing>`), so it is serialised again.
        """
        data = self._data
        if skeleton_changed or self._skeleton.changed or self._dimension_changed:
            serialised = etree.tostring(
                self._skeleton.root, xml_declaration=True, encoding="UTF-8", standalone=True
            )
            head, tail = serialised.split(self._placeholder)
        else:
            head, tail = data[: self._body_start], data[self._body_end :]
        pieces = [head]
        position = self._body_start
        whole = self._row_edits
        for number in sorted(self._edits.keys() | whole.keys()):
            row = self._rows.get(number)
            if row is None:
                at = bisect_left(self._numbers, number)
                stop = self._rows[self._numbers[at]].start if at < len(self._numbers) else None
                stop = self._body_end if stop is None else stop
                pieces.append(data[position:stop])
                pieces.append(whole[number] or b"" if number in whole else self._new_row(number))
                position = stop
                continue
            pieces.append(data[position : row.start])
            if number in whole:
                pieces.append(whole[number] or b"")
            else:
                pieces += self._edited_row(number, row)
            position = row.end
        pieces.append(data[position : self._body_end])
        pieces.append(tail)
        return b"".join(pieces)

    def _new_row(self, number: int) -> bytes:
        p = self._prefix
        cells = [xml for _, xml in sorted(self._edits[number].items()) if xml is not None]
        return b'<%srow r="%d">%s</%srow>' % (p, number, b"".join(cells), p)

    def _edited_row(self, number: int, row: _Row) -> list[bytes]:
        data, p = self._data, self._prefix
        edits = self._edits[number]
        cols = self._index(row, number)
        spans = self._spans.get(number)
        if spans is None and row.close != row.open_end:
            pieces = [data[row.start : row.open_end]]
        else:
            attributes = dict(row.attributes)
            if spans:
                attributes[b"spans"] = spans
            elif spans is not None:
                attributes.pop(b"spans", None)
            fields = b"".join(b' %s="%s"' % (k, v) for k, v in attributes.items())
            pieces = [b"<%srow%s>" % (p, fields)]
        present = set(cols)
        added = sorted(c for c in edits if c not in present)
        position, j = row.open_end, 0
        for i, col in enumerate(cols):
            start = row.starts[i]
            while j < len(added) and added[j] < col:
                xml = edits[added[j]]
                pieces += (data[position:start], xml or b"")
                position, j = start, j + 1
            if col in edits:
                pieces += (data[position:start], edits[col] or b"")
                position = row.starts[i + 1] if i + 1 < len(cols) else row.close
        pieces.append(data[position : row.close])
        pieces += [edits[col] or b"" for col in added[j:]]
        pieces.append(data[row.close : row.end] if row.close != row.end else b"</%srow>" % p)
        return pieces


def _attributes(text: bytes) -> dict[bytes, bytes]:
    """A tag's attributes (the text after its name), each read whole from where the one
    before ended; anything else among them (not XML, then) raises NeedsTree."""
    found: dict[bytes, bytes] = {}
    position = 0
    while (match := _ATTRIBUTE.match(text, position)) is not None:
        value = match[2] if match[2] is not None else match[3]
        if b'"' in value:
            raise NeedsTree("an attribute holding a quote")
        found[match[1]] = value
        position = match.end()
    if text[position:].strip():
        raise NeedsTree("a tag's attributes that do not read")
    return found


def _tree_only(data: bytes, start: int, stop: int, prefix: bytes) -> bool:
    """Whether the rows hold what sends the sheet to the whole tree: comments, CDATA,
    processing instructions or namespace declarations, an extension list, or a shared, array
    or data-table formula (in the rows' own prefix: another prefix for the namespace, or a
    declaration among the rows, sends the sheet there anyway). Literal searches first: a
    pattern tried at every tag costs several times more."""
    if any(data.find(text, start, stop) >= 0 for text in _TREE_ONLY_TEXT):
        return True
    if data.find(b"extLst", start, stop) >= 0 and _EXT_LIST.search(data, start, stop):
        return True
    formula = rb"<%sf\s[^>]*?\bt\s*=\s*[\"'](?:shared|array|dataTable)[\"']" % re.escape(prefix)
    return re.compile(formula).search(data, start, stop) is not None
