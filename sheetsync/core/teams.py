"""Teams and owners: who each key result belongs to, for the Summary's per-team/per-owner view.

A key result's team is its `Team` cell, or else the first `Team` given on its objective's rows
(so a team is written once per objective). An objective's owner is the first `Objective owner`
on its rows, or else the `Owner` of its first row. Each team and each objective owner gets one
Summary row: its key results counted by status, and the ones that need attention (red
statuses, and invalid rows) named, so a manager sees where to look without reading every tab. Pure.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sheetsync.core.model import Colour, InvalidRow, KeyResultScore, Status
from sheetsync.core.plan import CellValue

MAX_ATTENTION_LISTED = 20
"""Items named in one Needs attention cell; more are counted ("and 3 more")."""


@dataclass(frozen=True)
class Item:
    """One key result row as the team/owner view needs it (valid or invalid)."""

    objective: str | None
    name: str
    """How the Needs attention cell names it: 'Objective / Key result', or its ID."""
    status: Status
    owner: str | None = None
    team: str | None = None
    objective_owner: str | None = None


@dataclass
class Group:
    """One team or one owner: its key results counted by status, and what needs attention."""

    name: str
    counts: Counter[Status] = field(default_factory=Counter)
    attention: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def items_of(scores: Sequence[KeyResultScore], invalid: Sequence[InvalidRow]) -> list[Item]:
    """Scored and invalid key results in sheet order, with their own Team/Objective owner cells."""
    found = [
        (
            s.key_result.row,
            Item(
                s.key_result.objective,
                f"{s.key_result.objective} / {s.key_result.text}",
                s.status,
                s.key_result.owner,
                s.key_result.team,
                s.key_result.objective_owner,
            ),
        )
        for s in scores
    ]
    found += [
        (b.row, Item(b.objective, b.key or f"row {b.row}", Status.INVALID, b.owner, b.team))
        for b in invalid
    ]
    return [item for _, item in sorted(found, key=lambda pair: pair[0])]


def objective_owners(items: Iterable[Item]) -> dict[str, str]:
    """Each objective's owner: its first `Objective owner`, else its first row's `Owner`."""
    named: dict[str, str] = {}
    first_row: dict[str, str | None] = {}
    for item in items:
        if item.objective is None:
            continue
        first_row.setdefault(item.objective, item.owner)
        if item.objective_owner and item.objective not in named:
            named[item.objective] = item.objective_owner
    return {
        objective: owner
        for objective in first_row
        if (owner := named.get(objective) or first_row[objective])
    }


def objective_teams(items: Iterable[Item]) -> dict[str, str]:
    """Each objective's team: the first `Team` given on its rows."""
    teams: dict[str, str] = {}
    for item in items:
        if item.objective is not None and item.team and item.objective not in teams:
            teams[item.objective] = item.team
    return teams


def team_of(team: str | None, objective: str | None, teams: dict[str, str]) -> str | None:
    """A key result's team: its own `Team` cell, else its objective's (`objective_teams`)."""
    return team or (teams.get(objective) if objective else None)


def _describe(item: Item) -> str:
    """'Grow / Leads (Off track, Ana)': enough to find the row."""
    owner = f", {item.owner}" if item.owner else ""
    return f"{item.name} ({item.status.value}{owner})"


def needs_attention(status: Status) -> bool:
    """Named in a Needs attention cell: the red statuses, and Invalid (a key result that cannot
    be scored until someone fixes its row; a team of only those is not one with nothing to do)."""
    return status.needs_attention or status is Status.INVALID


def _group(items: Iterable[tuple[str, Item]]) -> list[Group]:
    groups: dict[str, Group] = {}
    for key, item in items:
        group = groups.get(folded := key.casefold())
        if group is None:  # not setdefault: that would build a Group for every item
            group = groups[folded] = Group(key)
        group.counts[item.status] += 1
        if needs_attention(item.status):
            group.attention.append(_describe(item))
    return sorted(groups.values(), key=lambda g: g.name.casefold())


def by_team(items: Sequence[Item], *, unassigned: str | None = None) -> list[Group]:
    """One group per team (alphabetical); key results without a team are left out, or grouped
    last under `unassigned` (the report page shows every key result)."""
    teams = objective_teams(items)
    groups = _group(
        (team, item) for item in items if (team := team_of(item.team, item.objective, teams))
    )
    if unassigned is not None:
        groups += _group(
            (unassigned, item) for item in items if not team_of(item.team, item.objective, teams)
        )
    return groups


def by_owner(items: Sequence[Item]) -> list[Group]:
    """One group per objective owner (alphabetical): the key results of the objectives they own."""
    owners = objective_owners(items)
    return _group(
        (owner, item)
        for item in items
        if item.objective is not None and (owner := owners.get(item.objective))
    )


def attention_listed(group: Group) -> tuple[list[str], int]:
    """The items named (the first MAX_ATTENTION_LISTED) and how many more there are."""
    listed = group.attention[:MAX_ATTENTION_LISTED]
    return listed, len(group.attention) - len(listed)


def attention_text(group: Group) -> str:
    """The Needs attention cell: the items that need attention by name, the rest counted."""
    listed, more = attention_listed(group)
    return "; ".join(listed) + (f"; and {more} more" if more > 0 else "")


def group_rows(
    title: str, heading: str, groups: Sequence[Group], statuses: Sequence[Status]
) -> tuple[list[list[CellValue]], dict[tuple[int, int], Colour]]:
    """A Summary section: a heading, a header row, then one row per group.

    Rows and fills are relative to the section (row 1 is the heading); the Needs attention
    cell is red when anything needs attention.
    """
    rows: list[list[CellValue]] = [
        [title],
        [heading, "Key results", *[s.value for s in statuses], "Needs attention"],
    ]
    fills: dict[tuple[int, int], Colour] = {}
    for group in groups:
        rows.append(
            [
                group.name,
                group.total,
                *[group.counts.get(s, 0) for s in statuses],
                attention_text(group) or None,
            ]
        )
        if group.attention:
            fills[(len(rows), len(statuses) + 3)] = Colour.RED
    return rows, fills
