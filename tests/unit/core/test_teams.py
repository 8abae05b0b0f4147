"""Who owns what: teams filled per objective, objective owners, and the Needs attention cell."""

from __future__ import annotations

from sheetsync.core.model import Status
from sheetsync.core.teams import (
    MAX_ATTENTION_LISTED,
    Group,
    Item,
    attention_text,
    by_owner,
    by_team,
    objective_owners,
)


def item(objective, name, status=Status.ON_TRACK, owner=None, team=None, objective_owner=None):
    return Item(objective, f"{objective} / {name}", status, owner, team, objective_owner)


def test_the_objective_owner_column_wins_over_the_first_rows_owner_even_on_a_later_row():
    items = [item("Grow", "Leads", owner="Ana"), item("Grow", "Deals", objective_owner="Maria")]
    assert objective_owners(items) == {"Grow": "Maria"}


def test_without_an_objective_owner_the_first_rows_owner_owns_the_objective():
    items = [item("Ship", "Releases", owner="Cleo"), item("Ship", "Bugs", owner="Dan")]
    assert objective_owners(items) == {"Ship": "Cleo"}


def test_a_key_result_without_a_team_takes_its_objectives_team_and_teams_match_any_case():
    items = [
        item("Grow", "Leads", team="Sales"),
        item("Grow", "Deals", Status.OFF_TRACK, owner="Ben"),
        item("Ship", "Bugs", team="sales"),
        item("Other", "Loose"),
    ]
    [sales] = by_team(items)
    assert (sales.name, sales.total) == ("Sales", 3)
    assert sales.attention == ["Grow / Deals (Off track, Ben)"]


def test_objectives_without_any_owner_are_left_out_of_the_owner_view():
    assert by_owner([item("Grow", "Leads")]) == []


def test_a_long_needs_attention_list_names_the_first_ones_and_counts_the_rest():
    group = Group("Sales", attention=[f"KR {i}" for i in range(MAX_ATTENTION_LISTED + 3)])
    text = attention_text(group)
    assert text.startswith("KR 0; KR 1")
    assert text.endswith("; and 3 more")
