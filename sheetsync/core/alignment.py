"""Cascading objectives: parents named in the OKRs tab, cycles refused, scores rolled up.

An objective names its parent in the optional `Parent` column, by the parent's `Objective ID`
or text, in the same workbook (`C1`, `Grow revenue`) or in another configured workbook
(`Company OKRs: C1`). A parent's score is the weighted mean of its own key results (each by its
Weight) and its child objectives (each by its `Objective weight`, or 1 each with the `mean`
roll-up). Children in another workbook arrive as rows of that workbook's Summary tab, already
scored by its own sync: `parse_child_summary` reads them, so no workbook is synced twice.

Pure: plain data in, plain data out.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

from sheetsync.core.model import (
    Colour,
    InvalidRow,
    KeyResult,
    KeyResultScore,
    ObjectiveScore,
    Problem,
    Status,
    with_fields,
)
from sheetsync.core.parse import (
    ParseError,
    is_blank,
    parse_optional_number,
    serial_date,
    text_or_none,
)
from sheetsync.core.plan import CellValue, Grid
from sheetsync.core.scoring import (
    Rules,
    expected_score,
    grade,
    points_status,
    status_points,
    waits_for_due_date,
)
from sheetsync.core.validate import OkrTab

ROLLUP_MODES = ("weighted", "mean")
TREE_HEADING = "Alignment tree"
"""Column A of the Summary row that starts the tree; a parent workbook looks for it."""
TREE_HEADER = (
    "Objective",
    "Score",
    "Status",
    "Level",
    "ID",
    "Parent",
    "Weight",
    "Expected",
    "Workbook",
    "As of",
    "Parent cell",
    "Note",
)
GRADED = (Status.ACHIEVED, Status.PARTIAL, Status.MISSED)


@dataclass(frozen=True)
class ParentRef:
    """A Parent cell as written, split into the workbook it names (None: this one) and the key."""

    text: str
    workbook: str | None
    key: str
    cell: str


@dataclass(frozen=True)
class ObjectiveLink:
    """One objective's place in the tree: its ID, its weight as a child, its parent."""

    name: str
    id: str | None = None
    weight: float = 1.0
    parent: ParentRef | None = None
    parent_name: str | None = None
    """The parent objective in this workbook, resolved; None for a root or a remote parent."""


@dataclass(frozen=True)
class ChildObjective:
    """A root objective of a child workbook, as that workbook's last sync left it on Summary."""

    workbook: str
    as_of: date | None
    name: str
    id: str | None
    score: float | None
    status: Status
    expected: float | None
    weight: float
    parent: str
    parent_cell: str | None


@dataclass(frozen=True)
class TreeNode:
    """One row of the alignment tree, in display order (a parent before its children)."""

    name: str
    depth: int
    score: float | None
    status: Status
    expected: float | None = None
    id: str | None = None
    weight: float = 1.0
    parent: str | None = None
    """The Parent cell's text."""
    parent_cell: str | None = None
    workbook: str | None = None
    """None for this workbook's objectives; the child workbook's name for one read from it."""
    as_of: date | None = None
    stale: bool = False
    note: str = ""
    children: int = 0


@dataclass
class Alignment:
    """A workbook's tree and the objective scores with their children rolled in."""

    nodes: list[TreeNode] = field(default_factory=list)
    objectives: list[ObjectiveScore] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)

    @property
    def used(self) -> bool:
        """Whether the workbook takes part in a cascade at all (else Summary shows no tree)."""
        return any(n.parent or n.workbook or n.children for n in self.nodes)


def split_parent(text: str, workbooks: Iterable[str]) -> tuple[str | None, str]:
    """`Company OKRs: C1` -> ("Company OKRs", "C1") when the prefix is a configured workbook."""
    head, sep, tail = text.partition(":")
    if sep and tail.strip():
        wanted = head.strip().casefold()
        for name in workbooks:
            if name.casefold() == wanted:
                return name, tail.strip()
    return None, text.strip()


def link_objectives(
    okrs: OkrTab,
    *,
    workbook: str,
    workbooks: Collection[str] = (),
    parent_workbooks: Collection[str] = (),
) -> tuple[OkrTab, dict[str, ObjectiveLink]]:
    """Each objective's ID, weight and parent; bad ones turn their row Invalid.

    `workbooks` are every configured workbook's name; `parent_workbooks` those that list this
    one as a child. Unknown parents, a parent in a workbook that does not read this one,
    conflicting values for one objective, duplicate objective IDs and cycles are problems on
    the cell that holds them, and that row is Invalid, as a KPI link to a missing KPI is.
    """
    tab = okrs.layout.tab
    errors: dict[int, list[Problem]] = defaultdict(list)
    first: dict[tuple[str, str], tuple[str, CellValue]] = {}
    values: dict[str, dict[str, tuple[int, str, CellValue]]] = defaultdict(dict)

    def problem(row: int, cell: str, value: object, message: str, expected: str) -> None:
        errors[row].append(Problem(tab, cell, value, expected, message, row=row))

    for c in okrs.objective_cells:
        label = _LABELS[c.field]
        seen = first.get((c.objective, c.field))
        if seen is None:
            first[(c.objective, c.field)] = (c.cell, c.value)
            values[c.objective][c.field] = (c.row, c.cell, c.value)
        elif _text(seen[1]) != _text(c.value):
            problem(
                c.row,
                c.cell,
                c.value,
                f"{label} differs from {seen[1]!r} given at {seen[0]} for the same objective",
                f"one {label} per objective (or leave this cell blank)",
            )

    ids: dict[str, str] = {}
    links: dict[str, ObjectiveLink] = {}
    for name in okrs.objective_names:
        given = values.get(name, {})
        obj_id = None
        if "objective_id" in given:
            row, cell, value = given["objective_id"]
            obj_id = _text(value)
            if obj_id.casefold() in ids:
                problem(
                    row,
                    cell,
                    value,
                    f"duplicate Objective ID (also at {ids[obj_id.casefold()]})",
                    "a unique ID per objective",
                )
                obj_id = None
            else:
                ids[obj_id.casefold()] = cell
        weight = 1.0
        if "objective_weight" in given:
            row, cell, value = given["objective_weight"]
            try:
                number = parse_optional_number(value)
            except ParseError as exc:
                problem(row, cell, value, f"Objective weight: {exc}", exc.expected)
            else:
                if number is not None and number < 0:
                    problem(row, cell, value, "Objective weight is negative", "0 or more")
                elif number is not None:
                    weight = number
        links[name] = ObjectiveLink(name, obj_id, weight)

    by_key = {name.casefold(): name for name in links}
    by_key |= {link.id.casefold(): name for name, link in links.items() if link.id}
    for name in links:
        if "parent" not in values.get(name, {}):
            continue
        row, cell, value = values[name]["parent"]
        text = _text(value)
        target_wb, key = split_parent(text, workbooks)
        ref = ParentRef(text, target_wb, key, f"{tab}!{cell}")
        if target_wb is not None and target_wb.casefold() == workbook.casefold():
            ref = replace(ref, workbook=None)
        if ref.workbook is not None:
            if ref.workbook not in parent_workbooks:
                problem(
                    row,
                    cell,
                    value,
                    f"Parent names workbook '{ref.workbook}', which does not read this "
                    f"workbook's objectives",
                    f"children = [\"{workbook}\"] on workbook '{ref.workbook}' in the config",
                )
                continue
            links[name] = replace(links[name], parent=ref)
            continue
        parent = by_key.get(key.casefold())
        if parent is None:
            problem(
                row,
                cell,
                value,
                f"Parent: no objective with ID or text '{key}' in this workbook",
                "an Objective ID or objective text from this tab, or 'Workbook name: ID'",
            )
            continue
        links[name] = replace(links[name], parent=ref, parent_name=parent)

    for cycle in _cycles(links):
        shown = " -> ".join([*cycle, cycle[0]])
        for name in cycle:
            row, cell, value = values[name]["parent"]
            problem(
                row,
                cell,
                value,
                f"Parent makes a cycle: {shown}",
                "a parent that is not this objective or one of its children",
            )
            links[name] = replace(links[name], parent=None, parent_name=None)
    return _invalidate(okrs, errors), links


_LABELS = {"objective_id": "Objective ID", "parent": "Parent", "objective_weight": "Weight"}


def _text(value: CellValue) -> str:
    return text_or_none(value) or ""


def _cycles(links: Mapping[str, ObjectiveLink]) -> list[list[str]]:
    """Every cycle of local parent links, each once, in the tab's order."""
    cycles: list[list[str]] = []
    done: set[str] = set()
    for start in links:
        path: list[str] = []
        node: str | None = start
        while node is not None and node not in done and node not in path:
            path.append(node)
            node = links[node].parent_name
        if node is not None and node in path:
            cycles.append(path[path.index(node) :])
        done.update(path)
    return cycles


def _invalidate(okrs: OkrTab, errors: Mapping[int, list[Problem]]) -> OkrTab:
    """The tab with every row that has an alignment problem made Invalid."""
    if not errors:
        return okrs
    kept: list[KeyResult] = []
    invalid = [
        replace(bad, problems=bad.problems + tuple(errors[bad.row])) if bad.row in errors else bad
        for bad in okrs.invalid
    ]
    done = {bad.row for bad in okrs.invalid}
    for kr in okrs.key_results:
        if kr.row in errors:
            invalid.append(
                InvalidRow(
                    okrs.layout.tab,
                    kr.row,
                    tuple(errors[kr.row]),
                    objective=kr.objective,
                    key=kr.key,
                    owner=kr.owner,
                )
            )
            done.add(kr.row)
        else:
            kept.append(kr)
    for row in okrs.objective_rows:
        if row in errors and row not in done:
            invalid.append(InvalidRow(okrs.layout.tab, row, tuple(errors[row])))
    invalid.sort(key=lambda bad: bad.row)
    return replace(okrs, key_results=kept, invalid=invalid)


@dataclass
class _Part:
    """Score, expected score and weight a contributor brings to its parent."""

    score: float
    expected: float
    weight: float
    ended: bool
    has_data: bool
    points: float = 0.0
    """Status points (`scoring.status_points`): its key results' weighted mean for the parent's
    own key results, its status's for a child objective."""


def roll_up(
    names: Sequence[str],
    links: Mapping[str, ObjectiveLink],
    objectives: Sequence[ObjectiveScore],
    key_results: Sequence[KeyResultScore],
    children: Sequence[ChildObjective] = (),
    *,
    workbook: str,
    as_of: date,
    rules: Rules,
    mode: str = "weighted",
    stale_after_days: int = 2,
) -> Alignment:
    """The tree in display order, with each parent's score and status rolled up.

    An objective without children keeps the score and status `score_objective` gave it. A
    parent is judged like an objective (`scoring.objective_status`): status points, its own key
    results each by theirs and each child objective by its status, or graded once every part
    has ended. `children` are the child workbooks' root
    objectives; those naming an objective here that does not exist are problems.
    """
    if mode not in ROLLUP_MODES:
        raise ValueError(f"roll-up mode must be one of {ROLLUP_MODES}, not {mode!r}")
    own = {o.name: o for o in objectives}
    krs: dict[str, list[KeyResultScore]] = defaultdict(list)
    for s in key_results:
        krs[s.key_result.objective].append(s)
    order = list(dict.fromkeys([*names, *own]))
    local_children: dict[str, list[str]] = defaultdict(list)
    for name in order:
        link = links.get(name)  # not links.get(name, ObjectiveLink(name)): one per objective
        parent = link.parent_name if link is not None else None
        if parent is not None:
            local_children[parent].append(name)

    problems: list[Problem] = []
    remote: dict[str, list[ChildObjective]] = defaultdict(list)
    by_key = {name.casefold(): name for name in order}
    by_key |= {link.id.casefold(): name for name, link in links.items() if link.id}
    for child in children:
        target_wb, key = split_parent(child.parent, [workbook])
        if target_wb is None:
            continue
        parent = by_key.get(key.casefold())
        if parent is None:
            tab, _, cell = (child.parent_cell or "").rpartition("!")
            problems.append(
                Problem(
                    f"'{child.workbook}' {tab or 'OKRs'}",
                    cell or None,
                    child.parent,
                    "an Objective ID or objective text of this workbook",
                    f"objective '{child.name}' of workbook '{child.workbook}' names a parent "
                    f"'{key}' that this workbook does not have",
                    is_error=False,
                )
            )
            continue
        remote[parent].append(child)
    stale_before = as_of - timedelta(days=stale_after_days)

    nodes: list[TreeNode] = []
    rolled: dict[str, ObjectiveScore] = {}

    def weight_of(w: float) -> float:
        return w if mode == "weighted" else 1.0

    def visit(name: str, depth: int) -> _Part:
        slot = len(nodes)
        nodes.append(_UNVISITED)  # this objective's node, made once its children are
        parts: list[_Part] = []
        notes: list[str] = []
        for child_name in local_children.get(name, []):
            part = visit(child_name, depth + 1)
            part.weight = weight_of(links[child_name].weight)
            parts.append(part)
        for child in remote.get(name, []):
            stale = child.as_of is None or child.as_of < stale_before
            synced = child.as_of.isoformat() if child.as_of else "never"
            nodes.append(
                TreeNode(
                    child.name,
                    depth + 1,
                    child.score,
                    child.status,
                    child.expected,
                    id=child.id,
                    weight=child.weight,
                    parent=child.parent,
                    parent_cell=child.parent_cell,
                    workbook=child.workbook,
                    as_of=child.as_of,
                    stale=stale,
                    note=f"stale: '{child.workbook}' last synced {synced}" if stale else "",
                )
            )
            if stale:
                notes.append(f"'{child.workbook}' is stale (last synced {synced})")
            parts.append(
                _Part(
                    child.score or 0.0,
                    child.expected if child.expected is not None else 0.0,
                    weight_of(child.weight),
                    child.status in GRADED,
                    child.score is not None,
                    status_points(child.status),
                )
            )
        mine = own.get(name)
        link = links.get(name) or ObjectiveLink(name)
        valid = [s for s in krs.get(name, []) if not waits_for_due_date(s, as_of)]
        kr_weight = sum(s.key_result.weight for s in valid)
        own_part = None
        if valid and kr_weight > 0:
            own_part = _Part(
                sum((s.score or 0.0) * s.key_result.weight for s in valid) / kr_weight,
                expected_of(valid, as_of) or 0.0,
                kr_weight,
                all(s.key_result.period and as_of > s.key_result.period.end for s in valid),
                any(s.score is not None for s in valid),
                sum(status_points(s.status) * s.key_result.weight for s in valid) / kr_weight,
            )
        if not parts:
            score = mine.score if mine else None
            status = mine.status if mine else Status.NO_DATA
            note = mine.note if mine else "no key results and no child objectives"
            expected = own_part.expected if own_part else None
            result = own_part or _Part(0.0, 0.0, 0.0, False, False)
        else:
            everything = [*([own_part] if own_part else []), *parts]
            total = sum(p.weight for p in everything)
            count = len(parts)
            notes.insert(0, f"includes {count} child objective{'s' * (count > 1)}")
            no_data = sum(1 for p in parts if not p.has_data)
            if no_data:
                notes.append(f"{no_data} child objective{'s' * (no_data > 1)} without a score")
            if mine and mine.note:
                notes.append(mine.note)
            if total <= 0 or not any(p.has_data for p in everything):
                score, status, expected = None, Status.NO_DATA, None
                result = _Part(0.0, 0.0, 0.0, False, False)
            else:
                score = sum(p.score * p.weight for p in everything) / total
                expected = sum(p.expected * p.weight for p in everything) / total
                ended = all(p.ended for p in everything)
                if ended:
                    status = grade(score, rules)
                elif score >= 1.0:
                    status = Status.DONE
                else:  # the objective rule, with each child objective by its status
                    status = points_status([(p.points, p.weight) for p in everything], rules)
                result = _Part(score, expected, 0.0, ended, True)
            note = "; ".join(notes)
        nodes[slot] = with_fields(  # TreeNode(...) and ObjectiveScore(...): one per objective
            TreeNode,
            {
                "name": name,
                "depth": depth,
                "score": score,
                "status": status,
                "expected": expected,
                "id": link.id,
                "weight": link.weight,
                "parent": link.parent.text if link.parent else None,
                "parent_cell": link.parent.cell if link.parent else None,
                "note": note,
                "children": len(parts),
            },
        )
        if mine or parts:
            counts = dict(mine.counts) if mine else {}
            rolled[name] = with_fields(
                ObjectiveScore,
                {"name": name, "score": score, "status": status, "counts": counts, "note": note},
            )
        result.points = status_points(status)  # its parent counts it by its status
        return result

    for name in order:
        link = links.get(name)
        if link is None or link.parent_name is None:
            visit(name, 0)
    return Alignment(nodes, [rolled[name] for name in order if name in rolled], problems)


_UNVISITED = TreeNode("", 0, None, Status.NO_DATA)
"""The place of a node in `roll_up`'s list while its children are visited."""


TREE_SCORE_COLUMNS = (2, 8)
"""The columns of `tree_rows` holding scores (Score, Expected), 1-based."""


def tree_rows(nodes: Sequence[TreeNode]) -> tuple[Grid, dict[tuple[int, int], Colour]]:
    """The Summary section: the heading, the header, one indented row per node.

    Fills are keyed by (row, col) within these rows, 1-based. A parent workbook reads it back
    with `parse_child_summary`, so the columns are named and the level is a number. Scores are
    at full precision: `TREE_SCORE_COLUMNS` get the two-decimal number format.
    """
    rows: Grid = [[TREE_HEADING, "parents first; children indented below them"], list(TREE_HEADER)]
    fills: dict[tuple[int, int], Colour] = {}
    for node in nodes:
        rows.append(
            [
                indent(node.depth) + node.name,
                node.score,
                node.status.value,
                node.depth,
                node.id,
                node.parent,
                node.weight,
                node.expected,
                node.workbook,
                node.as_of.isoformat() if node.as_of else None,
                node.parent_cell,
                node.note or None,
            ]
        )
        fills[(len(rows), 2)] = fills[(len(rows), 3)] = node.status.colour
    return rows, fills


def indent(depth: int) -> str:
    """How the tree shows depth in a cell: four spaces and an arrow per level."""
    return "    " * depth + ("↳ " if depth else "")


def summary_as_of(grid: Grid) -> date | None:
    """The `As of` date on a Summary tab (row 2, as every sheetsync Summary has it)."""
    for row in grid[:5]:
        if row and row[0] == "As of" and len(row) > 1:
            value = row[1]
            if isinstance(value, datetime):
                return value.date()
            if isinstance(value, date):
                return value
            if isinstance(value, int | float) and not isinstance(value, bool):
                return serial_date(value)  # Google returns dates as serial numbers
            try:
                return date.fromisoformat(str(value).strip())
            except ValueError:
                return None
    return None


def parse_child_summary(workbook: str, grid: Grid) -> list[ChildObjective]:
    """The root objectives with a Parent on a child workbook's Summary (its last sync's view).

    Only level-0 rows of the child's own objectives are taken: everything below them is
    already rolled into their scores by the child's sync.
    """
    as_of = summary_as_of(grid)
    start = next((i for i, row in enumerate(grid) if row and row[0] == TREE_HEADING), None)
    if start is None or start + 1 >= len(grid):
        return []
    header = [str(v).strip() if v is not None else "" for v in grid[start + 1]]
    col = {name: header.index(name) for name in TREE_HEADER if name in header}
    if not {"Objective", "Score", "Status", "Level", "Parent"} <= col.keys():
        return []
    found: list[ChildObjective] = []
    for row in grid[start + 2 :]:
        if not row or all(is_blank(v) for v in row):
            break

        def get(name: str, row: list[CellValue] = row) -> CellValue:
            i = col.get(name)
            return row[i] if i is not None and i < len(row) else None

        parent = _text(get("Parent"))
        if get("Level") not in (0, 0.0, "0") or not parent or not is_blank(get("Workbook")):
            continue
        found.append(
            ChildObjective(
                workbook=workbook,
                as_of=as_of,
                name=_text(get("Objective")),
                id=text_or_none(get("ID")),
                score=_number(get("Score")),
                status=Status.parse(get("Status")) or Status.NO_DATA,
                expected=_number(get("Expected")),
                weight=_or(_number(get("Weight")), 1.0),
                parent=parent,
                parent_cell=text_or_none(get("Parent cell")),
            )
        )
    return found


def _or(value: float | None, default: float) -> float:
    return default if value is None else value


def _number(value: CellValue) -> float | None:
    try:
        return parse_optional_number(value)
    except ParseError:
        return None


def expected_of(key_results: Sequence[KeyResultScore], as_of: date) -> float | None:
    """The score an objective with these key results is expected to have by `as_of` (their
    weighted pace; key results waiting for their due date left out), None when none counts."""
    counted = [s for s in key_results if not waits_for_due_date(s, as_of)]
    weight = sum(s.key_result.weight for s in counted)
    if not counted or weight <= 0:
        return None
    return sum(expected_score(s.key_result, as_of) * s.key_result.weight for s in counted) / weight
