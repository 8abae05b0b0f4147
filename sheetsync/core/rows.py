"""One data row read field by field: typed values, and a problem naming the cell for each bad
one. Pure."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sheetsync.core.layout import TabLayout, cell_at
from sheetsync.core.model import (
    Problem,
)
from sheetsync.core.parse import (
    ParseError,
    a1,
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


@dataclass(frozen=True)
class NumberReading:
    """How a tab's numbers are read and shown: the workbook's locale and its cells' formats."""

    decimal: str | None = None
    """The decimal separator when configured ('.' or ','); None: unambiguous text only."""
    formats: NumberFormats = field(default_factory=dict)
    """(row, col) -> number format code of the tab's numeric cells (blank: General)."""


class RowReader:
    """One data row being validated: typed access to its fields, collecting problems."""

    def __init__(
        self, grid: Grid, layout: TabLayout, row: int, reading: NumberReading | None = None
    ) -> None:
        self.grid, self.layout, self.row = grid, layout, row
        self.reading = reading or NumberReading()
        self.styles: dict[str, NumberStyle] = {}
        """field -> how the person's cell shows its number (for every number read)."""
        self.problems: list[Problem] = []
        line = grid[row - 1] if row <= len(grid) else []
        width = len(line)
        self.values = {
            name: line[col - 1] if col <= width else None for name, col in layout.columns.items()
        }

    def raw(self, name: str) -> CellValue:
        return self.values.get(name)

    def is_empty(self, ignore: Sequence[str] = ()) -> bool:
        """No known field has a value (a person's own columns do not count)."""
        return all(is_blank(v) for k, v in self.values.items() if k not in ignore)

    def ref(self, name: str) -> str:
        return a1(self.row, self.layout.columns.get(name, 1))

    def header(self, name: str) -> str:
        col = self.layout.columns.get(name)
        text = cell_at(self.grid, self.layout.header_row, col) if col else None
        return str(text).strip() if text else name.replace("_", " ").title()

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
        value = self.raw(name)
        try:
            return parser(value)
        except ParseError as exc:
            sep = " " if str(exc).startswith("is ") else ": "
            self.problem(name, f"{self.header(name)}{sep}{exc}", exc.expected, value)
            return default

    def text(self, name: str) -> str | None:
        return text_or_none(self.raw(name))

    def number(self, name: str, *, required: bool = False) -> float | None:
        """The field's number (None when blank and optional), remembering how its cell shows it.

        A problem is recorded (and None returned) when it is not a number.
        """
        value = self.raw(name)
        if is_blank(value) and not required:
            return None
        found = self.number_at(self.layout.columns.get(name, 1), self.header(name), value)
        if found is None:
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
            sep = " " if str(exc).startswith("is ") else ": "
            message = f"{label}{sep}{exc}"
            found = Problem(
                self.layout.tab, a1(self.row, col), value, exc.expected, message, row=self.row
            )
            (self.problems if problems is None else problems).append(found)
            return None
        if isinstance(value, int | float):
            style = style_from_format(
                self.reading.formats.get((self.row, col)),
                decimal_comma=self.reading.decimal == ",",
            )
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
