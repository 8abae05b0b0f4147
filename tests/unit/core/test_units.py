"""Numbers are shown the way the person's own cell shows them, and read back the same."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.core.parse import parse_number, read_number
from sheetsync.core.units import (
    GENERAL,
    NumberStyle,
    format_number,
    number_format_code,
    style_from_format,
    with_unit,
)


@pytest.mark.parametrize(
    ("typed", "value", "shown"),
    [
        ("11.5%", 0.115, "11.5%"),
        ("15%", 0.15, "15%"),
        ("$612,500", 612_500, "$612,500"),
        ("$10,900", 10_800, "$10,800"),
        ("20k", 21_500, "21.5k"),
        ("80 €", 80, "80 €"),
        ("4.5", 4.3, "4.3"),
        ("4.50", 4.3, "4.30"),
    ],
)
def test_a_number_is_shown_the_way_its_cell_was_typed(typed, value, shown):
    _, style = read_number(typed)
    assert format_number(value, style) == shown


@pytest.mark.parametrize(
    ("code", "value", "shown"),
    [
        ("0%", 0.115, "11.5%"),  # the format's decimals are a minimum, never a rounding
        ("0.0%", 0.86, "86.0%"),
        ('"$"#,##0', 612_500, "$612,500"),
        ("\\$#,##0.00", 612_500, "$612,500.00"),
        ("[$€-407] #,##0.00", 80_000, "€ 80,000.00"),
        ('#,##0.0 "h"', 3.6, "3.6 h"),
        ("[Red]#,##0;[Blue](#,##0)", -5_000, "-5,000"),
        ("#,##0.00_);(#,##0.00)", 1234.5, "1,234.50"),
        ('0.0,,"M"', 1_500_000, "1.5M"),
        ("General", 47_200, "47200"),
        ("yyyy-mm-dd", 4.5, "4.5"),
    ],
)
def test_a_number_is_shown_the_way_its_cells_number_format_shows_it(code, value, shown):
    assert format_number(value, style_from_format(code)) == shown


def test_a_kpis_unit_is_added_when_the_cell_shows_none():
    assert format_number(3.6, with_unit(GENERAL, "h")) == "3.6 h"
    assert format_number(47_200, with_unit(GENERAL, "$")) == "$47,200"
    assert format_number(78, with_unit(GENERAL, "%")) == "78%"
    assert format_number(0.78, with_unit(style_from_format("0%"), "%")) == "78%"


def test_a_comma_decimal_workbook_sees_its_own_separators():
    _, style = read_number("€80.000", ",")
    assert format_number(80_000, style) == "€80.000"
    assert format_number(4.5, style) == "€4,5"


def test_float_noise_is_never_shown():
    assert format_number(0.1 + 0.2) == "0.3"
    assert format_number(0.15 - 0.115, style_from_format("0%")) == "3.5%"


def test_the_format_code_for_history_cells_keeps_the_persons_own_code():
    assert number_format_code(style_from_format('"$"#,##0')) == '"$"#,##0'
    assert number_format_code(read_number("$612,500")[1]) == '"$"#,##0'
    assert number_format_code(read_number("11.5%")[1]) == "0.0%"
    assert number_format_code(GENERAL) == "General"


_STYLES = st.builds(
    NumberStyle,
    prefix=st.sampled_from(["", "$", "€", "£ "]),
    suffix=st.sampled_from(["", " €"]),
    percent=st.booleans(),
    decimals=st.none() | st.integers(0, 4),
    thousands=st.booleans(),
    magnitude=st.sampled_from(["", "k", "M"]),
    decimal_comma=st.booleans(),
).filter(
    lambda s: (
        not (s.prefix and s.suffix) and not (s.percent and (s.prefix or s.suffix or s.magnitude))
    )
)
"""Styles real cells have (no format shows both a currency and a percent)."""

_TYPED = st.decimals(
    min_value=Decimal("-1e10"), max_value=Decimal("1e10"), places=4, allow_nan=False
).map(float)
"""Numbers as people type them: up to 15 significant digits."""


@given(_TYPED, _STYLES)
def test_a_number_formatted_and_parsed_back_is_the_same_number(value, style):
    text = format_number(value, style)
    assert parse_number(text, "," if style.decimal_comma else ".") == value, text


@given(st.floats(min_value=-1e15, max_value=1e15, allow_nan=False), _STYLES)
def test_any_computed_number_reads_back_within_float_noise(value, style):
    text = format_number(value, style)
    back = parse_number(text, "," if style.decimal_comma else ".")
    assert back == pytest.approx(value, rel=1e-11, abs=1e-300), text
