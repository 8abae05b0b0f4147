"""Tab grids -> validated key results and KPIs, plus every problem located to its cell.

A bad row never stops the others: it becomes an `InvalidRow` carrying its problems, and every
other row is still validated. Only a missing tab or required header fails the whole tab.
Pure: takes plain grids, returns dataclasses.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import partial

from sheetsync.core.checkin import parse_checkin, parse_confidence
from sheetsync.core.cross_checks import (
    check_direction,
    flag_same_identity,
    owners_by_row,
    warn_examples_left,
)
from sheetsync.core.layout import (
    KPI_FIELDS,
    KPI_REQUIRED,
    OBJECTIVE_FIELDS,
    OKR_FIELDS,
    OKR_REQUIRED,
    SCORECARD_REQUIRED,
    LayoutProblem,
    OwnColumns,
    TabLayout,
    cell_at,
    find_layout,
)
from sheetsync.core.model import (
    Direction,
    InvalidRow,
    KeyResult,
    Kpi,
    KrType,
    Period,
    Problem,
    SeriesPoint,
    with_fields,
)
from sheetsync.core.override import parse_override
from sheetsync.core.parse import (
    ParseError,
    a1,
    column_letter,
    is_blank,
    parse_cadence,
    parse_direction,
    parse_done,
    parse_kpi_direction,
    parse_kr_type,
    parse_period,
)
from sheetsync.core.plan import CellValue, Grid
from sheetsync.core.relative import parse_change
from sheetsync.core.rows import NumberReading, RowReader, TabCells, Unreadable
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
    pick_style,
    with_unit,
)


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
    rows: list[tuple[RowReader, bool, str | None]] = []
    """Each non-empty row, whether it is a Target row, and the KPI it belongs to."""
    targets: dict[str, list[RowReader]] = {}
    last_name: str | None = None
    period_cols = [c.col for c in card.columns]
    cells = TabCells(grid, layout, reading)
    for row in cells.rows():
        r = cells.row(row)
        if r.is_empty() and all(is_blank(cell_at(grid, row, c)) for c in period_cols):
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
        else:
            r.unique("name", name, seen, "KPI name", "each KPI name once")
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
    owners = owners_by_row(kpis, invalid) | {r.row: r.text("owner") for r, t, _ in rows if t}
    warn_examples_left(layout, dict(sorted(owners.items())))
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
    r: RowReader, card: Scorecard, problems: list[Problem]
) -> list[tuple[float, NumberStyle] | None]:
    """A row's number (and how its cell shows it) in each period column; blank is None, and a
    cell that is not a number is a problem in `problems`."""
    values: list[tuple[float, NumberStyle] | None] = []
    for column in card.columns:
        value = cell_at(r.grid, r.row, column.col)
        blank = is_blank(value)
        values.append(None if blank else r.number_at(column.col, column.label, value, problems))
    return values


_OBJECTIVE_LEVEL = ("objective", *OBJECTIVE_FIELDS)
"""A row with only these filled names an objective (a grouping row), no key result."""


def _plain_key_results(
    cells: TabCells, default_period: Period, kpi_names: Mapping[str, str] | None
) -> list[KeyResult | None]:
    """Per data row, its key result when reading it cell by cell would find no problem and
    take no path but the common one: every cell readable, a linked KPI that exists, a metric's
    Target away from its Start and agreeing with its Direction, a level's Warning on the right
    side; no Change (a relative key result). None for every other row (blank, a grouping row,
    anything else), which `read_okrs` reads cell by cell.

    Whole columns at once: `read_okrs` runs this for every row of a tab (a per-cell reader
    costs ten times as much). Whether the row's ID is unique is left to the caller, which
    sees the rows in order. The same key result as the cell-by-cell reading: the property
    test in tests/unit/core/test_validate_plain.py compares the two on random tabs.
    """
    kpi_names = kpi_names or {}
    text, parsed, given, blank = cells.text, cells.parsed, cells.given_numbers, cells.blank
    picked: dict[tuple[int, int, int], tuple[NumberStyle, tuple[object, ...]]] = {}
    metric, milestone, above = KrType.METRIC, KrType.MILESTONE, KrType.STAY_ABOVE
    increase, decrease = Direction.INCREASE, Direction.DECREASE
    found: list[KeyResult | None] = []
    objective: str | None = None
    ids, owners, teams, objective_owners = (
        text[name] for name in ("id", "owner", "team", "objective_owner")
    )
    targets, currents, warnings = (given[name] for name in ("target", "current", "warning"))
    directions, raw_currents = parsed("direction", parse_direction), cells.raw["current"]
    first_row = cells.first_row
    columns = zip(
        cells.empty_rows(),
        cells.empty_rows(ignore=_OBJECTIVE_LEVEL),
        text["objective"],
        text["key_result"],
        parsed("type", parse_kr_type),
        given["start"],
        given["weight"],
        blank["period"],
        parsed("period", parse_period),
        parsed("status_override", parse_override),
        parsed("cadence", parse_cadence),
        blank["override_until"],
        parsed("override_until", parse_period),
        blank["change"],
        parsed("confidence", parse_confidence),
        blank["updated"],
        parsed("updated", parse_checkin),
        text["kpi"],
        strict=True,
    )
    for index, (
        empty, grouping, named, kr_text, kr_type, start, weight, no_period, period, override,
        cadence, no_until, until, no_change, confidence, no_checkin, checked_in, link,
    ) in enumerate(columns):  # fmt: skip
        if empty:
            found.append(None)
            continue
        if named:
            objective = named
        if (
            grouping
            or objective is None
            or kr_text is None
            or not no_change
            or type(kr_type) is Unreadable
            or type(start) is Unreadable
            or type(weight) is Unreadable
            or (weight is not None and weight[0] < 0)
            or (not no_period and type(period) is Unreadable)
            or type(override) is Unreadable
            or type(cadence) is Unreadable
            or (not no_until and type(until) is Unreadable)
            or type(confidence) is Unreadable
            or (not no_checkin and type(checked_in) is Unreadable)
        ):
            found.append(None)
            continue
        kpi = None
        if link is not None:
            kpi = kpi_names.get(link.casefold())
            if kpi is None:
                found.append(None)
                continue
        start_number, start_style = start if start is not None else (0.0, None)
        target = current = warning = done = direction = None
        target_style = current_style = None
        if kr_type is milestone:
            try:  # one cell: parsing the whole column would refuse every metric's number
                done = parse_done(raw_currents[index])
            except ParseError:
                found.append(None)
                continue
        else:
            target_read, current_read = targets[index], currents[index]
            warning_read, direction = warnings[index], directions[index]
            if (
                target_read is None
                or type(target_read) is Unreadable
                or type(current_read) is Unreadable
                or type(warning_read) is Unreadable
                or type(direction) is Unreadable
            ):
                found.append(None)
                continue
            target, target_style = target_read  # type: ignore[misc]
            if current_read is not None:
                current, current_style = current_read  # type: ignore[misc]
            if warning_read is not None:
                warning = warning_read[0]  # type: ignore[index]
            if kr_type is metric:
                if target == start_number:
                    found.append(None)
                    continue
                inferred = increase if target > start_number else decrease
                if direction is not None and direction is not inferred:
                    found.append(None)
                    continue
                direction = inferred
            elif warning is not None and (
                (warning > target) if kr_type is above else (warning < target)
            ):
                found.append(None)
                continue
        key = (id(current_style), id(target_style), id(start_style))
        if key not in picked:  # the styles live in the columns, so their ids stay theirs
            chosen = pick_style(current_style, target_style, start_style)
            picked[key] = (chosen, (current_style, target_style, start_style))
        found.append(
            with_fields(
                KeyResult,
                {
                    "row": first_row + index,
                    "objective": objective,
                    "text": kr_text,
                    "type": kr_type,
                    "id": ids[index],
                    "owner": owners[index],
                    "start": start_number,
                    "target": target,
                    "current": current,
                    "done": done,
                    "direction": direction,
                    "warning": warning,
                    "weight": 1.0 if weight is None else weight[0],
                    "period": default_period if no_period else period,
                    "kpi": kpi,
                    "style": picked[key][0],
                    "start_style": start_style,
                    "target_style": target_style,
                    "override": override,
                    "override_until": None if no_until else until.end,  # type: ignore[union-attr]
                    "cadence_days": cadence,
                    "team": teams[index],
                    "objective_owner": objective_owners[index],
                    "confidence": confidence,
                    "checked_in": None if no_checkin else checked_in,
                    "change": None,
                    "start_given": start is not None,
                },
            )
        )
    return found


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
    plain_rows: bool = True,
) -> OkrTab:
    """Validate the OKRs tab: one key result per row, objectives carried down over blanks.

    `kpi_names` maps a casefolded KPI name to its real name (for the KPI link column);
    `invalid_kpis` maps casefolded names of KPIs that exist but failed validation to their cell.
    A row that needs no care (`_plain_key_results`) is taken whole from its columns and only
    the others are read cell by cell; `plain_rows=False` reads every row cell by cell (the
    reference the fast path is tested against).
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
    cells = TabCells(grid, layout, reading)
    change_of = partial(parse_change, decimal=cells.reading.decimal)
    objective_fields = [name for name in OBJECTIVE_FIELDS if name in layout.columns]
    empty, grouping = cells.empty_rows(), cells.empty_rows(ignore=_OBJECTIVE_LEVEL)
    named_objectives = cells.text["objective"]
    plain = (
        _plain_key_results(cells, default_period, kpi_names) if plain_rows else [None] * cells.size
    )
    id_letter = column_letter(layout.columns.get("id", 1))  # `RowReader.ref("id")` is this
    for index, row in enumerate(cells.rows()):
        if empty[index]:
            continue
        named = named_objectives[index]
        if named:
            objective = named
        if objective is not None:
            objective_names.append(objective)
            for name in objective_fields:
                if not cells.blank[name][index]:
                    value = cells.raw[name][index]
                    cell = a1(row, layout.columns[name])
                    objective_cells.append(ObjectiveCell(objective, name, row, cell, value))
        if grouping[index]:
            objective_rows.append(row)
            continue
        kr = plain[index]
        if kr is not None and (kr.id is None or kr.id.casefold() not in seen_ids):
            if kr.id is not None:
                seen_ids[kr.id.casefold()] = f"{id_letter}{row}"
            key_results.append(kr)
            continue
        r = cells.row(row)
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
            r.unique("id", kr_id, seen_ids, "ID", "a unique ID per key result")
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
            change = r.parsed("change", change_of, None)
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
                direction = check_direction(r, start, target, direction)
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
                style=pick_style(
                    r.styles.get("current"), r.styles.get("target"), r.styles.get("start")
                ),
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
    key_results, invalid = flag_same_identity(grid, layout, key_results, invalid)
    warn_examples_left(layout, owners_by_row(key_results, invalid))
    return OkrTab(
        layout,
        key_results,
        invalid,
        objective_rows,
        list(dict.fromkeys(objective_names)),
        objective_cells,
    )
