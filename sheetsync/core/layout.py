"""Which columns of a tab hold which field: header names as real templates spell them, the
header row found by its contents, and sheetsync's own output columns. Pure."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field

from sheetsync.core.model import (
    Problem,
)
from sheetsync.core.parse import (
    a1,
    column_letter,
    is_blank,
    normalise_header,
)
from sheetsync.core.plan import CellValue, Grid

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


class LayoutProblem(Exception):
    """The tab cannot be read at all (no header, missing required column)."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(problem.describe())


def cell_text(value: CellValue) -> str:
    """A cell as trimmed text; blank cells (None, "", whitespace) are ""."""
    return "" if is_blank(value) else str(value).strip()


def _used_width(row: list[CellValue]) -> int:
    return next((i for i in range(len(row), 0, -1) if not is_blank(row[i - 1])), 0)


def cell_at(grid: Grid, row: int, col: int) -> CellValue:
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

    Only rows whose number columns (Target, Current/Actual) hold text are looked at closely,
    so a long tab of numbers costs a type check per row and column.
    """
    watched = [columns[name] - 1 for name in required if name in _NUMBER_FIELDS]
    below = grid[header_row:]
    with_text = {  # the rows with text in a number column: the only ones worth a closer look
        i
        for index in watched
        for i, line in enumerate(below)
        if index < len(line) and isinstance(line[index], str)
    }
    for i in sorted(with_text):
        row, line = header_row + 1 + i, below[i]
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
    headers = {
        out: cell_text(cell_at(grid, header_row, col)) or out for out, col in outputs.items()
    }
    new_outputs = [out for out in OUTPUT_COLUMNS if out not in outputs]
    # After the last column anyone uses, header or not: a person's unlabelled data is theirs.
    last = 0
    for row in grid[header_row - 1 :]:
        if len(row) > last:  # a row no longer than the widest so far cannot be wider
            last = max(last, _used_width(row))
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
