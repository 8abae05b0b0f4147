"""Cascading objectives: parents by ID or text, bad parents on their cell, scores rolled up."""

from datetime import date

import pytest

from sheetsync.core.alignment import (
    ChildObjective,
    link_objectives,
    parse_child_summary,
    roll_up,
    tree_rows,
)
from sheetsync.core.model import Period, Status
from sheetsync.core.owned import OWNED_MARKER
from sheetsync.core.scoring import Rules, score_key_result, score_objective
from sheetsync.core.validate import read_okrs

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
AS_OF = date(2026, 11, 15)  # expected progress 0.5
HEAD = ["Objective ID", "Objective", "Parent", "Objective weight", "Key Result", "Target"]
HEAD += ["Current"]


def tree(*rows, workbook="Company", workbooks=(), parents=(), children=(), mode="weighted"):
    tab = read_okrs([HEAD, *rows], "OKRs", default_period=Q4)
    tab, links = link_objectives(
        tab, workbook=workbook, workbooks=workbooks, parent_workbooks=parents
    )
    rules = Rules()
    scores = [score_key_result(kr, AS_OF, rules) for kr in tab.key_results]
    names = list(dict.fromkeys(s.key_result.objective for s in scores))
    objectives = [
        score_objective(n, [s for s in scores if s.key_result.objective == n], AS_OF, rules)
        for n in names
    ]
    aligned = roll_up(
        tab.objective_names,
        links,
        objectives,
        scores,
        children,
        workbook=workbook,
        as_of=AS_OF,
        rules=rules,
        mode=mode,
    )
    return tab, aligned


def node(aligned, name):
    return next(n for n in aligned.nodes if n.name == name)


def test_children_named_by_id_or_text_sit_below_their_parent_and_roll_up_by_weight():
    _, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        ["S1", "Win EMEA", "C1", 3, "EMEA deals", 10, 2],
        [None, "Win the US", "Grow revenue", None, "US deals", 10, 10],
    )
    assert [(n.name, n.depth) for n in aligned.nodes] == [
        ("Grow revenue", 0),
        ("Win EMEA", 1),
        ("Win the US", 1),
    ]
    parent = node(aligned, "Grow revenue")
    # own KR 0.8 (weight 1), EMEA 0.2 (weight 3), US 1.0 (weight 1): (0.8 + 0.6 + 1.0) / 5
    assert parent.score == pytest.approx(0.48)
    # status points: own On track 1 x 1, EMEA Off track 0 x 3, US Done 1 x 1: 2 / 5 = 0.4
    assert parent.status is Status.OFF_TRACK
    assert parent.children == 2
    assert "includes 2 child objectives" in parent.note
    rolled = {o.name: o for o in aligned.objectives}
    assert rolled["Grow revenue"].score == pytest.approx(0.48)
    assert rolled["Win EMEA"].score == pytest.approx(0.2)
    assert aligned.used


def test_mean_roll_up_counts_every_child_once_whatever_its_weight():
    _, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        ["S1", "Win EMEA", "C1", 3, "EMEA deals", 10, 2],
        mode="mean",
    )
    assert node(aligned, "Grow revenue").score == pytest.approx(0.5)


def test_a_parent_with_no_key_results_of_its_own_is_the_mean_of_its_children():
    _, aligned = tree(
        ["C1", "Be the best", None, None, None, None, None],
        [None, "Win EMEA", "C1", None, "EMEA deals", 10, 2],
        [None, "Win the US", "C1", None, "US deals", 10, 10],
    )
    assert node(aligned, "Be the best").score == pytest.approx(0.6)
    assert [o.name for o in aligned.objectives] == ["Be the best", "Win EMEA", "Win the US"]


def test_an_unknown_parent_makes_its_row_invalid_naming_the_cell():
    tab, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        [None, "Win EMEA", "C9", None, "EMEA deals", 10, 2],
    )
    (bad,) = tab.invalid
    (problem,) = bad.problems
    assert (bad.row, problem.cell, problem.value) == (3, "C3", "C9")
    assert "no objective with ID or text 'C9'" in problem.message
    assert [kr.text for kr in tab.key_results] == ["Revenue"]
    assert not aligned.used


def test_a_cycle_is_a_problem_on_every_parent_cell_in_it():
    tab, aligned = tree(
        ["A", "Alpha", "C", None, "a", 10, 5],
        ["B", "Beta", "A", None, "b", 10, 5],
        ["C", "Gamma", "B", None, "c", 10, 5],
        ["D", "Delta", "A", None, "d", 10, 5],
    )
    cells = sorted(p.cell for bad in tab.invalid for p in bad.problems)
    assert cells == ["C2", "C3", "C4"]
    message = tab.invalid[0].problems[0].message
    assert message == "Parent makes a cycle: Alpha -> Gamma -> Beta -> Alpha"
    assert [n.name for n in aligned.nodes] == ["Alpha", "Delta", "Beta", "Gamma"]


def test_an_objective_that_is_its_own_parent_is_a_cycle():
    tab, _ = tree(["A", "Alpha", "Alpha", None, "a", 10, 5])
    assert "cycle: Alpha -> Alpha" in tab.invalid[0].problems[0].message


def test_conflicting_parents_for_one_objective_are_refused_on_the_later_row():
    tab, _ = tree(
        ["C1", "Grow", None, None, "a", 10, 5],
        ["C2", "Keep", None, None, "b", 10, 5],
        [None, "Win", "C1", None, "c", 10, 5],
        [None, None, "C2", None, "d", 10, 5],
    )
    (bad,) = tab.invalid
    assert bad.row == 5
    assert "Parent differs from 'C1' given at C4" in bad.problems[0].message


def test_a_parent_in_another_workbook_must_be_one_that_reads_this_workbook():
    row = [None, "Win EMEA", "Company OKRs: C1", None, "EMEA deals", 10, 2]
    tab, _ = tree(row, workbook="Sales", workbooks=["Company OKRs", "Sales"])
    assert "does not read this workbook's objectives" in tab.invalid[0].problems[0].message
    assert tab.invalid[0].problems[0].expected.startswith('children = ["Sales"]')
    tab, aligned = tree(
        row, workbook="Sales", workbooks=["Company OKRs", "Sales"], parents=["Company OKRs"]
    )
    assert not tab.invalid
    (only,) = aligned.nodes
    assert only.parent == "Company OKRs: C1" and only.parent_cell == "OKRs!C2"


def test_text_with_a_colon_that_names_no_workbook_is_a_local_parent():
    tab, aligned = tree(
        [None, "Growth: EMEA", None, None, "a", 10, 5],
        [None, "Win Paris", "Growth: EMEA", None, "b", 10, 5],
        workbooks=["Company"],
    )
    assert not tab.invalid
    assert node(aligned, "Win Paris").depth == 1


def child(name, score, status, *, parent="Company: C1", as_of=AS_OF, expected=0.5, weight=1.0):
    return ChildObjective(
        "Sales", as_of, name, None, score, status, expected, weight, parent, "OKRs!C2"
    )


def test_child_workbook_objectives_roll_into_the_parent_they_name():
    _, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        children=[child("Win EMEA", 0.2, Status.OFF_TRACK, weight=3)],
    )
    parent, remote = aligned.nodes
    assert parent.score == pytest.approx((0.8 + 0.6) / 4)
    assert (remote.workbook, remote.depth, remote.as_of, remote.stale) == (
        "Sales",
        1,
        AS_OF,
        False,
    )


def test_a_child_workbook_synced_long_ago_is_flagged_stale_but_still_counts():
    _, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        children=[child("Win EMEA", 1.0, Status.DONE, as_of=date(2026, 11, 1))],
    )
    parent, remote = aligned.nodes
    assert remote.stale and "last synced 2026-11-01" in remote.note
    assert "'Sales' is stale" in parent.note
    assert parent.score == pytest.approx(0.9)


def test_a_child_naming_a_missing_parent_is_listed_as_a_problem_of_the_parent_workbook():
    _, aligned = tree(
        ["C1", "Grow revenue", None, None, "Revenue", 100, 80],
        children=[child("Win EMEA", 0.2, Status.OFF_TRACK, parent="Company: C7")],
    )
    (problem,) = aligned.problems
    assert (problem.tab, problem.cell, problem.value) == ("'Sales' OKRs", "C2", "Company: C7")
    assert len(aligned.nodes) == 1


def test_the_summary_tree_reads_back_as_the_child_objectives_a_parent_needs():
    _, aligned = tree(
        [None, "Win EMEA", "Company OKRs: C1", 2, "EMEA deals", 10, 2],
        ["S2", "Win Paris", "Win EMEA", None, "Paris deals", 10, 8],
        workbook="Sales",
        workbooks=["Company OKRs", "Sales"],
        parents=["Company OKRs"],
    )
    rows, _ = tree_rows(aligned.nodes)
    assert rows[3][0] == "    ↳ Win Paris"
    grid = [[f"{OWNED_MARKER}: summary"], ["As of", "2026-11-15"], [], *rows, [], ["KPI health"]]
    (found,) = parse_child_summary("Sales", grid)
    assert (found.name, found.weight, found.parent, found.parent_cell) == (
        "Win EMEA",
        2,
        "Company OKRs: C1",
        "OKRs!C2",
    )
    assert found.score == pytest.approx(0.5) and found.as_of == AS_OF
    assert found.status is node(aligned, "Win EMEA").status
