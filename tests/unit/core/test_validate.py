"""Validation: every problem located to its cell, a bad row never stops the others."""

from datetime import date

import pytest

from sheetsync.core.layout import OKR_REQUIRED, LayoutProblem, OwnColumns, header_key
from sheetsync.core.model import Period
from sheetsync.core.validate import read_kpis, read_okrs

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
HEAD = ["ID", "Objective", "Key Result", "Owner", "Start", "Target", "Current", "Direction"]


def okrs(*rows, head=HEAD, **kw):
    return read_okrs([head, *rows], "OKRs", default_period=Q4, **kw)


def only_problem(tab):
    assert len(tab.invalid) == 1
    (problem,) = tab.invalid[0].problems
    return problem


def test_headers_are_found_by_alias_in_any_order_and_unknown_columns_ignored():
    head = ["Notes", "KR", "Goal", "objective", "Actual", "baseline", "Team"]
    tab = okrs(["x", "Leads", 100, "Grow", 50, 10, "Sales"], head=head)
    (kr,) = tab.key_results
    assert (kr.text, kr.target, kr.current, kr.start, kr.objective) == (
        "Leads",
        100,
        50,
        10,
        "Grow",
    )
    assert tab.layout.outputs == {"Score": 8, "Status": 9, "Note": 10, "Trend": 11}


def test_header_row_is_the_first_non_empty_row():
    tab = read_okrs(
        [[], [None, None], HEAD, ["K1", "O", "KR", None, 0, 10, 5]], "OKRs", default_period=Q4
    )
    assert tab.layout.header_row == 3
    assert tab.key_results[0].row == 4


def test_a_persons_own_status_and_score_columns_are_never_taken_over():
    tab = okrs(["K1", "O", "KR", None, 0, 10, 5], head=[*HEAD, "Status", "score"])
    assert tab.layout.outputs == {"Score": 11, "Status": 12, "Note": 13, "Trend": 14}
    assert tab.layout.output_headers["Status"] == "Status (sheetsync)"
    assert tab.layout.output_headers["Score"] == "Score (sheetsync)"
    assert tab.layout.output_headers["Note"] == "Note", "no clash, no rename"
    assert tab.layout.other_columns == {9: "Status", 10: "score"}
    assert "Status to L (new column 'Status (sheetsync)')" in tab.layout.describe()


def test_the_name_for_a_clashing_column_is_configurable_and_never_clashes_itself():
    head = [*HEAD, "Status", "sheetsync Status"]
    tab = okrs(
        ["K1", "O", "KR", None, 0, 10, 5], head=head, own=OwnColumns(if_taken="sheetsync {name}")
    )
    assert tab.layout.output_headers["Status"] == "sheetsync Status 2"


def test_marked_columns_are_sheetsyncs_wherever_they_are_and_are_never_read_as_fields():
    head = [*HEAD, "Current value (sheetsync)", "Status"]
    marked = {"Score": 9, "Status": 10, "Note": 11, "Trend": 12}
    tab = okrs(["K1", "O", "KR", None, 0, 10, 5, 0.5], head=head, own=OwnColumns(marked))
    assert tab.layout.outputs == marked
    assert tab.layout.columns["current"] == 7
    assert tab.layout.new_outputs == [] and tab.layout.unmarked == []


def test_a_workbook_synced_before_marking_has_its_columns_recognised_by_name_once():
    head = [*HEAD, "Score", "Status", "Note"]
    tab = okrs(["K1", "O", "KR", None, 0, 10, 5], head=head, own=OwnColumns(adopt_by_name=True))
    assert tab.layout.outputs == {"Score": 9, "Status": 10, "Note": 11, "Trend": 12}
    assert tab.layout.new_outputs == ["Trend"]
    assert tab.layout.unmarked == ["Score", "Status", "Note", "Trend"]
    assert tab.layout.style_from == 8, "the person's last header cell"


def test_blank_objective_means_the_objective_of_the_row_above():
    tab = okrs(["K1", "Grow", "A", None, 0, 10, 5], ["K2", None, "B", None, 0, 10, 5])
    assert [kr.objective for kr in tab.key_results] == ["Grow", "Grow"]


def test_a_row_naming_only_an_objective_groups_the_rows_below():
    tab = okrs([None, "Grow"], ["K1", None, "A", None, 0, 10, 5])
    assert tab.objective_rows == [2]
    assert tab.key_results[0].objective == "Grow"


def test_missing_required_column_is_a_tab_level_error_naming_the_header_cells():
    with pytest.raises(LayoutProblem) as err:
        okrs(head=["Objective", "Key Result", "Current"])
    assert err.value.problem.cell == "A1:C1"
    assert "Target" in err.value.problem.message


def test_a_second_table_stacked_below_is_refused_naming_its_header_row():
    row = ["K1", "Grow", "Ship it", "ana@example.com", 0, 10, 5, ""]
    with pytest.raises(LayoutProblem) as err:
        okrs(row, row, [], HEAD, row)
    assert err.value.problem.cell == "A5"
    assert "headers in rows 1 and 5" in err.value.problem.message


def test_text_in_a_number_column_that_is_no_header_row_is_only_a_bad_cell():
    tab = okrs(["K1", "Grow", "Ship it", "ana@example.com", 0, "Target", 5, ""])
    assert "Target" in only_problem(tab).message


def test_text_where_a_number_belongs_names_cell_value_and_expectation():
    tab = okrs(["K1", "O", "KR", None, 0, "lots", 5], ["K2", "O", "KR2", None, 0, 10, 5])
    p = only_problem(tab)
    assert (p.cell, p.value) == ("F2", "lots")
    assert "number" in p.expected
    assert len(tab.key_results) == 1, "the other row is still scored"


def test_target_equal_to_start_is_an_error_not_a_division_by_zero():
    p = only_problem(okrs(["K1", "O", "KR", None, 5, 5, 5]))
    assert p.cell == "F2"
    assert "Target equals Start" in p.message


def test_direction_contradicting_start_and_target_is_an_error():
    p = only_problem(okrs(["K1", "O", "KR", None, 4, 2, 3, "increase"]))
    assert p.cell == "H2"


def test_unknown_type_is_an_error():
    head = [*HEAD, "Type"]
    p = only_problem(okrs(["K1", "O", "KR", None, 0, 10, 5, None, "stretch"], head=head))
    assert p.cell == "I2"
    assert "metric, milestone" in p.expected


def test_duplicate_id_points_at_the_first_occurrence():
    tab = okrs(["K1", "O", "A", None, 0, 10, 5], ["k1", "O", "B", None, 0, 10, 5])
    p = only_problem(tab)
    assert p.cell == "A3"
    assert "A2" in p.message


def test_unknown_kpi_link_is_an_error():
    head = [*HEAD, "KPI"]
    tab = okrs(["K1", "O", "KR", None, 0, 10, None, None, "Nope"], head=head, kpi_names={})
    assert only_problem(tab).cell == "I2"


def test_unparseable_period_is_an_error():
    head = [*HEAD, "Period"]
    p = only_problem(okrs(["K1", "O", "KR", None, 0, 10, 5, None, "soonish"], head=head))
    assert p.cell == "I2"


def test_an_invalid_row_reports_every_problem_at_once():
    tab = okrs(["K1", "O", "KR", None, "x", "y", "z"])
    assert [p.cell for p in tab.invalid[0].problems] == ["E2", "F2", "G2"]
    assert "E2" in tab.invalid[0].note and "'x'" in tab.invalid[0].note


def test_kpis_default_warning_is_ten_percent_worse_than_target():
    grid = [
        ["KPI", "Direction", "Target", "Actual"],
        ["Revenue", None, 100, 95],
        ["CPA", "lower", 40, 41],
    ]
    tab = read_kpis(grid, "KPIs")
    assert [k.warning for k in tab.kpis] == [pytest.approx(90), pytest.approx(44)]


def test_kpi_duplicate_names_and_wrong_side_warning_are_errors():
    grid = [
        ["KPI", "Direction", "Target", "Warning", "Actual"],
        ["Revenue", None, 100, None, 95],
        ["revenue", None, 100, None, 95],
        ["CPA", "lower", 40, 30, 41],
    ]
    tab = read_kpis(grid, "KPIs")
    assert [b.problems[0].cell for b in tab.invalid] == ["A3", "D4"]


def test_a_blank_required_number_says_it_is_blank():
    p = only_problem(okrs(["K1", "O", "KR", None, 0, None, 5]))
    assert p.message == "Target is blank but required"


def test_a_bad_period_says_what_is_expected_once():
    head = [*HEAD, "Period"]
    tab = okrs(["K1", "O", "KR", None, 0, 10, 5, None, "soonish"], head=head)
    assert tab.invalid[0].note.count("2026-Q4") == 0
    assert only_problem(tab).describe().count("expected") == 1


def test_a_kpi_link_to_an_invalid_kpi_names_the_kpis_tab_cell():
    head = [*HEAD, "KPI"]
    tab = okrs(
        ["K1", "O", "KR", None, 0, 10, None, None, "Bad"],
        head=head,
        invalid_kpis={"bad": "KPIs!A2"},
    )
    assert "KPIs!A2" in only_problem(tab).message


@pytest.mark.parametrize(
    ("header", "field"),
    [
        ("Start Value", "start"),
        ("Baseline Value", "start"),
        ("Base", "start"),
        ("Target Value", "target"),
        ("Current Value", "current"),
        ("Actual Value", "current"),
        ("Current Actual Value", "current"),
        ("Objectives", "objective"),
        ("Key Results", "key_result"),
        ("key_results", "key_result"),
        ("KR IDs", "id"),
        ("Target ($)", "target"),
        ("Value", "current"),
    ],
)
def test_header_names_real_templates_use_are_recognised(header, field):
    head = ["Objective", "Key Result", "Target", "Current"]
    head = [header if f == field else h for h, f in zip(head, OKR_REQUIRED, strict=True)]
    if field not in OKR_REQUIRED:
        head.append(header)
    tab = okrs(["Grow", "Leads", 10, 5, 1][: len(head)], head=head)
    assert tab.layout.columns[field] == head.index(header) + 1


def test_kpi_names_from_real_templates():
    for header in ("KPI Name", "Metric / KPI", "KPIs"):
        tab = read_kpis([[header, "Target Value", "Actual Value"], ["Revenue", 10, 9]], "KPIs")
        assert tab.kpis[0].name == "Revenue"


def test_header_key_ignores_case_punctuation_plurals_and_a_trailing_value():
    assert header_key("Key Results") == header_key("key_result") == header_key("KEY-RESULT")
    assert header_key("Current Value") == header_key("current") == "current"
    assert header_key("Status") == "status", "a word ending in -us is not a plural"
    assert header_key("KR #") != header_key("KR"), "a number column is not the key result"


def test_a_title_above_the_headers_is_skipped_and_the_header_row_reported():
    grid = [["Q4 2026 OKRs — Sales"], [], HEAD, ["K1", "O", "KR", None, 0, 10, 5]]
    tab = read_okrs(grid, "OKRs", default_period=Q4)
    assert tab.layout.header_row == 3
    assert "headers in row 3" in tab.layout.describe()
    assert [kr.row for kr in tab.key_results] == [4]


def test_headers_below_the_top_twenty_rows_are_not_looked_for():
    grid = [[f"note {i}"] for i in range(20)] + [HEAD, ["K1", "O", "KR", None, 0, 10, 5]]
    with pytest.raises(LayoutProblem) as err:
        read_okrs(grid, "OKRs", default_period=Q4)
    assert "no header row in the first 20 rows" in err.value.problem.message


def test_a_second_header_row_further_down_is_a_second_table():
    grid = [HEAD, ["K1", "O", "KR", None, 0, 10, 5], [], ["ID", "Objectives", *HEAD[2:]]]
    with pytest.raises(LayoutProblem) as err:
        read_okrs(grid, "OKRs", default_period=Q4)
    assert "rows 1 and 4" in err.value.problem.message


def test_a_second_column_for_one_field_is_a_warning_naming_the_column_used():
    tab = okrs(["K1", "O", "KR", None, 0, 10, 5, 7], head=[*HEAD[:7], "Actual Value"])
    (warning,) = tab.layout.warnings
    assert not warning.is_error
    assert "column H 'Actual Value' also looks like Current" in warning.message
    assert tab.key_results[0].current == 5


def test_two_key_results_with_the_same_objective_and_text_and_no_id_are_both_flagged():
    tab = okrs(
        [None, "Grow", "Revenue", None, 0, 10, 5],
        [None, None, "Leads", None, 0, 10, 5],
        [None, "Grow", "Revenue", None, 0, 10, 8],
    )
    assert [kr.text for kr in tab.key_results] == ["Leads"]
    assert [bad.row for bad in tab.invalid] == [2, 4]
    first, second = (bad.problems[0] for bad in tab.invalid)
    assert (first.cell, second.cell) == ("C2", "C4")
    assert "same Objective and Key Result as C4" in first.message
    assert "same Objective and Key Result as C2" in second.message
    assert "ID" in first.expected


def test_the_same_text_under_another_objective_or_with_an_id_is_told_apart():
    tab = okrs(
        [None, "Grow", "Revenue", None, 0, 10, 5],
        [None, "Keep", "Revenue", None, 0, 10, 5],
        ["K1", "Grow", "Revenue", None, 0, 10, 5],
        ["K2", "Grow", "Revenue", None, 0, 10, 5],
    )
    assert tab.invalid == []
    assert [kr.key for kr in tab.key_results] == ["Grow / Revenue", "Keep / Revenue", "K1", "K2"]


def test_an_ambiguous_row_that_is_already_invalid_gets_the_ambiguity_too():
    tab = okrs(
        [None, "Grow", "Revenue", None, 0, 10, "lots"],
        [None, "Grow", "Revenue", None, 0, 10, 8],
    )
    assert tab.key_results == []
    assert [[p.cell for p in bad.problems] for bad in tab.invalid] == [["G2", "C2"], ["C3"]]
