"""Check-ins: the owner's `Confidence` in a key result and the date they last `Updated` it.

Confidence is a number from 1 to 10 or a word, Low, Medium or High; the words count as 3, 5
and 7 points, so a drop of 3 points or more (the alert) is, in words, High to Low. The Note
shows it next to the score ("confidence 7/10"). A key result with an `Updated` date is stale
when that date is older than the item's cadence (the alerts' `stale_after_days`), whatever
its value does: a check-in, not an unchanged number, says whether someone looked. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sheetsync.core.model import Confidence, KeyResultScore
from sheetsync.core.parse import ParseError, parse_period, text_or_none

CONFIDENCE_WORDS = {"low": 3.0, "medium": 5.0, "high": 7.0}
"""The words' points on the 1-10 scale: High -> Low is a drop of 4, Medium -> Low only 2."""
CONFIDENCE_DROP = 3.0
"""A fall of this many points since the previous run is an alert to the owner."""
_CONFIDENCE_EXPECTED = "a confidence from 1 to 10, or Low, Medium or High"


def parse_confidence(value: object) -> Confidence | None:
    """A `Confidence` cell: blank, a number from 1 to 10, or Low/Medium/High (any case)."""
    text = text_or_none(value)
    if text is None:
        return None
    if text.casefold() in CONFIDENCE_WORDS:
        return Confidence(CONFIDENCE_WORDS[text.casefold()], text.capitalize())
    try:
        points = float(text)
    except ValueError as exc:
        raise ParseError(_CONFIDENCE_EXPECTED, "is not a confidence") from exc
    if not 1 <= points <= 10:
        raise ParseError(_CONFIDENCE_EXPECTED, "confidence is outside 1 to 10")
    return Confidence(points)


def confidence_of_points(points: float | None) -> Confidence | None:
    """A confidence as History recorded it (its points), shown with its word when it is one."""
    if points is None:
        return None
    word = next((w.capitalize() for w, p in CONFIDENCE_WORDS.items() if p == points), None)
    return Confidence(points, word)


def parse_checkin(value: object) -> date:
    """An `Updated` cell: the date of the owner's last check-in (a date cell or 2026-11-15)."""
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ParseError("a date such as 2026-11-15", "is not a date") from exc
    try:
        return parse_period(value).end
    except ParseError as exc:
        raise ParseError("a date such as 2026-11-15", "is not a date") from exc


def with_confidence(score: KeyResultScore) -> KeyResultScore:
    """The score with the owner's confidence at the front of its Note."""
    confidence = score.key_result.confidence
    if confidence is None:
        return score
    shown = f"confidence {confidence}"
    return replace(score, note="; ".join(n for n in (shown, score.note) if n))


def confidence_dropped(before: float | None, now: float | None) -> bool:
    """Whether confidence fell by CONFIDENCE_DROP points or more (High -> Low in words)."""
    return before is not None and now is not None and before - now >= CONFIDENCE_DROP
