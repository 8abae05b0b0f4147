"""Tab grids -> validated key results and KPIs, plus every problem located to its cell.

A bad row never stops the others: it becomes an `InvalidRow` carrying its problems, and every
other row is still validated. Only a missing tab or required header fails the whole tab.
Pure: takes plain grids, returns dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TypeVar

from sheetsync.core.model import Direction, InvalidRow, KeyResult, Kpi, KrType, Period, Problem
from sheetsync.core.parse import (
    ParseError,
    a1,
    is_blank,
    normalise_header,
    parse_direction,
    parse_done,
    parse_kpi_direction,
    parse_kr_type,
    parse_number,
    parse_optional_number,
    parse_period,
    text_or_none,
)
from sheetsync.core.plan import CellValue, Grid

T = TypeVar("T")

OKR_FIELDS: dict[str, tuple[str, ...]] = {
    "id": ("ID", "KR ID"),
    "objective": ("Objective",),
    "key_result": ("Key Result", "KR"),
    "owner": ("Owner",),
    "type": ("Type",),
    "start": ("Start", "Baseline", "From"),
    "target": ("Target", "Goal", "To"),
    "current": ("Current", "Actual", "Value"),
    "direction": ("Direction",),
    "warning": ("Warning",),
    "weight": ("Weight",),
    "period": ("Period", "Quarter", "Due"),
    "kpi": ("KPI", "Metric"),
}
OKR_REQUIRED = ("objective", "key_result", "target", "current")

KPI_FIELDS: dict[str, tuple[str, ...]] = {
    "name": ("KPI", "Name", "Metric"),
    "owner": ("Owner",),
    "unit": ("Unit",),
    "direction": ("Direction",),
    "target": ("Target", "Goal"),
    "warning": ("Warning",),
    "actual": ("Actual", "Current", "Value"),
}
KPI_REQUIRED = ("name", "target", "actual")

OUTPUT_COLUMNS = ("Score", "Status", "Note")


@dataclass
class TabLayout:
    """Where things are on one input tab: the header row and the column of each field."""

    tab: str
    header_row: int
    columns: dict[str, int]
    """field -> 1-based column."""
    outputs: dict[str, int]
    """'Score'/'Status'/'Note' -> 1-based column (existing, or new after the last header)."""
    new_outputs: list[str] = field(default_factory=list)
    """Output headers that are not on the tab yet and must be written."""


@dataclass
class OkrTab:
    layout: TabLayout
    key_results: list[KeyResult]
    invalid: list[InvalidRow]
    objective_rows: list[int]
    """Rows that only name an objective (a grouping row): no outputs are written there."""


@dataclass
class KpiTab:
    layout: TabLayout
    kpis: list[Kpi]
    invalid: list[InvalidRow]


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


def find_layout(
    grid: Grid,
    tab: str,
    fields: Mapping[str, Sequence[str]],
    required: Sequence[str],
    overrides: Mapping[str, Sequence[str] | str] | None = None,
) -> TabLayout:
    """Locate the header row (the first non-empty row) and each known column by name."""
    header_row = next(
        (i + 1 for i, row in enumerate(grid) if any(not is_blank(v) for v in row)), None
    )
    if header_row is None:
        raise LayoutProblem(
            Problem(tab, None, None, "a header row", f"tab '{tab}' is empty: no header row")
        )
    names: dict[str, str] = {}
    for name, aliases in fields.items():
        extra = (overrides or {}).get(name, ())
        extra = [extra] if isinstance(extra, str) else list(extra)
        for alias in (*extra, *aliases, name):
            names.setdefault(normalise_header(alias), name)
    for out in OUTPUT_COLUMNS:
        names[normalise_header(out)] = out
    headers = grid[header_row - 1]
    columns: dict[str, int] = {}
    outputs: dict[str, int] = {}
    last = 0
    for col, text in enumerate(headers, start=1):
        if is_blank(text):
            continue
        last = col
        known = names.get(normalise_header(text))
        if known in OUTPUT_COLUMNS:
            outputs.setdefault(known, col)
        elif known and known not in columns:
            columns[known] = col
    for name in required:
        if name not in columns:
            accepted = ", ".join(repr(a) for a in fields[name])
            raise LayoutProblem(
                Problem(
                    tab,
                    f"{a1(header_row, 1)}:{a1(header_row, max(last, 1))}",
                    None,
                    f"a header named {accepted}",
                    f"required column '{fields[name][0]}' is missing from the header row "
                    f"(row {header_row})",
                    row=header_row,
                )
            )
    new_outputs = [out for out in OUTPUT_COLUMNS if out not in outputs]
    # After the last column anyone uses, header or not: a person's unlabelled data is theirs.
    last = max([last, *(_used_width(row) for row in grid[header_row:])])
    for out in new_outputs:
        last += 1
        outputs[out] = last
    return TabLayout(tab, header_row, columns, outputs, new_outputs)


class _Row:
    """One data row being validated: typed access to its fields, collecting problems."""

    def __init__(self, grid: Grid, layout: TabLayout, row: int) -> None:
        self.grid, self.layout, self.row = grid, layout, row
        self.problems: list[Problem] = []
        line = grid[row - 1] if row <= len(grid) else []
        width = len(line)
        self.values = {
            name: line[col - 1] if col <= width else None for name, col in layout.columns.items()
        }

    def raw(self, name: str) -> CellValue:
        return self.values.get(name)

    def is_empty(self, ignore: str | None = None) -> bool:
        """No known field has a value (a person's own columns do not count)."""
        return all(is_blank(v) for k, v in self.values.items() if k != ignore)

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


def read_kpis(
    grid: Grid,
    tab: str,
    *,
    warning_margin: float = 0.10,
    overrides: Mapping[str, Sequence[str] | str] | None = None,
) -> KpiTab:
    """Validate the KPIs tab. Raises LayoutProblem if the tab has no usable header."""
    layout = find_layout(grid, tab, KPI_FIELDS, KPI_REQUIRED, overrides)
    kpis: list[Kpi] = []
    invalid: list[InvalidRow] = []
    seen: dict[str, str] = {}
    for row in range(layout.header_row + 1, len(grid) + 1):
        r = _Row(grid, layout, row)
        if r.is_empty():
            continue
        name = r.text("name")
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
        target = r.parsed("target", parse_number, None)
        warning = r.parsed("warning", parse_optional_number, None)
        actual = r.parsed("actual", parse_optional_number, None)
        if target is not None and warning is not None:
            wrong_side = warning > target if higher else warning < target
            if wrong_side:
                side = "at or below" if higher else "at or above"
                r.problem(
                    "warning",
                    f"Warning {warning:g} is on the wrong side of Target {target:g} for a "
                    f"{'higher' if higher else 'lower'}-is-better KPI",
                    f"a number {side} the target",
                    r.raw("warning"),
                )
        if r.problems:
            invalid.append(InvalidRow(tab, row, tuple(r.problems), key=name, owner=r.text("owner")))
            continue
        assert name is not None and target is not None
        if warning is None:
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
            )
        )
    return KpiTab(layout, kpis, invalid)


def read_okrs(
    grid: Grid,
    tab: str,
    *,
    default_period: Period,
    kpi_names: Mapping[str, str] | None = None,
    invalid_kpis: Mapping[str, str] | None = None,
    overrides: Mapping[str, Sequence[str] | str] | None = None,
) -> OkrTab:
    """Validate the OKRs tab: one key result per row, objectives carried down over blanks.

    `kpi_names` maps a casefolded KPI name to its real name (for the KPI link column);
    `invalid_kpis` maps casefolded names of KPIs that exist but failed validation to their cell.
    """
    layout = find_layout(grid, tab, OKR_FIELDS, OKR_REQUIRED, overrides)
    kpi_names = kpi_names or {}
    invalid_kpis = invalid_kpis or {}
    key_results: list[KeyResult] = []
    invalid: list[InvalidRow] = []
    objective_rows: list[int] = []
    seen_ids: dict[str, str] = {}
    objective: str | None = None
    for row in range(layout.header_row + 1, len(grid) + 1):
        r = _Row(grid, layout, row)
        if r.is_empty():
            continue
        named = r.text("objective")
        if named:
            objective = named
        if r.is_empty(ignore="objective"):
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
        start = r.parsed("start", parse_optional_number, None)
        start = 0.0 if start is None else start
        weight = r.parsed("weight", parse_optional_number, None)
        if weight is not None and weight < 0:
            r.problem("weight", "Weight is negative", "a weight of 0 or more", r.raw("weight"))
        period = default_period
        if not is_blank(r.raw("period")):
            period = r.parsed("period", parse_period, default_period)
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
            target = r.parsed("target", parse_number, None)
            current = r.parsed("current", parse_optional_number, None)
            direction = r.parsed("direction", parse_direction, None)
            warning = r.parsed("warning", parse_optional_number, None)
            if target is not None and kr_type is KrType.METRIC:
                direction = _check_direction(r, start, target, direction)
            if target is not None and warning is not None and kr_type is not KrType.METRIC:
                above = kr_type is KrType.STAY_ABOVE
                if (warning > target) if above else (warning < target):
                    r.problem(
                        "warning",
                        f"Warning {warning:g} is on the wrong side of Target {target:g} "
                        f"for '{kr_type.value}'",
                        f"a number {'at or below' if above else 'at or above'} the target",
                        r.raw("warning"),
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
            )
        )
    return OkrTab(layout, key_results, invalid, objective_rows)


def _check_direction(
    r: _Row, start: float, target: float, direction: Direction | None
) -> Direction | None:
    if target == start:
        r.problem(
            "target",
            f"Target equals Start ({target:g}): there is no distance to make progress over",
            "a target different from the start",
            r.raw("target"),
        )
        return direction
    inferred = Direction.INCREASE if target > start else Direction.DECREASE
    if direction is not None and direction is not inferred:
        r.problem(
            "direction",
            f"Direction says '{direction.value}' but Target {target:g} is "
            f"{'above' if target > start else 'below'} Start {start:g}",
            f"'{inferred.value}' or blank",
            r.raw("direction"),
        )
    return inferred
