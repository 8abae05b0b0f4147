"""Reading check-ins: confidence as a number or a word, the Updated date, and what a drop is."""

from __future__ import annotations

from datetime import date

import pytest

from sheetsync.core.checkin import (
    confidence_dropped,
    confidence_of_points,
    parse_checkin,
    parse_confidence,
)
from sheetsync.core.model import Confidence
from sheetsync.core.parse import ParseError


def test_confidence_is_a_number_from_one_to_ten_or_a_word_in_any_case():
    assert parse_confidence(7) == Confidence(7.0)
    assert str(parse_confidence("7.5")) == "7.5/10"
    assert parse_confidence(" high ") == Confidence(7.0, "High")
    assert parse_confidence(None) is None


@pytest.mark.parametrize("value", [0, 11, "sure", "-1"])
def test_anything_else_is_not_a_confidence(value):
    with pytest.raises(ParseError):
        parse_confidence(value)


def test_three_points_down_is_a_drop_and_in_words_only_high_to_low_is():
    assert confidence_dropped(8, 5)
    assert not confidence_dropped(8, 6)
    words = {w: parse_confidence(w).points for w in ("Low", "Medium", "High")}
    assert confidence_dropped(words["High"], words["Low"])
    assert not confidence_dropped(words["High"], words["Medium"])
    assert not confidence_dropped(words["Medium"], words["Low"])
    assert not confidence_dropped(None, 1)


def test_a_recorded_confidence_comes_back_with_its_word():
    assert str(confidence_of_points(3.0)) == "Low"
    assert str(confidence_of_points(4.0)) == "4/10"


def test_updated_is_a_date():
    assert parse_checkin("2026-11-21") == date(2026, 11, 21)
    assert parse_checkin(date(2026, 11, 21)) == date(2026, 11, 21)
    with pytest.raises(ParseError):
        parse_checkin("last week")
