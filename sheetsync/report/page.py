"""What a report page shows, as plain data: built from a workbook's scores, rendered elsewhere.

Every number arrives here already in the words a person reads (`units.format_number` for
their own numbers, `units.format_score` for scores), so the template only lays things out.
Pure: no files, no templates.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sheetsync.core.alignment import TreeNode, expected_of
from sheetsync.core.model import (
    InvalidRow,
    KeyResultScore,
    KpiScore,
    KrType,
    ObjectiveScore,
    Problem,
    Status,
)
from sheetsync.core.teams import (
    Group,
    attention_listed,
    by_owner,
    by_team,
    items_of,
    objective_owners,
    objective_teams,
    team_of,
)
from sheetsync.core.units import format_number, format_score, with_unit

TONES = {"C6EFCE": "good", "FFEB9C": "warn", "FFC7CE": "bad", "D9D9D9": "none"}
"""Status fill colour -> the page's tone (its CSS class)."""
SYMBOLS = {"good": "✓", "warn": "!", "bad": "✕", "none": "–"}
"""A shape beside each status word, so colour is never the only signal."""
NO_TEAM = "No team"
"""The section of key results no Team cell names, when others do."""


@dataclass(frozen=True)
class StatusView:
    word: str
    tone: str
    symbol: str

    @classmethod
    def of(cls, status: Status) -> StatusView:
        tone = TONES[status.colour.value]
        return cls(status.value, tone, SYMBOLS[tone])


@dataclass(frozen=True)
class ScoreView:
    """A score as text and as a bar; `expected` marks where the pace says it should be."""

    text: str
    percent: float
    expected_percent: float | None = None

    @classmethod
    def of(cls, score: float | None, expected: float | None = None) -> ScoreView | None:
        if score is None:
            return None
        clamp = min(1.0, max(0.0, score))
        pace = None if expected is None else round(min(1.0, max(0.0, expected)) * 100, 1)
        return cls(format_score(score), round(clamp * 100, 1), pace)


@dataclass(frozen=True)
class TreeRow:
    name: str
    depth: int
    score: ScoreView | None
    status: StatusView
    workbook: str | None
    as_of: str | None
    stale: bool
    note: str


@dataclass(frozen=True)
class KeyResultRow:
    name: str
    owner: str
    value: str
    target: str
    score: ScoreView | None
    status: StatusView
    note: str
    target_from: str = ""
    """A relative key result's target, worked out: '= +30% from 1000'."""
    confidence: str = ""
    """The owner's confidence, shown beside the score: 'confidence 7/10'."""


@dataclass(frozen=True)
class ObjectiveSection:
    name: str
    score: ScoreView | None
    status: StatusView
    key_results: list[KeyResultRow]
    owner: str = ""


@dataclass(frozen=True)
class GroupView:
    """A team or an objective owner: key results by status, and the red ones by name."""

    name: str
    total: int
    counts: list[tuple[StatusView, int]]
    attention: list[str]
    more: int
    """Red items beyond the ones named."""

    @classmethod
    def of(cls, group: Group) -> GroupView:
        listed, more = attention_listed(group)
        counts = [(StatusView.of(s), n) for s, n in Status.in_order(group.counts)]
        return cls(group.name, group.total, counts, listed, more)


@dataclass(frozen=True)
class TeamSection:
    """One team's part of the page: its counts and what needs attention, then its key results
    by objective (the grouping of the Summary's "By team")."""

    team: GroupView
    objectives: list[ObjectiveSection]


@dataclass(frozen=True)
class Sparkline:
    """A KPI's trend: SVG polyline points and the words a screen reader hears instead."""

    points: str
    last_x: float
    last_y: float
    description: str
    width: int = 96
    height: int = 24


@dataclass(frozen=True)
class KpiRow:
    name: str
    owner: str
    actual: str
    target: str
    status: StatusView
    trend: Sparkline | None
    note: str


@dataclass
class WorkbookPage:
    """Everything one workbook's page shows."""

    name: str
    file_name: str
    as_of: date
    location: str = ""
    error: str | None = None
    tree: list[TreeRow] = field(default_factory=list)
    objectives: list[ObjectiveSection] = field(default_factory=list)
    teams: list[TeamSection] = field(default_factory=list)
    """Empty when no key result names a team: the key results are then shown by objective."""
    owners: list[GroupView] = field(default_factory=list)
    kpis: list[KpiRow] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    objective_counts: list[tuple[StatusView, int]] = field(default_factory=list)

    @property
    def link(self) -> str | None:
        """The workbook's address when it is a web link (a Google spreadsheet)."""
        return self.location if self.location.startswith("https://") else None


@dataclass(frozen=True)
class IndexEntry:
    """One workbook's line on the index, kept apart from its page: each shard writes its own
    workbooks' pages, and the index lists every workbook from these lines."""

    name: str
    file_name: str
    as_of: str | None
    """The date its page was written for; None when no page has been written yet."""
    objective_counts: list[tuple[StatusView, int]] = field(default_factory=list)
    problems: int = 0
    error: str | None = None

    @classmethod
    def of(cls, page: WorkbookPage) -> IndexEntry:
        return cls(
            page.name,
            page.file_name,
            page.as_of.isoformat(),
            page.objective_counts,
            len(page.problems),
            page.error,
        )

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "file_name": self.file_name,
            "as_of": self.as_of,
            "objective_counts": [[s.word, s.tone, s.symbol, n] for s, n in self.objective_counts],
            "problems": self.problems,
            "error": self.error,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> IndexEntry:
        """Raises KeyError, TypeError or ValueError for anything but what `to_json` wrote."""
        counts = [
            (StatusView(str(w), str(t), str(y)), int(n)) for w, t, y, n in data["objective_counts"]
        ]
        error = data["error"]
        return cls(
            str(data["name"]),
            str(data["file_name"]),
            str(data["as_of"]),
            counts,
            int(data["problems"]),
            None if error is None else str(error),
        )


def file_name_for(name: str, taken: set[str]) -> str:
    """A safe, unique file name for a workbook's page (`Sales OKRs` -> `sales-okrs.html`)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "workbook"
    candidate, n = f"{slug}.html", 2
    while candidate in taken or candidate == "index.html":
        candidate, n = f"{slug}-{n}.html", n + 1
    taken.add(candidate)
    return candidate


def build_page(
    name: str,
    file_name: str,
    as_of: date,
    *,
    location: str = "",
    tree: Sequence[TreeNode] = (),
    objectives: Sequence[ObjectiveScore] = (),
    key_results: Sequence[KeyResultScore] = (),
    kpis: Sequence[KpiScore] = (),
    problems: Sequence[Problem] = (),
    invalid: Sequence[InvalidRow] = (),
    error: str | None = None,
) -> WorkbookPage:
    """The page of one workbook from its scores (the tree falls back to the flat objectives).

    `invalid` are the OKRs tab's invalid rows: counted in their team's and owner's groups.
    """
    page = WorkbookPage(name, file_name, as_of, location, error)
    krs_of: dict[str, list[KeyResultScore]] = {}
    for s in key_results:
        krs_of.setdefault(s.key_result.objective, []).append(s)
    nodes = list(tree) or [
        TreeNode(
            o.name, 0, o.score, o.status, expected_of(krs_of.get(o.name, []), as_of), note=o.note
        )
        for o in objectives
    ]
    page.tree = [
        TreeRow(
            n.name,
            n.depth,
            ScoreView.of(n.score, n.expected),
            StatusView.of(n.status),
            n.workbook,
            n.as_of.isoformat() if n.as_of else None,
            n.stale,
            n.note,
        )
        for n in nodes
    ]
    items = items_of(key_results, invalid)
    owners = objective_owners(items)
    scores = {o.name: o for o in objectives}

    def sections(chosen: Sequence[KeyResultScore]) -> list[ObjectiveSection]:
        by_objective: dict[str, list[KeyResultRow]] = {o.name: [] for o in objectives}
        for s in chosen:
            by_objective.setdefault(s.key_result.objective, []).append(_key_result_row(s))
        return [
            ObjectiveSection(
                objective,
                ScoreView.of(scores[objective].score) if objective in scores else None,
                StatusView.of(scores[objective].status if objective in scores else Status.NO_DATA),
                rows,
                owners.get(objective, ""),
            )
            for objective, rows in by_objective.items()
            if rows
        ]

    page.objectives = sections(key_results)
    if by_team(items):
        teams = objective_teams(items)
        krs_of_team: dict[str, list[KeyResultScore]] = {}
        for s in key_results:
            team = team_of(s.key_result.team, s.key_result.objective, teams) or NO_TEAM
            krs_of_team.setdefault(team.casefold(), []).append(s)
        page.teams = [
            TeamSection(GroupView.of(g), sections(krs_of_team.get(g.name.casefold(), [])))
            for g in by_team(items, unassigned=NO_TEAM)
        ]
    page.owners = [GroupView.of(g) for g in by_owner(items)]
    page.kpis = [_kpi_row(k) for k in kpis]
    page.problems = [p.describe() for p in problems]
    counts = Counter(o.status for o in objectives)
    page.objective_counts = [(StatusView.of(s), n) for s, n in Status.in_order(counts)]
    return page


def _key_result_row(s: KeyResultScore) -> KeyResultRow:
    kr = s.key_result
    if kr.type is KrType.MILESTONE:
        value, target = ("done" if kr.done else "not done"), "done"
    else:
        value = "" if s.value is None else format_number(s.value, kr.style)
        target = "" if kr.target is None else format_number(kr.target, kr.target_style or kr.style)
        if kr.type in (KrType.STAY_ABOVE, KrType.STAY_BELOW) and target:
            target = f"{'at least' if kr.type is KrType.STAY_ABOVE else 'at most'} {target}"
    target_from = ""
    if kr.change is not None and kr.type is KrType.METRIC and kr.target is not None:
        target_from = f"= {kr.change.text} from {format_number(kr.start, kr.style)}"
    note, confidence = s.note, ""
    if kr.confidence is not None:
        confidence = f"confidence {kr.confidence}"
        # shown beside the score, so the Note's copy of it is left out here
        note = note.removeprefix(confidence).removeprefix("; ")
    return KeyResultRow(
        kr.text,
        kr.owner or "",
        value,
        target,
        ScoreView.of(s.score),
        StatusView.of(s.status),
        note,
        target_from,
        confidence,
    )


def _kpi_row(k: KpiScore) -> KpiRow:
    kpi = k.kpi
    style = with_unit(kpi.style, kpi.unit)
    return KpiRow(
        kpi.name,
        kpi.owner or "",
        "" if kpi.actual is None else format_number(kpi.actual, style),
        ""
        if kpi.target is None
        else format_number(kpi.target, with_unit(kpi.target_style or kpi.style, kpi.unit)),
        StatusView.of(k.status),
        sparkline([(p.label, p.value) for p in kpi.series], lambda v: format_number(v, style)),
        k.note,
    )


def sparkline(
    points: Sequence[tuple[str, float | None]],
    shown: object = str,
    width: int = 96,
    height: int = 24,
) -> Sparkline | None:
    """An SVG polyline of a series (blank periods skipped); None with fewer than two values."""
    values = [(label, v) for label, v in points if v is not None]
    if len(values) < 2:
        return None
    low = min(v for _, v in values)
    high = max(v for _, v in values)
    span = (high - low) or 1.0
    pad = 2.0
    step = (width - 2 * pad) / (len(values) - 1)
    coords = [
        (round(pad + i * step, 1), round(height - pad - (v - low) / span * (height - 2 * pad), 1))
        for i, (_, v) in enumerate(values)
    ]
    show = shown if callable(shown) else str
    first, last = values[0], values[-1]
    description = (
        f"trend over {len(values)} periods: {show(first[1])} ({first[0]}) to "
        f"{show(last[1])} ({last[0]})"
    )
    return Sparkline(
        " ".join(f"{x},{y}" for x, y in coords),
        coords[-1][0],
        coords[-1][1],
        description,
        width,
        height,
    )
