"""Tab grids -> validated key results and KPIs, plus every problem located to its cell.

A bad row never stops the others: it becomes an `InvalidRow` carrying its problems, and every
other row is still validated. Only a missing tab or required header fails the whole tab.
Pure: takes plain grids, returns dataclasses.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import partial
from typing import TypeVar

from sheetsync.core.checkin import parse_checkin, parse_confidence
from sheetsync.core.model import (
    Direction,
    InvalidRow,
    KeyResult,
    Kpi,
    KrType,
    Period,
    Problem,
    SeriesPoint,
)
from sheetsync.core.override import parse_override
from sheetsync.core.parse import (
    ParseError,
    a1,
    column_letter,
    is_blank,
    normalise_header,
    parse_cadence,
    parse_direction,
    parse_done,
    parse_kpi_direction,
    parse_kr_type,
    parse_period,
    read_number,
    text_or_none,
)
from sheetsync.core.plan import CellValue, Grid, NumberFormats
from sheetsync.core.relative import parse_change
from sheetsync.core.scorecard import (
    MONTH,
    QUARTER,
    WEEK,
    PeriodColumn,
    Scorecard,
    find_scorecard,
    parse_row_kind,
)
from sheetsync.core.units import (
    NumberStyle,
    format_number,
    pick_style,
    style_from_format,
    with_unit,
)

T = TypeVar("T")

OKR_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("ID", "KR ID"),
    "objective": ("Objective",),
    "key_result": ("Key Result", "KR"),
    "owner": ("Owner",),
    "type": ("Type",),
    "start": ("Start", "Baseline", "Base", "From"),
    "target": ("Target", "Goal", "To"),
    "current": ("Current", "Actual", "Value", "Current Actual"),
    "direction": ("Direction",),
    "warning": ("Warning",),
    "weight": ("Weight",),
    "period": ("Period", "Quarter", "Due"),
    "kpi": ("KPI", "Metric"),
    "objective_id": ("Objective ID",),
    "parent": ("Parent", "Parent objective"),
    "objective_weight": ("Objective weight",),
    "status_override": ("Status override",),
    "override_until": ("Override until",),
    "team": ("Team",),
    "objective_owner": ("Objective owner",),
    "confidence": ("Confidence",),
    "updated": ("Updated", "Last check-in"),
    "change": ("Change",),
    "cadence": ("Cadence", "Update cadence"),
}
OKR_REQUIRED = ("objective", "key_result", "target", "current")

KPI_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("KPI", "Name", "Metric", "KPI Name", "Metric / KPI"),
    "owner": ("Owner",),
    "unit": ("Unit",),
    "direction": ("Direction",),
    "target": ("Target", "Goal"),
    "warning": ("Warning",),
    "actual": ("Actual", "Current", "Value", "Current Actual"),
    "kind": ("Kind", "Row"),
    "cadence": ("Cadence", "Update cadence"),
    "updated": ("Updated", "Last check-in"),
}
KPI_REQUIRED = ("name", "target", "actual")
SCORECARD_REQUIRED = ("name",)
"""A scorecard's Actual and Target may come from its period columns and Target rows."""

OUTPUT_COLUMNS = ("Score", "Status", "Note", "Trend")

_NUMBER_FIELDS = ("target", "current", "actual")
"""Required columns that hold numbers: a second header row shows up as text in them."""

EXAMPLE_ROWS_EXPECTED = "your own rows in their place"
"""What the warning about rows still owned on an example domain expects (it marks that warning)."""
EXAMPLE_OWNER = re.compile(r"@(?:[\w-]+\.)*example(?:\.(?:com|net|org))?\s*$", re.IGNORECASE)
"""Owners on the domains reserved for examples (RFC 2606): the template's example rows."""

HEADER_SEARCH_ROWS = 20
"""The header row is looked for in this many rows at the top of a tab (titles sit above it)."""

_HEADER_WORD = re.compile(r"[^\W_]+|#")
_MAX_HEADER_LENGTH = 40
"""Longer text is never taken for a header (keeps the scan for a second table cheap)."""


def header_key(text: object) -> str:
    """How a header is matched: 'Key Results', 'key_result' and 'KEY-RESULT' are one name.

    Case, spaces and punctuation are ignored, plurals become singular and a trailing 'value'
    is dropped, so 'Current Value', 'Current values' and 'Current' all match Current. A '#'
    is kept, so 'KR #' (a number) is not taken for 'KR' (the key result's text).
    """
    if text is None:
        return ""
    words = _HEADER_WORD.findall(str(text).casefold())
    if len(words) > 1 and words[-1] in ("value", "values"):
        words.pop()
    return "".join(_singular(w) for w in words)


def _singular(word: str) -> str:
    if len(word) > 2 and word.endswith("s") and not word.endswith(("ss", "us")):
        return word[:-1]
    return word


OUTPUT_WIDTHS = {"Score": 9.0, "Status": 14.0, "Note": 44.0, "Trend": 16.0}
"""Width in characters of an output column sheetsync adds (a date or a note fits)."""

IF_TAKEN = "{name} (sheetsync)"
"""The header of sheetsync's column when the person already has a column of that name."""


@dataclass(frozen=True)
class OwnColumns:
    """What sheetsync knows of its own output columns on a tab before reading it.

    sheetsync never takes over a column it did not make: a person's own Status, Note or
    Score column is theirs, and sheetsync adds its own beside the table under a name that
    does not clash (`if_taken`).
    """

    marked: Mapping[str, int] = field(default_factory=dict)
    """output -> column carrying sheetsync's marker, wherever a person moved it."""
    adopt_by_name: bool = False
    """The workbook was synced by a version that did not mark its columns: the columns
    headed Score/Status/Note/Trend are sheetsync's, recognised once and then marked."""
    if_taken: str = IF_TAKEN


OBJECTIVE_FIELDS = ("objective_id", "parent", "objective_weight")
"""Columns that describe the objective, not the key result: any of its rows may hold them, and
a row holding only these and the objective is a grouping row (see `core/alignment.py`)."""


@dataclass
class TabLayout:
    """Where things are on one input tab: the header row and the column of each field."""

    tab: str
    header_row: int
    columns: dict[str, int]
    """field -> 1-based column."""
    outputs: dict[str, int]
    """Each output column (Score, Status, Note, Trend) -> 1-based column (existing, or new)."""
    new_outputs: list[str] = field(default_factory=list)
    """Output headers that are not on the tab yet and must be written."""
    headers: dict[str, str] = field(default_factory=dict)
    """field -> the header text as the person wrote it."""
    labels: dict[str, str] = field(default_factory=dict)
    """field -> how messages name the field ('Key Result')."""
    warnings: list[Problem] = field(default_factory=list)
    """Things worth knowing that do not stop the read (a second column matching one field)."""
    other_columns: dict[int, str] = field(default_factory=dict)
    """1-based column -> header text of the person's own columns, which sheetsync leaves alone."""
    output_headers: dict[str, str] = field(default_factory=dict)
    """output -> the header of its column (the name chosen for a new one)."""
    unmarked: list[str] = field(default_factory=list)
    """Outputs whose column does not carry sheetsync's marker yet: new, or adopted by name."""
    style_from: int | None = None
    """The person's last header cell's column: new output headers copy its look."""

    def column_map(self) -> dict[str, tuple[str, str]]:
        """Field label -> (column letter, header text), in column order."""
        return {
            self.labels.get(name, name): (column_letter(col), self.headers.get(name, ""))
            for name, col in sorted(self.columns.items(), key=lambda item: item[1])
        }

    def describe(self) -> str:
        """One line for `validate`: which row holds the headers and which column is which field."""
        columns = ", ".join(
            f"{label} = {letter} '{text}'" for label, (letter, text) in self.column_map().items()
        )
        outputs = ", ".join(
            f"{out} to {column_letter(col)}{self._output_note(out)}"
            for out, col in self.outputs.items()
        )
        above = " (the rows above are not read)" if self.header_row > 1 else ""
        others = ", ".join(
            f"{column_letter(col)} '{text}'" for col, text in self.other_columns.items()
        )
        return (
            f"{self.tab}: headers in row {self.header_row}{above}; {columns}; "
            + (f"left alone: {others}; " if others else "")
            + f"sheetsync writes {outputs}"
        )

    def _output_note(self, out: str) -> str:
        header = self.output_headers.get(out, out)
        if out in self.new_outputs:
            return f" (new column '{header}')" if header != out else " (new)"
        if out in self.unmarked:
            return " (made by an earlier sheetsync, now marked as its own)"
        return f" ('{header}')" if header != out else ""

    def to_json(self) -> dict[str, object]:
        return {
            "tab": self.tab,
            "header_row": self.header_row,
            "columns": {
                label: {"column": letter, "header": text}
                for label, (letter, text) in self.column_map().items()
            },
            "outputs": {
                out: {
                    "column": column_letter(col),
                    "header": self.output_headers.get(out, out),
                    "new": out in self.new_outputs,
                }
                for out, col in self.outputs.items()
            },
        }


@dataclass(frozen=True)
class ObjectiveCell:
    """A filled objective-level cell (Objective ID, Parent, Objective weight) and its objective."""

    objective: str
    field: str
    row: int
    cell: str
    value: CellValue


@dataclass
class OkrTab:
    layout: TabLayout
    key_results: list[KeyResult]
    invalid: list[InvalidRow]
    objective_rows: list[int]
    """Rows that only name an objective (a grouping row): no outputs are written there."""
    objective_names: list[str] = field(default_factory=list)
    """Every objective the tab names, first-seen order (grouping rows included)."""
    objective_cells: list[ObjectiveCell] = field(default_factory=list)


@dataclass
class KpiTab:
    layout: TabLayout
    kpis: list[Kpi]
    invalid: list[InvalidRow]
    scorecard: Scorecard = field(default_factory=Scorecard)
    target_rows: list[int] = field(default_factory=list)
    """Valid Target rows of a scorecard: inputs, so no outputs are written there."""
    problems: list[Problem] = field(default_factory=list)
    """Problems with the period headers (an ambiguous date), not with one KPI; what is only
    worth knowing (a quarter among months) is in `layout.warnings`."""


class LayoutProblem(Exception):
    """The tab cannot be read at all (no header, missing required column)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.describe())


def _used_width(row: list[CellValue]) -> int:
    return next((i for i in range(len(row), 0, -1) if not is_blank(row[i - 1])), 0)


def _cell(grid: Grid, row: int, col: int) -> CellValue:
    if row > len(grid):
        return None
    line = grid[row - 1]
    return line[col - 1] if col <= len(line) else None


def _header_names(
    fields: Mapping[str, Sequence[str]], overrides: Mapping[str, Sequence[str] | str] | None
) -> dict[str, str]:
    """header_key -> field, the config's extra names first."""
    names: dict[str, str] = {}
    for name, aliases in fields.items():
        extra = (overrides or {}).get(name, ())
        extra = [extra] if isinstance(extra, str) else list(extra)
        for alias in (*extra, *aliases, name):
            names.setdefault(header_key(alias), name)
    return names


def _field_named(value: CellValue, names: Mapping[str, str]) -> str | None:
    """The field a cell's text names as a header, if it does."""
    if isinstance(value, str) and len(value) <= _MAX_HEADER_LENGTH:
        return names.get(header_key(value))
    return None


def _fields_in(
    row: Sequence[CellValue], names: Mapping[str, str], skip: Collection[int] = ()
) -> dict[str, list[int]]:
    """field -> every 1-based column of `row` whose text names it (columns in `skip` aside)."""
    found: dict[str, list[int]] = {}
    for col, text in enumerate(row, start=1):
        if col in skip:
            continue
        name = _field_named(text, names)
        if name:
            found.setdefault(name, []).append(col)
    return found


def _missing_header(
    tab: str,
    grid: Grid,
    fields: Mapping[str, Sequence[str]],
    required: Sequence[str],
    candidates: list[tuple[int, dict[str, list[int]]]],
) -> LayoutProblem:
    """No row in the top of the tab has every required header: name the closest row."""
    names = ", ".join(f"'{fields[name][0]}'" for name in required)
    if not any(found for _, found in candidates):
        searched = min(len(grid), HEADER_SEARCH_ROWS)
        return LayoutProblem(
            Problem(
                tab,
                None,
                None,
                f"a header row with {names}",
                f"no header row in the first {searched} rows of tab '{tab}'",
            )
        )
    row, found = max(
        candidates,
        key=lambda c: (sum(name in c[1] for name in required), len(c[1]), -c[0]),
    )
    missing = next(name for name in required if name not in found)
    last = max(_used_width(grid[row - 1]), 1)
    accepted = ", ".join(repr(a) for a in fields[missing])
    return LayoutProblem(
        Problem(
            tab,
            f"{a1(row, 1)}:{a1(row, last)}",
            None,
            f"a header named {accepted}",
            f"required column '{fields[missing][0]}' is missing from the header row (row {row})",
            row=row,
        )
    )


def _second_table_beside(
    tab: str, header_row: int, found: dict[str, list[int]], required: Sequence[str]
) -> LayoutProblem | None:
    """Every required header twice on the header row: two tables side by side."""
    if not all(len(found[name]) > 1 for name in required):
        return None
    first = min(found[name][0] for name in required)
    second = min(found[name][1] for name in required)
    return LayoutProblem(
        Problem(
            tab,
            f"{a1(header_row, first)}:{a1(header_row, second)}",
            None,
            "one table per tab",
            f"tab '{tab}' holds two tables side by side (their headers start at "
            f"{a1(header_row, first)} and {a1(header_row, second)}); sheetsync reads one table "
            f"per tab: move the second table to a tab of its own",
            row=header_row,
        )
    )


def _second_table_below(
    tab: str,
    grid: Grid,
    header_row: int,
    columns: Mapping[str, int],
    names: Mapping[str, str],
    required: Sequence[str],
) -> LayoutProblem | None:
    """A row further down that repeats the required headers: a second table stacked below.

    Only rows whose number columns (Target, Current/Actual) hold a header-like name are looked
    at closely, so a long tab of numbers costs a type check per row and column.
    """
    watched = [columns[name] - 1 for name in required if name in _NUMBER_FIELDS]
    for row in range(header_row + 1, len(grid) + 1):
        line = grid[row - 1]
        width = len(line)
        hit = any(index < width and _field_named(line[index], names) for index in watched)
        if hit and all(name in _fields_in(line, names) for name in required):
            return LayoutProblem(
                Problem(
                    tab,
                    f"A{row}",
                    None,
                    "one table per tab",
                    f"tab '{tab}' holds two tables, one below the other (headers in rows "
                    f"{header_row} and {row}); sheetsync reads one table per tab: move the "
                    f"second table to a tab of its own",
                    row=row,
                )
            )
    return None


def find_layout(
    grid: Grid,
    tab: str,
    fields: Mapping[str, Sequence[str]],
    required: Sequence[str],
    overrides: Mapping[str, Sequence[str] | str] | None = None,
    own: OwnColumns | None = None,
) -> TabLayout:
    """Locate the header row and each known column by name, and sheetsync's output columns.

    The header row is the first row among the top `HEADER_SEARCH_ROWS` that names every
    required field, so a title or notes above the table are fine. A second table on the same
    tab (beside or below) is refused rather than read as rows of the first. Output columns
    are the ones `own` says sheetsync marked; the others are added after the last used
    column (see `OwnColumns`).
    """
    own = own or OwnColumns()
    marked = {out: col for out, col in own.marked.items() if out in OUTPUT_COLUMNS}
    skip = set(marked.values())
    if not any(not is_blank(v) for row in grid for v in row):
        raise LayoutProblem(
            Problem(tab, None, None, "a header row", f"tab '{tab}' is empty: no header row")
        )
    names = _header_names(fields, overrides)
    candidates: list[tuple[int, dict[str, list[int]]]] = []
    header_row = 0
    found: dict[str, list[int]] = {}
    for row in range(1, min(len(grid), HEADER_SEARCH_ROWS) + 1):
        found = _fields_in(grid[row - 1], names, skip)
        if all(name in found for name in required):
            header_row = row
            break
        candidates.append((row, found))
    if not header_row:
        raise _missing_header(tab, grid, fields, required, candidates)
    beside = _second_table_beside(tab, header_row, found, required)
    if beside:
        raise beside
    headers_line = grid[header_row - 1]
    columns = {name: cols[0] for name, cols in found.items()}
    below = _second_table_below(tab, grid, header_row, columns, names, required)
    if below:
        raise below
    labels = {name: fields[name][0] for name in fields}
    warnings = [
        Problem(
            tab,
            a1(header_row, col),
            None,
            f"one column per field ({labels[name]} is read from column {column_letter(cols[0])})",
            f"column {column_letter(col)} '{str(headers_line[col - 1]).strip()}' also looks "
            f"like {labels[name]} and is not read",
            row=header_row,
            is_error=False,
        )
        for name, cols in found.items()
        for col in cols[1:]
    ]
    outputs, output_headers, new_outputs = _output_columns(
        grid, header_row, set(columns.values()), marked, own
    )
    headers = {name: str(headers_line[col - 1]).strip() for name, col in columns.items()}
    taken = {*columns.values(), *outputs.values()}
    others = {
        col: str(text).strip()
        for col, text in enumerate(headers_line, start=1)
        if not is_blank(text) and col not in taken
    }
    return TabLayout(
        tab,
        header_row,
        columns,
        outputs,
        new_outputs,
        headers,
        labels,
        warnings,
        others,
        output_headers,
        [out for out in OUTPUT_COLUMNS if out not in marked],
        max(
            (
                col
                for col, text in enumerate(headers_line, start=1)
                if not is_blank(text) and col not in outputs.values()
            ),
            default=None,
        ),
    )


def _output_columns(
    grid: Grid, header_row: int, fields: set[int], marked: Mapping[str, int], own: OwnColumns
) -> tuple[dict[str, int], dict[str, str], list[str]]:
    """Each output's column and header, and the outputs that need a new column.

    A marked column is sheetsync's wherever it is. An unmarked column headed like an output is
    the person's (unless `own.adopt_by_name`), so sheetsync adds its own after the last column
    anyone uses, renamed with `own.if_taken` when the person's has the same name.
    """
    line = grid[header_row - 1]
    outputs = dict(marked)
    if own.adopt_by_name and not marked:
        by_name = {
            normalise_header(text): col
            for col, text in reversed(list(enumerate(line, start=1)))
            if not is_blank(text) and col not in fields
        }
        for out in OUTPUT_COLUMNS:
            col = by_name.get(normalise_header(out))
            if col is not None and col not in outputs.values():
                outputs[out] = col
    taken = {
        header_key(text)
        for col, text in enumerate(line, start=1)
        if not is_blank(text) and col not in outputs.values()
    }
    headers = {out: _text(_cell(grid, header_row, col)) or out for out, col in outputs.items()}
    new_outputs = [out for out in OUTPUT_COLUMNS if out not in outputs]
    # After the last column anyone uses, header or not: a person's unlabelled data is theirs.
    last = max(_used_width(row) for row in grid[header_row - 1 :])
    for out in new_outputs:
        last += 1
        outputs[out] = last
        name = out if header_key(out) not in taken else own.if_taken.format(name=out)
        number = 2
        while header_key(name) in taken:
            name, number = f"{own.if_taken.format(name=out)} {number}", number + 1
        taken.add(header_key(name))
        headers[out] = name
    return {out: outputs[out] for out in OUTPUT_COLUMNS}, headers, new_outputs


def _text(value: CellValue) -> str:
    return "" if is_blank(value) else str(value).strip()


@dataclass(frozen=True)
class NumberReading:
    """How a tab's numbers are read and shown: the workbook's locale and its cells' formats."""

    decimal: str | None = None
    """The decimal separator when configured ('.' or ','); None: unambiguous text only."""
    formats: NumberFormats = field(default_factory=dict)
    """(row, col) -> number format code of the tab's numeric cells (blank: General)."""


class _Row:
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
        text = _cell(self.grid, self.layout.header_row, col) if col else None
        return str(text).strip() if text else name.replace("_", " ").title()

    def problem(self, name: str, message: str, expected: str, value: object = None) -> None:
        self.problems.append(
            Problem(self.layout.tab, self.ref(name), value, expected, message, row=self.row)
        )

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


def _owners_by_row(
    valid: Sequence[KeyResult | Kpi], invalid: Sequence[InvalidRow]
) -> dict[int, str | None]:
    owners = {item.row: item.owner for item in valid} | {bad.row: bad.owner for bad in invalid}
    return dict(sorted(owners.items()))


def _examples_left(layout: TabLayout, owners: Mapping[int, str | None]) -> None:
    """Warn while rows owned on an example domain (the template's examples) are still there."""
    rows = [row for row, owner in owners.items() if owner and EXAMPLE_OWNER.search(owner)]
    if not rows or "owner" not in layout.columns:
        return
    col = layout.columns["owner"]
    where = a1(rows[0], col) + (f":{a1(rows[-1], col)}" if len(rows) > 1 else "")
    layout.warnings.append(
        Problem(
            layout.tab,
            where,
            None,
            EXAMPLE_ROWS_EXPECTED,
            f"{len(rows)} row{'s are' if len(rows) > 1 else ' is'} still the template's "
            "examples (owners @example.com, a domain reserved for examples: their alerts are "
            "sent or written to the outbox like any other, and reach no one)",
            row=rows[0],
            is_error=False,
        )
    )


def read_kpis(
    grid: Grid,
    tab: str,
    *,
    warning_margin: float = 0.10,
    overrides: Mapping[str, Sequence[str] | str] | None = None,
    reading: NumberReading | None = None,
    as_of: date | None = None,
    default_year: int | None = None,
    own: OwnColumns | None = None,
) -> KpiTab:
    """Validate the KPIs tab. Raises LayoutProblem if the tab has no usable header.

    `reading` says how the workbook writes numbers (locale, cell formats). With `as_of`,
    period columns make the tab a scorecard (see `sheetsync.core.scorecard`): a KPI's Actual
    is its latest filled period on or before `as_of` unless its Actual cell is filled, and a
    `Kind` = Target row under it gives a target per period. Year-less period headers default
    to `default_year` (the configured period's year).
    """
    layout, card = _kpi_layout(grid, tab, overrides, as_of, default_year, own)
    kpis: list[Kpi] = []
    invalid: list[InvalidRow] = []
    seen: dict[str, str] = {}
    rows: list[tuple[_Row, bool, str | None]] = []
    """Each non-empty row, whether it is a Target row, and the KPI it belongs to."""
    targets: dict[str, list[_Row]] = {}
    last_name: str | None = None
    period_cols = [c.col for c in card.columns]
    for row in range(layout.header_row + 1, len(grid) + 1):
        r = _Row(grid, layout, row, reading)
        if r.is_empty() and all(is_blank(_cell(grid, row, c)) for c in period_cols):
            continue
        is_target = r.parsed("kind", parse_row_kind, False)
        name = r.text("name")
        if is_target:
            name = name or last_name
            if name is not None:
                targets.setdefault(name.casefold(), []).append(r)
        elif name is not None:
            last_name = name
        rows.append((r, is_target, name))

    actual_names = {name.casefold() for _, is_target, name in rows if name and not is_target}
    target_rows: list[int] = []
    for r, is_target, name in rows:
        if not is_target:
            continue
        if name is None or name.casefold() not in actual_names:
            r.problem(
                "kind",
                f"a Target row for {f'KPI {name!r}' if name else 'no KPI'} but no row with its "
                "values",
                "the KPI's own row (Kind blank or Actual) on this tab, with the same name",
                r.raw("kind"),
            )
        elif targets[name.casefold()][0] is not r:
            continue  # a second Target row: reported on the KPI's row, which becomes Invalid
        if r.problems:
            invalid.append(InvalidRow(tab, r.row, tuple(r.problems), key=name, owner=None))
        else:
            target_rows.append(r.row)

    for r, is_target, name in rows:
        if is_target:
            continue
        row = r.row
        if name is None:
            r.problem("name", "the KPI has no name", "a name for the KPI")
        elif name.casefold() in seen:
            r.problem(
                "name",
                f"duplicate KPI name (also at {seen[name.casefold()]})",
                "each KPI name once",
                name,
            )
        else:
            seen[name.casefold()] = r.ref("name")
        higher = r.parsed("direction", parse_kpi_direction, True)
        cadence_days = r.parsed("cadence", parse_cadence, None)
        checked_in = None
        if not is_blank(r.raw("updated")):
            checked_in = r.parsed("updated", parse_checkin, None)
        target = r.number("target", required=not card)
        warning = r.number("warning")
        actual = r.number("actual")
        actual_style = r.styles.get("actual")
        target_style = r.styles.get("target")
        judged: PeriodColumn | None = None
        from_period = False
        series: tuple[SeriesPoint, ...] = ()
        if card and as_of is not None:
            ramp = targets.get(name.casefold(), []) if name else []
            for extra in ramp[1:]:
                r.problems.append(
                    Problem(
                        tab,
                        extra.ref("kind"),
                        extra.raw("kind"),
                        "one Target row per KPI",
                        f"a second Target row for KPI '{name}' (the first is row {ramp[0].row})",
                        row=row,
                    )
                )
            values = _period_values(r, card, r.problems)
            no_ramp: list[tuple[float, NumberStyle] | None] = [None] * len(values)
            ramp_values = _period_values(ramp[0], card, r.problems) if ramp else no_ramp
            series = tuple(
                SeriesPoint(
                    c.label,
                    c.period,
                    v[0] if v else None,
                    t[0] if t else target,
                )
                for c, v, t in zip(card.columns, values, ramp_values, strict=True)
            )
            filled = [i for i, p in enumerate(series) if p.value is not None]
            filled = [i for i in filled if series[i].period.start <= as_of]
            if actual is None and filled:
                actual = series[filled[-1]].value
                judged = card.columns[filled[-1]]
                from_period = True
                actual_style = (values[filled[-1]] or (0.0, None))[1]
            else:
                judged = card.current(as_of)
            if judged is not None:
                index = card.columns.index(judged)
                target = series[index].target
                if ramp_values[index]:
                    target_style = (ramp_values[index] or (0.0, None))[1]
            if target is None and actual is not None and not r.problems:
                where = f" for {judged.label}" if judged else ""
                r.problem(
                    "target" if "target" in layout.columns else "name",
                    f"no target{where}: the Target row's cell and the Target column are blank",
                    f"a target{where} in a Target row under the KPI, or in a Target column",
                )
        if target is not None and warning is not None:
            wrong_side = warning > target if higher else warning < target
            if wrong_side:
                side = "at or below" if higher else "at or above"
                r.problem(
                    "warning",
                    f"Warning {r.shown('warning', warning)} is on the wrong side of Target "
                    f"{r.shown('target', target)} for a "
                    f"{'higher' if higher else 'lower'}-is-better KPI",
                    f"a number {side} the target",
                    r.found("warning"),
                )
        if r.problems:
            invalid.append(InvalidRow(tab, row, tuple(r.problems), key=name, owner=r.text("owner")))
            continue
        assert name is not None
        if warning is None and target is not None:
            margin = abs(target) * warning_margin
            warning = target - margin if higher else target + margin
        kpis.append(
            Kpi(
                row=row,
                name=name,
                higher_is_better=higher,
                owner=r.text("owner"),
                unit=r.text("unit"),
                target=target,
                warning=warning,
                actual=actual,
                style=with_unit(
                    pick_style(actual_style, target_style, r.styles.get("warning")),
                    r.text("unit"),
                ),
                target_style=with_unit(target_style, r.text("unit")) if target_style else None,
                warning_style=(
                    with_unit(r.styles["warning"], r.text("unit"))
                    if "warning" in r.styles
                    else None
                ),
                period=judged.label if judged is not None and from_period else None,
                series=series,
                cadence_days=cadence_days
                or (_PERIOD_DAYS.get(judged.kind) if judged and from_period else None),
                checked_in=checked_in,
            )
        )
    invalid.sort(key=lambda bad: bad.row)
    layout.warnings += [p for p in card.problems if not p.is_error]
    errors = [p for p in card.problems if p.is_error]
    owners = _owners_by_row(kpis, invalid) | {r.row: r.text("owner") for r, t, _ in rows if t}
    _examples_left(layout, dict(sorted(owners.items())))
    return KpiTab(layout, kpis, invalid, card, target_rows, errors)


_PERIOD_DAYS = {WEEK: 7, MONTH: 31, QUARTER: 92}
"""A scorecard's period columns set how often a KPI's value is due, when its value comes from
them (not from an Actual column; dated columns set none)."""


def _kpi_layout(
    grid: Grid,
    tab: str,
    overrides: Mapping[str, Sequence[str] | str] | None,
    as_of: date | None,
    default_year: int | None,
    own: OwnColumns | None = None,
) -> tuple[TabLayout, Scorecard]:
    """The KPIs tab's columns; a scorecard needs no Actual or Target column."""
    missing: LayoutProblem | None = None
    try:
        layout = find_layout(grid, tab, KPI_FIELDS, KPI_REQUIRED, overrides, own)
    except LayoutProblem as exc:
        missing = exc
        layout = find_layout(grid, tab, KPI_FIELDS, SCORECARD_REQUIRED, overrides, own)
    card = Scorecard()
    if as_of is not None:
        taken = [*layout.columns.values(), *layout.outputs.values()]
        year = default_year or as_of.year
        card = find_scorecard(grid, tab, layout.header_row, taken, default_year=year, as_of=as_of)
    if missing is not None and not card:
        raise missing
    return layout, card


def _period_values(
    r: _Row, card: Scorecard, problems: list[Problem]
) -> list[tuple[float, NumberStyle] | None]:
    """A row's number (and how its cell shows it) in each period column; blank is None, and a
    cell that is not a number is a problem in `problems`."""
    values: list[tuple[float, NumberStyle] | None] = []
    for column in card.columns:
        value = _cell(r.grid, r.row, column.col)
        blank = is_blank(value)
        values.append(None if blank else r.number_at(column.col, column.label, value, problems))
    return values


def read_okrs(
    grid: Grid,
    tab: str,
    *,
    default_period: Period,
    kpi_names: Mapping[str, str] | None = None,
    invalid_kpis: Mapping[str, str] | None = None,
    overrides: Mapping[str, Sequence[str] | str] | None = None,
    reading: NumberReading | None = None,
    own: OwnColumns | None = None,
) -> OkrTab:
    """Validate the OKRs tab: one key result per row, objectives carried down over blanks.

    `kpi_names` maps a casefolded KPI name to its real name (for the KPI link column);
    `invalid_kpis` maps casefolded names of KPIs that exist but failed validation to their cell.
    """
    layout = find_layout(grid, tab, OKR_FIELDS, OKR_REQUIRED, overrides, own)
    kpi_names = kpi_names or {}
    invalid_kpis = invalid_kpis or {}
    key_results: list[KeyResult] = []
    invalid: list[InvalidRow] = []
    objective_rows: list[int] = []
    objective_cells: list[ObjectiveCell] = []
    objective_names: list[str] = []
    seen_ids: dict[str, str] = {}
    objective: str | None = None
    for row in range(layout.header_row + 1, len(grid) + 1):
        r = _Row(grid, layout, row, reading)
        if r.is_empty():
            continue
        named = r.text("objective")
        if named:
            objective = named
        if objective is not None:
            objective_names.append(objective)
            objective_cells += [
                ObjectiveCell(objective, name, row, r.ref(name), r.raw(name))
                for name in OBJECTIVE_FIELDS
                if not is_blank(r.raw(name))
            ]
        if r.is_empty(ignore=("objective", *OBJECTIVE_FIELDS)):
            objective_rows.append(row)
            continue
        text = r.text("key_result")
        if text is None:
            r.problem("key_result", "the key result has no text", "the key result's text")
        if objective is None:
            r.problem(
                "objective",
                "no objective: this cell is blank and no row above names one",
                "the objective's text here or on a row above",
            )
        kr_id = r.text("id")
        if kr_id is not None:
            if kr_id.casefold() in seen_ids:
                r.problem(
                    "id",
                    f"duplicate ID (also at {seen_ids[kr_id.casefold()]})",
                    "a unique ID per key result",
                    kr_id,
                )
            else:
                seen_ids[kr_id.casefold()] = r.ref("id")
        kr_type = r.parsed("type", parse_kr_type, KrType.METRIC)
        start = r.number("start")
        start_given = start is not None
        start = 0.0 if start is None else start
        weight = r.number("weight")
        if weight is not None and weight < 0:
            r.problem("weight", "Weight is negative", "a weight of 0 or more", r.found("weight"))
        period = default_period
        if not is_blank(r.raw("period")):
            period = r.parsed("period", parse_period, default_period)
        override = r.parsed("status_override", parse_override, None)
        cadence_days = r.parsed("cadence", parse_cadence, None)
        override_until = None
        if not is_blank(r.raw("override_until")):
            override_until = r.parsed("override_until", parse_period, None)
        change = None
        if not is_blank(r.raw("change")):
            change = r.parsed("change", partial(parse_change, decimal=r.reading.decimal), None)
        confidence = r.parsed("confidence", parse_confidence, None)
        checked_in = None
        if not is_blank(r.raw("updated")):
            checked_in = r.parsed("updated", parse_checkin, None)
        kpi = None
        link = r.text("kpi")
        if link is not None:
            if link.casefold() in kpi_names:
                kpi = kpi_names[link.casefold()]
            elif link.casefold() in invalid_kpis:
                r.problem(
                    "kpi",
                    f"the linked KPI '{link}' is itself invalid "
                    f"(see {invalid_kpis[link.casefold()]})",
                    "a valid KPI",
                    link,
                )
            else:
                r.problem("kpi", f"no KPI named '{link}' on the KPIs tab", "a KPI name", link)

        target = current = warning = None
        done: bool | None = None
        direction: Direction | None = None
        if kr_type is KrType.MILESTONE:
            done = r.parsed("current", parse_done, False)
        else:
            relative = kr_type is KrType.METRIC and not is_blank(r.raw("change"))
            target = r.number("target", required=not relative)
            current = r.number("current")
            direction = r.parsed("direction", parse_direction, None)
            warning = r.number("warning")
            if relative and target is not None:
                r.problem(
                    "change",
                    "both a Target and a Change: the Change sets the target",
                    "a Target or a Change, not both",
                    r.found("change"),
                )
            elif target is not None and kr_type is KrType.METRIC:
                direction = _check_direction(r, start, target, direction)
            if target is not None and warning is not None and kr_type is not KrType.METRIC:
                above = kr_type is KrType.STAY_ABOVE
                if (warning > target) if above else (warning < target):
                    r.problem(
                        "warning",
                        f"Warning {r.shown('warning', warning)} is on the wrong side of "
                        f"Target {r.shown('target', target)} for '{kr_type.value}'",
                        f"a number {'at or below' if above else 'at or above'} the target",
                        r.found("warning"),
                    )
        if r.problems:
            invalid.append(
                InvalidRow(
                    tab,
                    row,
                    tuple(r.problems),
                    objective=objective,
                    key=kr_id or (f"{objective} / {text}" if objective and text else None),
                    owner=r.text("owner"),
                    team=r.text("team"),
                )
            )
            continue
        assert objective is not None and text is not None
        key_results.append(
            KeyResult(
                row=row,
                objective=objective,
                text=text,
                type=kr_type,
                id=kr_id,
                owner=r.text("owner"),
                start=start,
                target=target,
                current=current,
                done=done,
                direction=direction,
                warning=warning,
                weight=1.0 if weight is None else weight,
                period=period,
                kpi=kpi,
                style=pick_style(*(r.styles.get(f) for f in ("current", "target", "start"))),
                start_style=r.styles.get("start"),
                target_style=r.styles.get("target"),
                override=override,
                override_until=override_until.end if override_until else None,
                team=r.text("team"),
                objective_owner=r.text("objective_owner"),
                confidence=confidence,
                checked_in=checked_in,
                change=change,
                start_given=start_given,
                cadence_days=cadence_days,
            )
        )
    key_results, invalid = _flag_same_identity(grid, layout, key_results, invalid)
    _examples_left(layout, _owners_by_row(key_results, invalid))
    return OkrTab(
        layout,
        key_results,
        invalid,
        objective_rows,
        list(dict.fromkeys(objective_names)),
        objective_cells,
    )


def _flag_same_identity(
    grid: Grid, layout: TabLayout, key_results: list[KeyResult], invalid: list[InvalidRow]
) -> tuple[list[KeyResult], list[InvalidRow]]:
    """Rows without an ID that share their Objective and Key Result text are one identity to
    History and alerts (and a sort can swap them unnoticed): each becomes invalid, naming the
    others, instead of sheetsync guessing which is which."""
    rows: dict[str, list[int]] = {}
    for kr in key_results:
        if kr.id is None:
            rows.setdefault(kr.key, []).append(kr.row)
    id_col = layout.columns.get("id")
    for bad in invalid:
        if bad.key and (id_col is None or is_blank(_cell(grid, bad.row, id_col))):
            rows.setdefault(bad.key, []).append(bad.row)
    shared = {row: others for others in rows.values() if len(others) > 1 for row in others}
    if not shared:
        return key_results, invalid
    col = layout.columns["key_result"]

    def problem(row: int) -> Problem:
        others = ", ".join(a1(r, col) for r in sorted(shared[row]) if r != row)
        return Problem(
            layout.tab,
            a1(row, col),
            None,
            "an ID on each of them (such as O1.KR2), or different text",
            f"same Objective and Key Result as {others} and no ID: sheetsync cannot tell them "
            "apart (History and alerts would mix them up)",
            row=row,
        )

    flagged = [
        InvalidRow(
            layout.tab,
            kr.row,
            (problem(kr.row),),
            objective=kr.objective,
            key=kr.key,
            owner=kr.owner,
        )
        for kr in key_results
        if kr.row in shared
    ]
    updated = [
        replace(bad, problems=(*bad.problems, problem(bad.row))) if bad.row in shared else bad
        for bad in invalid
    ]
    kept = [kr for kr in key_results if kr.row not in shared]
    return kept, sorted([*updated, *flagged], key=lambda bad: bad.row)


def _check_direction(
    r: _Row, start: float, target: float, direction: Direction | None
) -> Direction | None:
    if target == start:
        r.problem(
            "target",
            f"Target equals Start ({r.shown('target', target)}): there is no distance to make "
            "progress over",
            "a target different from the start",
            r.found("target"),
        )
        return direction
    inferred = Direction.INCREASE if target > start else Direction.DECREASE
    if direction is not None and direction is not inferred:
        r.problem(
            "direction",
            f"Direction says '{direction.value}' but Target {r.shown('target', target)} is "
            f"{'above' if target > start else 'below'} Start {r.shown('start', start)}",
            f"'{inferred.value}' or blank",
            r.raw("direction"),
        )
    return inferred
