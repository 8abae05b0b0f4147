"""Relative key results: a `Change` (`+30%`, `-2 h`) instead of a Target.

"Increase website traffic by 30%" needs the value the period started from. With a Start cell,
that is it; with a blank Start, it is the first value History recorded for the key result in
its period (or, on the period's first run, today's value, which History then keeps), so
nobody computes targets by hand. The target is Start × (1 + 30%) for a percent change, and
Start + the amount otherwise. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import replace
from datetime import date

from sheetsync.core.model import Change, Direction, KeyResult, KeyResultScore, KrType, Status
from sheetsync.core.parse import ParseError, read_number, text_or_none
from sheetsync.core.units import format_number

_CHANGE_EXPECTED = "a change such as +30%, -10% or -2 h (a sign, a number, % or a unit)"
_CHANGE = re.compile(r"^\s*([+\-−]?\s*[^A-Za-z]*?)\s*([A-Za-z]+)?\s*$")


def parse_change(value: object, decimal: str | None = None) -> Change:
    """A `Change` cell: a signed percent (`+30%`, relative to Start) or amount (`-2 h`)."""
    text = text_or_none(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if value == 0:
            raise ParseError(_CHANGE_EXPECTED, "a change of 0 sets no target")
        return Change(float(value), relative=False, text=str(text))
    match = _CHANGE.match(text or "")
    if text is None or match is None:
        raise ParseError(_CHANGE_EXPECTED, "is not a change")
    amount, style = read_number(match[1].replace("−", "-").replace(" ", ""), decimal)
    if amount == 0:
        raise ParseError(_CHANGE_EXPECTED, "a change of 0 sets no target")
    return Change(amount, relative=style.percent and not match[2], text=text)


def start_of_period(
    kr: KeyResult, recorded: Iterable[tuple[date, float | None]], as_of: date
) -> tuple[date, float] | None:
    """The first value History recorded for `kr` in its period before `as_of`, with its date."""
    if kr.period is None:
        return None
    within = [(d, v) for d, v in recorded if v is not None and kr.period.start <= d < as_of]
    if not within:
        return None
    day, value = min(within, key=lambda pair: pair[0])
    assert value is not None
    return day, value


def resolve_change(
    kr: KeyResult, started: tuple[date, float] | None, as_of: date
) -> tuple[KeyResult, str]:
    """`kr` with its Start and Target set from its Change, and a Note saying where they came from.

    `started` is History's first value in the period (see `start_of_period`); without it (and
    without a Start cell) today's Current starts the period. The key result comes back with no
    Target when there is nothing to start from yet, or a percent of a Start of 0.
    """
    change = kr.change
    if change is None or kr.type is not KrType.METRIC:  # a Change only makes a metric's target
        return kr, ""
    if kr.start_given:
        start, since = kr.start, "Start"
    elif started is not None:
        start, since = started[1], f"value on {started[0].isoformat()}"
    elif kr.current is not None:
        start, since = kr.current, f"value on {as_of.isoformat()}"
    else:  # nothing to score against yet (a linked KPI's Actual included): No data
        return replace(kr, kpi=None), f"Change {change.text}: no value to start from yet"
    if change.relative and start == 0:
        note = f"Change {change.text}: a percent of a Start of 0 sets no target"
        return replace(kr, start=start, current=None, kpi=None), note
    target = start * (1 + change.amount) if change.relative else start + change.amount
    target = float(f"{target:.12g}")
    direction = Direction.INCREASE if target > start else Direction.DECREASE
    shown = format_number(start, kr.style), format_number(target, kr.style)
    note = f"target {shown[1]} = {change.text} from {shown[0]} ({since})"
    return replace(kr, start=start, target=target, direction=direction), note


def with_change_note(score: KeyResultScore, note: str) -> KeyResultScore:
    """The score with where a relative key result's target came from at the end of its Note.

    A relative key result that has no target yet is No data (its Note says why).
    """
    if not note:
        return score
    kr = score.key_result
    if kr.type is KrType.METRIC and kr.target is None:
        return replace(score, score=None, status=Status.NO_DATA, note=note)
    return replace(score, note="; ".join(n for n in (score.note, note) if n))
