"""The owner's judgement over the computed status: `Status override` until `Override until`.

An override replaces the status sheetsync computed for a key result while it lasts; the Note
says so and what was computed ("overridden by owner until 15 Dec; computed: Off track"). An
override without a date lasts until the end of the key result's period. Once the date has
passed the computed status simply comes back: nothing needs to be cleared. Pure.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from sheetsync.core.model import KeyResultScore, Status
from sheetsync.core.parse import ParseError, text_or_none

OVERRIDABLE = (Status.DONE, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK)
"""What an owner may set: the statuses of a running period (grades come from the score)."""


def parse_override(value: object) -> Status | None:
    """A `Status override` cell: blank, or one of OVERRIDABLE (any case)."""
    text = text_or_none(value)
    if text is None:
        return None
    status = Status.parse(text)
    if status not in OVERRIDABLE:
        choices = ", ".join(s.value for s in OVERRIDABLE)
        raise ParseError(f"one of {choices}", "is not a status an owner can set")
    return status


def override_ends(score: KeyResultScore) -> date | None:
    """The last day the key result's override holds: its date, else its period's end."""
    kr = score.key_result
    if kr.override is None:
        return None
    return kr.override_until or (kr.period.end if kr.period else None)


def apply_override(score: KeyResultScore, as_of: date) -> KeyResultScore:
    """The score with the owner's status while the override holds; unchanged otherwise."""
    ends = override_ends(score)
    kr = score.key_result
    if kr.override is None or ends is None or as_of > ends:
        return score
    if kr.override is score.status:
        return score
    note = f"overridden by owner until {ends.day} {ends:%b}; computed: {score.status.value}"
    return replace(score, status=kr.override, note="; ".join(n for n in (note, score.note) if n))


def is_overridden(score: KeyResultScore, as_of: date) -> bool:
    """Whether the status shown is the owner's rather than the computed one."""
    ends = override_ends(score)
    return (
        ends is not None
        and as_of <= ends
        and score.key_result.override is score.status
        and score.note.startswith("overridden by owner")
    )
