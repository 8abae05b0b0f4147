"""A tab's data rows read field by field: typed values, and a problem naming the cell for each
bad one. Pure.

The cells are read column by column (`TabCells`): each field's column is taken out of the grid
once, and parsed once with its parser, remembering the result for each distinct text (a
quarter's Period, the owners' Type or Direction words repeat on every row). A `RowReader` is
one row's view of those columns; it records a problem per bad cell exactly as reading that one
cell would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache, partial
from typing import Any, TypeVar

from sheetsync.core.layout import TabLayout, cell_at
from sheetsync.core.model import (
    Problem,
)
from sheetsync.core.parse import (
    ParseError,
    a1,
    blanks,
    is_blank,
    read_number,
    text_or_none,
)
from sheetsync.core.plan import CellValue, Grid, NumberFormats
from sheetsync.core.units import (
    NumberStyle,
    format_number,
    style_from_format,
)

T = TypeVar("T")
V = TypeVar("V")


@dataclass(frozen=True)
class NumberReading:
    """How a tab's numbers are read and shown: the workbook's locale and its cells' formats."""

    decimal: str | None = None
    """The decimal separator when configured ('.' or ','); None: unambiguous text only."""
    formats: NumberFormats = field(default_factory=dict)
    """(row, col) -> number format code of the tab's numeric cells (blank: General)."""


@dataclass(frozen=True)
class Unreadable:
    """A cell its parser refused: what `ParseError` said (kept instead of the exception, whose
    traceback would keep the whole parse alive)."""

    expected: str
    message: str

    @property
    def detail(self) -> str:
        """After the column's header: `Target: not a number`, `Target is blank but required`."""
        return f"{' ' if self.message.startswith('is ') else ': '}{self.message}"


def _unreadable(exc: ParseError) -> Unreadable:
    return Unreadable(exc.expected, str(exc))


def parse_cells(
    parser: Callable[[CellValue], T], cells: Sequence[CellValue]
) -> list[T | Unreadable]:
    """`parser` over a column: each cell's meaning, or what was wrong with it.

    The same as calling `parser` on each cell; text and blanks are parsed once per distinct
    value (parsers are pure), other values (numbers, dates) one by one, since 1, 1.0 and True
    are equal as keys but not to a parser.
    """
    if set(map(type, cells)) <= _TEXT_OR_BLANK:  # most columns: no cell needs its own parse
        known = {value: _parse_one(parser, value) for value in dict.fromkeys(cells)}
        return [known[value] for value in cells]
    remembered: dict[str | None, T | Unreadable] = {}
    results: list[T | Unreadable] = []
    for value in cells:
        if value is None or type(value) is str:
            if value not in remembered:
                remembered[value] = _parse_one(parser, value)  # type: ignore[index]
            results.append(remembered[value])  # type: ignore[index]
        else:
            results.append(_parse_one(parser, value))
    return results


_TEXT_OR_BLANK = frozenset({str, type(None)})


def _parse_one(parser: Callable[[CellValue], T], value: CellValue) -> T | Unreadable:
    try:
        return parser(value)
    except ParseError as exc:
        return _unreadable(exc)


@lru_cache(maxsize=1024)
def _style_of(code: str | None, decimal_comma: bool) -> NumberStyle:
    """A number format code's style: a tab has a handful of codes over thousands of cells."""
    return style_from_format(code, decimal_comma=decimal_comma)


class _ByField(dict[str, V]):
    """field -> what is worked out for it (`compute(field)`), the first time it is asked for."""

    def __init__(self, compute: Callable[[str], V]) -> None:
        super().__init__()
        self.compute = compute

    def __missing__(self, name: str) -> V:
        self[name] = found = self.compute(name)
        return found


class TabCells:
    """A tab's data rows (below its header row), column by column, each parsed at most once.

    `raw[field]`, `text[field]` and `numbers[field]` are columns indexed by data row (0 for
    the row below the header), worked out on first use.
    """

    def __init__(self, grid: Grid, layout: TabLayout, reading: NumberReading | None = None) -> None:
        self.grid, self.layout = grid, layout
        self.reading = reading or NumberReading()
        self.first_row = layout.header_row + 1
        below = grid[layout.header_row :]
        self.size = len(below)
        self.columns: dict[str, list[CellValue]] = {
            name: [line[col - 1] if col <= len(line) else None for line in below]
            for name, col in layout.columns.items()
        }
        self.raw = _ByField(partial(_cells_of, self.columns, self.size))
        """The cells as read (all blank for a field the tab has no column for)."""
        self.text = _ByField(partial(_texts_of, self.raw))
        """The cells as trimmed text."""
        self.numbers = _ByField(partial(_numbers_of, self.raw, layout, self.reading))
        """The cells' numbers and how each cell shows it, or what is wrong with it."""
        self.headers = _ByField(partial(_header_of, grid, layout))
        """The field's header as the person wrote it (for messages)."""
        self.blank = _ByField(partial(_blanks_of, self.raw))
        """Per data row: the field's cell is blank (`is_blank`)."""
        self.given_numbers = _ByField(partial(_given_numbers_of, self.blank, self.numbers))
        """What `RowReader.number` reads of an optional field: None for a blank cell, else
        the cell's number and style, or what is wrong with it."""
        self._parsed: dict[tuple[str, Callable[[CellValue], Any]], list[Any]] = {}
        self._empty: dict[tuple[str, ...], list[bool]] = {}

    def rows(self) -> range:
        """The sheet row numbers of the data rows."""
        return range(self.first_row, self.first_row + self.size)

    def row(self, row: int) -> RowReader:
        return RowReader(self, row)

    def empty_rows(self, ignore: Sequence[str] = ()) -> list[bool]:
        """Per data row: no known field has a value (a person's own columns do not count)."""
        key = tuple(ignore)
        if key not in self._empty:
            kept = [self.blank[name] for name in self.columns if name not in key]
            rows = zip(*kept, strict=True)
            self._empty[key] = [all(row) for row in rows] if kept else [True] * self.size
        return self._empty[key]

    def parsed(self, name: str, parser: Callable[[CellValue], T]) -> list[T | Unreadable]:
        """The field's column through `parser` (once per field and parser)."""
        key = (name, parser)
        if key not in self._parsed:
            self._parsed[key] = parse_cells(parser, self.raw[name])
        return self._parsed[key]


def _cells_of(columns: dict[str, list[CellValue]], size: int, name: str) -> list[CellValue]:
    return columns.get(name) or [None] * size


def _texts_of(raw: _ByField[list[CellValue]], name: str) -> list[str | None]:
    """`text_or_none` of each cell (for text, its trimmed self or None: inlined)."""
    return [
        None
        if value is None
        else (value.strip() or None)
        if type(value) is str
        else text_or_none(value)
        for value in raw[name]
    ]


def _blanks_of(raw: _ByField[list[CellValue]], name: str) -> list[bool]:
    return blanks(raw[name])


def _given_numbers_of(
    blank: _ByField[list[bool]],
    numbers: _ByField[list[tuple[float, NumberStyle] | Unreadable]],
    name: str,
) -> list[tuple[float, NumberStyle] | Unreadable | None]:
    return [
        None if empty else found for empty, found in zip(blank[name], numbers[name], strict=True)
    ]


def _header_of(grid: Grid, layout: TabLayout, name: str) -> str:
    col = layout.columns.get(name)
    text = cell_at(grid, layout.header_row, col) if col else None
    return str(text).strip() if text else name.replace("_", " ").title()


def _numbers_of(
    raw: _ByField[list[CellValue]], layout: TabLayout, reading: NumberReading, name: str
) -> list[tuple[float, NumberStyle] | Unreadable]:
    """`RowReader.number_at` for a field's whole column.

    A finite int or float cell is its number in its cell's format, as `read_number` and
    `number_at` make it, without the calls (most cells of a number column are these); every
    other cell goes through `read_number`, text once per distinct value.
    """
    decimal = reading.decimal
    parse = partial(read_number, decimal=decimal)
    col, first_row = layout.columns.get(name, 1), layout.header_row + 1
    formats, comma = reading.formats, decimal == ","
    general = _style_of(None, comma)
    texts: dict[str | None, tuple[float, NumberStyle] | Unreadable] = {}
    read: list[tuple[float, NumberStyle] | Unreadable] = []
    for row, value in enumerate(raw[name], first_row):
        kind = type(value)
        if kind is int or (kind is float and value - value == 0):  # type: ignore[operator]
            code = formats.get((row, col)) if formats else None
            style = general if code is None else _style_of(code, comma)
            read.append((float(value), style))  # type: ignore[arg-type]
        elif value is None or kind is str:
            if value not in texts:
                texts[value] = _parse_one(parse, value)  # type: ignore[index]
            read.append(texts[value])  # type: ignore[index]
        else:
            found = _parse_one(parse, value)
            if isinstance(value, int | float) and not isinstance(found, Unreadable):
                code = formats.get((row, col))
                found = (found[0], _style_of(code, comma))
            read.append(found)
    return read


class RowReader:
    """One data row being validated: typed access to its fields, collecting problems."""

    __slots__ = ("cells", "grid", "index", "layout", "problems", "reading", "row", "styles")

    def __init__(self, cells: TabCells, row: int) -> None:
        self.cells, self.row, self.index = cells, row, row - cells.first_row
        self.grid, self.layout, self.reading = cells.grid, cells.layout, cells.reading
        self.styles: dict[str, NumberStyle] = {}
        """field -> how the person's cell shows its number (for every number read)."""
        self.problems: list[Problem] = []

    def raw(self, name: str) -> CellValue:
        return self.cells.raw[name][self.index]

    def is_empty(self, ignore: Sequence[str] = ()) -> bool:
        """No known field has a value (a person's own columns do not count)."""
        return self.cells.empty_rows(ignore)[self.index]

    def ref(self, name: str) -> str:
        return a1(self.row, self.layout.columns.get(name, 1))

    def header(self, name: str) -> str:
        return self.cells.headers[name]

    def problem(self, name: str, message: str, expected: str, value: object = None) -> None:
        self.problems.append(
            Problem(self.layout.tab, self.ref(name), value, expected, message, row=self.row)
        )

    def unique(self, name: str, value: str, seen: dict[str, str], what: str, expected: str) -> None:
        """Record `value` (case-insensitively) in `seen`, or a problem naming where it was first."""
        if value.casefold() in seen:
            self.problem(
                name, f"duplicate {what} (also at {seen[value.casefold()]})", expected, value
            )
        else:
            seen[value.casefold()] = self.ref(name)

    def parsed(self, name: str, parser: Callable[[CellValue], T], default: T) -> T:
        """The field through `parser` (the same parser object for every row: it is parsed per
        column), or `default` after recording the cell's problem."""
        found = self.cells.parsed(name, parser)[self.index]
        if isinstance(found, Unreadable):
            self.problem(name, self.header(name) + found.detail, found.expected, self.raw(name))
            return default
        return found

    def text(self, name: str) -> str | None:
        return self.cells.text[name][self.index]

    def number(self, name: str, *, required: bool = False) -> float | None:
        """The field's number (None when blank and optional), remembering how its cell shows it.

        A problem is recorded (and None returned) when it is not a number.
        """
        value = self.raw(name)
        if not required and is_blank(value):
            return None
        found = self.cells.numbers[name][self.index]
        if isinstance(found, Unreadable):
            self.problem(name, self.header(name) + found.detail, found.expected, value)
            return None
        self.styles[name] = found[1]
        return found[0]

    def number_at(
        self, col: int, label: str, value: CellValue, problems: list[Problem] | None = None
    ) -> tuple[float, NumberStyle] | None:
        """The number in this row's cell `col` and how the cell shows it; None after recording
        a problem at that cell (in `problems`, by default this row's)."""
        try:
            number, style = read_number(value, self.reading.decimal)
        except ParseError as exc:
            found = Problem(
                self.layout.tab,
                a1(self.row, col),
                value,
                exc.expected,
                label + _unreadable(exc).detail,
                row=self.row,
            )
            (self.problems if problems is None else problems).append(found)
            return None
        if isinstance(value, int | float):
            code = self.reading.formats.get((self.row, col))
            style = _style_of(code, self.reading.decimal == ",")
        return number, style

    def found(self, name: str) -> CellValue:
        """The cell's value for a message: a number as its cell shows it (`'20%'`, not 0.2)."""
        value = self.raw(name)
        if isinstance(value, int | float) and not isinstance(value, bool) and name in self.styles:
            return format_number(value, self.styles[name])
        return value

    def shown(self, name: str, number: float) -> str:
        """`number` as this row's `name` cell shows it (for messages)."""
        return format_number(number, self.styles.get(name))
