"""Numbers, yes/no values, periods and directions as people type them."""

import contextlib
from datetime import date, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.core.model import Direction, KrType
from sheetsync.core.parse import (
    ParseError,
    a1,
    column_letter,
    normalise_header,
    parse_direction,
    parse_done,
    parse_kr_type,
    parse_number,
    parse_period,
)


@pytest.mark.parametrize(
    ("typed", "meaning"),
    [
        ("15%", 0.15),
        ("$50,000", 50000),
        ("1,200", 1200),
        ("4.5", 4.5),
        ("12k", 12000),
        ("1.5M", 1_500_000),
        ("€1,000.50", 1000.5),
        ("(5)", -5),
        ("-3", -3),
        (" 7 ", 7),
        ("2 %", 0.02),
        (0.15, 0.15),
        (42, 42),
    ],
)
def test_numbers_typed_the_way_people_type_them(typed, meaning):
    assert parse_number(typed) == pytest.approx(meaning)


@pytest.mark.parametrize("typed", ["4,5", "abc", "1,20", "$5$", "", "12 apples", True, None])
def test_text_that_is_not_a_number_is_refused_with_what_was_expected(typed):
    with pytest.raises(ParseError) as err:
        parse_number(typed)
    assert "number" in err.value.expected


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=-1e12, max_value=1e12))
def test_a_number_written_as_text_reads_back_as_the_same_number(x):
    assert parse_number(f"{x:.6f}") == pytest.approx(round(x, 6), abs=1e-6)


@given(st.integers(min_value=0, max_value=10**12))
def test_thousands_separators_and_currency_never_change_the_value(n):
    assert parse_number(f"${n:,}") == n
    assert parse_number(f"{n:,}") == n


@given(st.decimals(min_value=0, max_value=1000, places=2))
def test_percent_text_means_a_hundredth(d):
    assert parse_number(f"{d}%") == pytest.approx(float(d) / 100)


@given(st.text())
def test_the_number_parser_only_ever_returns_a_float_or_raises_parse_error(text):
    with contextlib.suppress(ParseError):
        assert isinstance(parse_number(text), float)


@pytest.mark.parametrize("typed", ["done", "Yes", "TRUE", 1, "✓", True, "x"])
def test_milestone_done_values(typed):
    assert parse_done(typed) is True


@pytest.mark.parametrize("typed", [None, "", "no", "false", 0, False, "pending"])
def test_milestone_not_done_values(typed):
    assert parse_done(typed) is False


def test_milestone_gibberish_is_refused():
    with pytest.raises(ParseError):
        parse_done("maybe")


@pytest.mark.parametrize(
    ("typed", "start", "end"),
    [
        ("2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("Q4 2026", date(2026, 10, 1), date(2026, 12, 31)),
        ("q1-2027", date(2027, 1, 1), date(2027, 3, 31)),
        ("2026", date(2026, 1, 1), date(2026, 12, 31)),
        (2026, date(2026, 1, 1), date(2026, 12, 31)),
        ("2026-11", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-H1", date(2026, 1, 1), date(2026, 6, 30)),
        ("Nov 2026", date(2026, 11, 1), date(2026, 11, 30)),
        ("2026-12-15", date(2026, 10, 1), date(2026, 12, 15)),
        (datetime(2026, 12, 15), date(2026, 10, 1), date(2026, 12, 15)),
        (46371, date(2026, 10, 1), date(2026, 12, 15)),  # a Google Sheets date serial
    ],
)
def test_periods(typed, start, end):
    period = parse_period(typed)
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize("typed", ["Q5 2026", "soon", "2026-13", "2026-02-30", "", 12])
def test_unparseable_periods_are_refused(typed):
    with pytest.raises(ParseError):
        parse_period(typed)


def test_expected_progress_runs_from_zero_to_one_through_the_period():
    q4 = parse_period("2026-Q4")
    assert q4.expected_progress(date(2026, 9, 30)) == 0
    assert q4.expected_progress(date(2026, 12, 31)) == 1
    assert q4.expected_progress(date(2026, 11, 15)) == pytest.approx(46 / 92)


def test_types_and_directions_accept_common_spellings():
    assert parse_kr_type("Stay Above") is KrType.STAY_ABOVE
    assert parse_kr_type("stay_below") is KrType.STAY_BELOW
    assert parse_kr_type(None) is KrType.METRIC
    assert parse_direction("Decrease") is Direction.DECREASE
    assert parse_direction("") is None
    with pytest.raises(ParseError):
        parse_kr_type("stretch")
    with pytest.raises(ParseError):
        parse_direction("sideways")


def test_headers_match_ignoring_case_spaces_underscores_and_dashes():
    assert normalise_header("Key Result") == normalise_header("key_result") == "keyresult"
    assert normalise_header(" KR-ID ") == "krid"


def test_a1_references():
    assert column_letter(1) == "A"
    assert column_letter(27) == "AA"
    assert a1(5, 28) == "AB5"


def test_a_sign_inside_brackets_is_refused_not_turned_positive():
    with pytest.raises(ParseError) as err:
        parse_number("(-5)")
    assert "sign inside brackets" in str(err.value)


@pytest.mark.parametrize("typed", ["9" * 309, "1" + "0" * 400, "-" + "9" * 320, "9" * 310 + "k"])
def test_text_too_large_for_a_number_is_refused_not_read_as_infinity(typed):
    with pytest.raises(ParseError) as err:
        parse_number(typed)
    assert "too large" in str(err.value)


@pytest.mark.parametrize("typed", ["€80.000", "€250.000", "1.500", "1.234.567", "1.234,5", "4,5"])
def test_euro_style_text_is_reported_as_ambiguous_until_the_locale_is_configured(typed):
    with pytest.raises(ParseError) as err:
        parse_number(typed)
    assert "ambiguous" in str(err.value)
    assert '[parsing] decimal = ","' in err.value.expected


@pytest.mark.parametrize(
    ("typed", "meaning"),
    [("€80.000", 80_000), ("€250.000", 250_000), ("4,5", 4.5), ("1.234,5", 1234.5),
     ("80 000", 80_000), ("12,5%", 0.125)],
)  # fmt: skip
def test_a_comma_decimal_workbook_reads_its_own_numbers(typed, meaning):
    assert parse_number(typed, ",") == pytest.approx(meaning)


def test_a_configured_dot_decimal_locale_reads_three_decimals_as_decimals():
    assert parse_number("80.000", ".") == 80
    assert parse_number("1,500", ".") == 1500


@pytest.mark.parametrize("typed", ["4.5", "1,234.5"])
def test_a_comma_decimal_workbook_refuses_dot_decimals(typed):
    with pytest.raises(ParseError):
        parse_number(typed, ",")
