"""Scores and statuses: key results, objectives and KPIs on an as-of date. Pure functions.

A metric key result's progress is (Current - Start) / (Target - Start): one formula for
increasing and decreasing metrics ("4 h -> 2 h", at 3 h, is half way). The score is that
progress clamped to 0..1; overachievement shows in the note, not in the score, so it cannot
hide a weak key result inside an objective's average.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from sheetsync.core.model import (
    Colour,
    KeyResult,
    KeyResultScore,
    Kpi,
    KpiScore,
    KrType,
    ObjectiveScore,
    Period,
    Status,
    with_fields,
)
from sheetsync.core.trend import change_note
from sheetsync.core.units import format_number, format_score


@dataclass(frozen=True)
class Rules:
    """Thresholds (the `[scoring]` config section)."""

    on_track: float = 1.0
    """Score / expected progress at or above this is On track."""
    at_risk: float = 0.75
    """At or above this share of the expected progress (but below on_track): At risk."""
    grade_green: float = 0.7
    """After the period: at or above, Achieved (Google's 0.7 for stretch goals)."""
    grade_amber: float = 0.4
    """After the period: at or above, Partly achieved; below, Missed."""
    grace_days: int = 14
    """The first days of a period in which pace is not judged (nobody has moved yet)."""
    objective_status: Literal["points", "weakest"] = "points"
    """How an objective's status follows from its key results' (see `objective_status`)."""


OBJECTIVE_ON_TRACK = 0.75
"""Status points (green 1, amber 1/2, red 0, weighted) at or above which an objective is On
track; at or above OBJECTIVE_AT_RISK it is At risk; below, Off track."""
OBJECTIVE_AT_RISK = 0.5
_POINTS = {Colour.GREEN: 1.0, Colour.AMBER: 0.5, Colour.RED: 0.0, Colour.GREY: 0.0}


def pace_status(score: float, period: Period, as_of: date, rules: Rules) -> Status:
    """Status from the score and how far through its period we are."""
    if as_of > period.end:
        return grade(score, rules)
    return status_against(score, period.expected_progress(as_of), rules)


def status_against(score: float, expected: float, rules: Rules) -> Status:
    """Done, On track, At risk or Off track: the score against the score expected by now."""
    if score >= 1.0:
        return Status.DONE
    if expected <= 0 or score >= expected * rules.on_track:
        return Status.ON_TRACK
    if score >= expected * rules.at_risk:
        return Status.AT_RISK
    return Status.OFF_TRACK


def grade(score: float, rules: Rules) -> Status:
    """The final grade of a period that has ended."""
    if score >= rules.grade_green:
        return Status.ACHIEVED
    if score >= rules.grade_amber:
        return Status.PARTIAL
    return Status.MISSED


@dataclass(frozen=True)
class AtPeriodEnd:
    """A key result as History recorded it on the last run on or before its period's end."""

    as_of: date
    score: float | None
    value: float | None
    status: Status | None = None


def score_key_result(
    kr: KeyResult,
    as_of: date,
    rules: Rules,
    kpi_actual: float | None = None,
    at_end: AtPeriodEnd | None = None,
) -> KeyResultScore:
    """Score one validated key result. `kpi_actual` feeds a linked KPI when Current is blank.

    After its period a key result's grade is final: with `at_end` (History's last record on or
    before the period end), a value fed by a KPI that moved since is ignored and the grade stays
    as it was; a person changing Current (or a milestone) after the end is a deliberate
    correction, graded and said so in the Note.
    """
    now = _score_now(kr, as_of, rules, kpi_actual)
    assert kr.period is not None
    if at_end is None or at_end.score is None or as_of <= kr.period.end:
        return now
    if kr.type is KrType.MILESTONE or kr.current is not None:
        if now.score is None or _same(now.score, at_end.score):
            return now
        if kr.type is KrType.MILESTONE:
            was = "done" if at_end.score >= 1.0 else "not done"
        elif at_end.value is not None:
            was = format_number(at_end.value, kr.style)
        else:
            return now
        note = f"corrected after the period ended (was {was} on {at_end.as_of.isoformat()})"
        return KeyResultScore(
            kr, now.score, now.status, _join(note, now.note), now.progress, now.value
        )
    score = at_end.score
    if kr.type is KrType.METRIC or at_end.status is None:
        status = grade(score, rules)
    else:  # a level to hold: its colour at the end is its grade
        status = {Colour.GREEN: Status.ACHIEVED, Colour.AMBER: Status.PARTIAL}.get(
            at_end.status.colour, Status.MISSED
        )
    note = (
        f"final grade {format_score(score)} ({kr.period.label} ended; kept at its "
        f"{at_end.as_of.isoformat()} value, KPI '{kr.kpi}' changed since)"
        if kpi_actual is not None
        and at_end.value is not None
        and not _same(kpi_actual, at_end.value)
        else f"final grade {format_score(score)} ({kr.period.label} ended)"
    )
    return KeyResultScore(kr, score, status, note, value=at_end.value)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _score_now(
    kr: KeyResult, as_of: date, rules: Rules, kpi_actual: float | None
) -> KeyResultScore:
    """The key result scored from the values in its cells today."""
    assert kr.period is not None
    ended = as_of > kr.period.end
    if kr.type is KrType.MILESTONE:
        if kr.done:
            return KeyResultScore(kr, 1.0, Status.DONE, value=1.0)
        if ended:
            note = f"not done by the end of {kr.period.label}"
            return KeyResultScore(kr, 0.0, Status.MISSED, note, value=0.0)
        return KeyResultScore(
            kr, 0.0, Status.ON_TRACK, f"not done yet; due {kr.period.end.isoformat()}", value=0.0
        )

    value = kr.current if kr.current is not None else kpi_actual
    source = "" if kr.current is not None or kpi_actual is None else f"value from KPI '{kr.kpi}'"
    if value is None:
        note = f"no Current value yet{f'; KPI {kr.kpi!r} has no Actual' if kr.kpi else ''}"
        return KeyResultScore(kr, None, Status.NO_DATA, note)
    assert kr.target is not None

    if kr.type in (KrType.STAY_ABOVE, KrType.STAY_BELOW):
        above = kr.type is KrType.STAY_ABOVE
        holds = value >= kr.target if above else value <= kr.target
        in_band = kr.warning is not None and (value >= kr.warning if above else value <= kr.warning)
        word = "above" if above else "below"

        def shown(number: float) -> str:
            return format_number(number, kr.style)

        target_shown = format_number(kr.target, kr.target_style or kr.style)

        if holds:
            status, note = (Status.ACHIEVED if ended else Status.ON_TRACK), ""
        elif in_band:
            status = Status.PARTIAL if ended else Status.AT_RISK
            note = f"{shown(value)} is not {word} {target_shown}"
            note += f" (warning level {shown(kr.warning or 0)})"
        else:
            status = Status.MISSED if ended else Status.OFF_TRACK
            note = f"{shown(value)} is not {word} {target_shown}"
        return KeyResultScore(kr, 1.0 if holds else 0.0, status, _join(note, source), value=value)

    progress = (value - kr.start) / (kr.target - kr.start)
    score = min(1.0, max(0.0, progress))
    if progress > 1.0:
        note = f"{progress:.0%} of target"
    elif progress < 0:
        note = (
            f"moving the wrong way: {format_number(value, kr.style)} is worse than the start "
            f"({format_number(kr.start, kr.start_style or kr.style)})"
        )
    else:
        note = ""
    status = pace_status(score, kr.period, as_of, rules)
    judged_from = kr.period.start + timedelta(days=rules.grace_days)
    if not ended and as_of < judged_from and progress >= 0 and status.colour is not Colour.GREEN:
        status = Status.ON_TRACK  # day one of a quarter: nobody has moved yet
        note = f"early in {kr.period.label}: judged from {judged_from.day} {judged_from:%b}"
    if ended and not note:
        note = f"final grade {format_score(score)} ({kr.period.label} ended)"
    expected = None if ended else expected_value(kr, as_of)
    return with_fields(  # KeyResultScore(...): one per key result
        KeyResultScore,
        {
            "key_result": kr,
            "score": score,
            "status": status,
            "note": (f"{note}; {source}" if note else source) if source else note,  # _join
            "progress": progress,
            "value": value,
            "expected": expected,
        },
    )


def _join(*notes: str) -> str:
    return "; ".join(n for n in notes if n)


def score_kpi(
    kpi: Kpi, as_of: date | None = None, recorded: Sequence[tuple[date, float]] = ()
) -> KpiScore:
    """On track when the target is met, At risk between target and warning, else Off track.

    With `as_of`, the Note also says how far the KPI moved since the previous period
    (`+1.2 pp vs Oct`) or, without periods, since the last different value History
    `recorded` (`+1.2 pp since 22 Nov`).
    """
    if kpi.actual is None:
        return KpiScore(kpi, Status.NO_DATA, "no Actual value yet")
    assert kpi.target is not None and kpi.warning is not None
    change = change_note(kpi, as_of, recorded) if as_of is not None else ""
    better = (lambda a, b: a >= b) if kpi.higher_is_better else (lambda a, b: a <= b)
    if better(kpi.actual, kpi.target):
        return KpiScore(kpi, Status.ON_TRACK, change)
    if better(kpi.actual, kpi.warning):
        note = f"worse than target {format_number(kpi.target, kpi.target_style or kpi.style)}"
        return KpiScore(kpi, Status.AT_RISK, _join(note, change))
    shown = kpi.warning_style or kpi.target_style or kpi.style
    note = f"worse than the warning level {format_number(kpi.warning, shown)}"
    return KpiScore(kpi, Status.OFF_TRACK, _join(note, change))


def kpi_attainment(kpi: Kpi) -> float | None:
    """How much of its target a KPI meets (target/actual when lower is better): its Score."""
    if kpi.actual is None or not kpi.target:
        return None
    if kpi.higher_is_better:
        return kpi.actual / kpi.target
    return kpi.target / kpi.actual if kpi.actual > 0 else None


def waits_for_due_date(s: KeyResultScore, as_of: date) -> bool:
    """An open milestone that is not due yet: it neither helps nor hurts its objective."""
    kr = s.key_result
    return (
        kr.type is KrType.MILESTONE
        and not kr.done
        and kr.period is not None
        and as_of <= kr.period.end
    )


def score_objective(
    name: str, scores: Sequence[KeyResultScore], as_of: date, rules: Rules, invalid: int = 0
) -> ObjectiveScore:
    """An objective from its key results: the score and status a person can work out by hand.

    Score: the weighted mean of its key results' scores; no data counts as 0, invalid rows and
    open milestones not yet due are left out. Status (see `objective_status`): from its key
    results' statuses while any runs, graded from the score once all have ended.
    """
    counts = Counter(s.status for s in scores)
    counts.update({Status.INVALID: invalid} if invalid else {})
    notes = []
    if invalid:
        notes.append(f"{invalid} invalid key result{'s' if invalid > 1 else ''} left out")
    if not scores:
        return ObjectiveScore(name, None, Status.INVALID, dict(counts), "; ".join(notes))
    counted = [s for s in scores if not waits_for_due_date(s, as_of)]
    waiting = len(scores) - len(counted)
    if waiting:
        notes.append(f"{waiting} open milestone{'s' if waiting > 1 else ''} not yet due left out")
    if counted and all(s.status is Status.NO_DATA for s in counted):
        return ObjectiveScore(name, None, Status.NO_DATA, dict(counts), "; ".join(notes))
    if not counted:
        return ObjectiveScore(name, None, Status.ON_TRACK, dict(counts), "; ".join(notes))
    total_weight = sum(s.key_result.weight for s in counted)
    if total_weight <= 0:
        notes.append("all weights are 0")
        return ObjectiveScore(name, None, Status.NO_DATA, dict(counts), "; ".join(notes))
    score = sum((s.score or 0.0) * s.key_result.weight for s in counted) / total_weight
    no_data = counts.get(Status.NO_DATA, 0)
    if no_data:
        notes.append(f"{no_data} key result{'s' if no_data > 1 else ''} without data counted as 0")
    if all(s.key_result.period and as_of > s.key_result.period.end for s in counted):
        status = grade(score, rules)
    else:
        status = objective_status(counted, rules)
    return ObjectiveScore(name, score, status, dict(counts), "; ".join(notes))


def objective_status(scores: Sequence[KeyResultScore], rules: Rules) -> Status:
    """A running objective's status from its key results' statuses (their colours).

    "points" (the default): green (Done, On track, Achieved) is 1 point, amber (At risk,
    Partly achieved) 1/2, red (Off track, Missed) and No data 0; the weighted mean of the
    points is On track at 0.75 or more, At risk at 0.5 or more, else Off track. So all green is
    On track, and more than half the weight red is Off track. "weakest": the worst colour
    decides. Either way all Done is Done.
    """
    if all(s.status is Status.DONE for s in scores):
        return Status.DONE
    return points_status([(status_points(s.status), s.key_result.weight) for s in scores], rules)


def status_points(status: Status) -> float:
    """A status's points in the objective rule: green 1, amber 1/2, red and grey 0."""
    return _POINTS[status.colour]


def points_status(weighted: Sequence[tuple[float, float]], rules: Rules) -> Status:
    """On track, At risk or Off track from (points, weight) pairs: their weighted mean, or with
    `objective_status = "weakest"` the lowest."""
    if rules.objective_status == "weakest":
        points = min(p for p, _ in weighted)
    else:
        total = sum(w for _, w in weighted)
        points = sum(p * w for p, w in weighted) / total if total > 0 else 0.0
    if points >= OBJECTIVE_ON_TRACK:
        return Status.ON_TRACK
    if points >= OBJECTIVE_AT_RISK:
        return Status.AT_RISK
    return Status.OFF_TRACK


def expected_score(kr: KeyResult, as_of: date) -> float:
    """The score a key result on pace would have today: its objective is judged against it.

    A metric is expected to have covered the elapsed share of its period; an open milestone
    nothing until it is due; a level to hold, all of it all the time.
    """
    assert kr.period is not None
    if kr.type is KrType.MILESTONE:
        return 1.0 if as_of > kr.period.end else 0.0
    if kr.type in (KrType.STAY_ABOVE, KrType.STAY_BELOW):
        return 1.0
    return kr.period.expected_progress(as_of)


def expected_value(kr: KeyResult, as_of: date) -> float | None:
    """The value a metric key result on pace would show on `as_of` (start plus the elapsed
    share of the way to target); None for milestones, levels to hold and missing targets."""
    if kr.type is not KrType.METRIC or kr.target is None or kr.period is None:
        return None
    return kr.start + kr.period.expected_progress(as_of) * (kr.target - kr.start)


def objectives_in_order(names: Iterable[str]) -> list[str]:
    """Objective names in first-seen order, once each."""
    return list(dict.fromkeys(names))
