"""When to alert: a pure function of the History tab, this run's statuses, the config and the
Alerts log. The sheet is the memory, so any machine decides the same.

The rules, per item (a KPI or key result; "red" is Off track or Missed, "amber" is At risk or
Partly achieved and counts only with `notify_at_risk`; No data and Invalid runs are skipped
when counting, they are the stale rule's business):

* **Entering** — the item is red (or amber) now and has been at least that bad for
  `alert_after` consecutive runs, this one included, and nothing was logged for it since that
  streak began: an `alert`. The first run (no history) counts as entering. Going from amber to
  red is a new change and alerts again; easing from red to amber does not.
* **Reminder** — still red (or amber) and the last alert or reminder *logged* for it is
  `remind_every_days` old or more: a `reminder`. Finished grades (Missed, Partly achieved)
  are alerted once and not reminded.
* **Recovered** — green again after an alert or reminder, with no green run or recovery
  notice since: a `recovered` notice (if `notify_recovered`).
* **Stale** — No data or Invalid, or the same value, for `stale_after_days` or more: a
  `stale` data-quality alert, repeated at most every `remind_every_days` while it lasts.
* **Invalid** — the item became Invalid (a cell it needs cannot be read): an `invalid`
  notice at once with the cell and the problem (if `notify_invalid`), once per spell.
* **Improving** — Off track eased to At risk (if `notify_improving`); **Win** — it reached
  Done or Achieved from anything else (if `notify_wins`; not on the first run).
* **Confidence** — the owner's `Confidence` fell by 3 points or more (High -> Low) since the
  last run that recorded one: a `confidence` alert to the owner, once per drop (if
  `notify_confidence`).
* **Check-ins** — an item with an `Updated` date (the owner's last check-in) that is not On
  track or Done is stale when that date is its cadence (else `stale_after_days`) old or more,
  whatever its value: the check-in, not an unchanged value, is then the staleness signal.
* **Graded** — an objective whose period has closed (its status is a final grade): a
  `graded` notice with its final grade, once per objective and period (`decide_grades`).

Setting `remind_every_days` or `stale_after_days` to 0 turns that rule off. Every event has a
deterministic id (see `events.event_id`) and an event whose id is already in the log is never
emitted again, so a re-run of the same date says nothing new.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta
from decimal import Decimal

from sheetsync.alerts.events import AlertEvent, EventKind, event_id, parse_event_id
from sheetsync.alerts.history import HistoryRecord
from sheetsync.alerts.log import AlertLogRecord
from sheetsync.config import Alerts
from sheetsync.core.checkin import confidence_dropped, confidence_of_points
from sheetsync.core.model import Colour, ItemState, Status
from sheetsync.core.units import GENERAL, format_number, format_score, with_unit

FINAL = frozenset({Status.DONE, Status.ACHIEVED, Status.PARTIAL, Status.MISSED})
"""Statuses that will not change any more: no reminders, no stale-data alerts."""
GRADES = frozenset({Status.ACHIEVED, Status.PARTIAL, Status.MISSED})
WINS = frozenset({Status.DONE, Status.ACHIEVED})
"""The statuses of a period that has closed."""

_STATUS_ALERTS = (EventKind.ALERT, EventKind.REMINDER)


def _is_grey(status: Status | None) -> bool:
    return status is None or status.colour is Colour.GREY


def _level(status: Status | None, settings: Alerts) -> int | None:
    """How alarming a status is: 2 red, 1 amber (when notified), 0 otherwise; None for grey."""
    if _is_grey(status):
        return None
    assert status is not None
    if status.needs_attention:
        return 2
    if status.colour is Colour.AMBER and settings.notify_at_risk:
        return 1
    return 0


@dataclass(frozen=True)
class _Run:
    """One entry of an item's timeline: a past History record or this run."""

    day: date
    status: Status | None
    value: float | None
    note: str = ""
    """What was wrong, on an Invalid run (History's Note)."""
    runs: int = 1
    """How many runs it stands for (a spell of the state tab counts each of its runs)."""


@dataclass(frozen=True)
class _Logged:
    kind: EventKind
    day: date


def _past(records: Iterable[HistoryRecord], as_of: date) -> list[HistoryRecord]:
    """An item's records before `as_of`, one per date (the last row of a date wins), in order."""
    by_day: dict[date, HistoryRecord] = {}
    for record in records:
        if record.as_of < as_of:
            by_day[record.as_of] = record
    return [by_day[d] for d in sorted(by_day)]


def _same(a: float | None, b: float | None) -> bool:
    return a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)


def _amount(value: float | None, item: ItemState, *, target: bool = False) -> str:
    """`value` as its cell shows it: the Target in the Target cell's format, the rest in
    Current's (or Actual's)."""
    if value is None:
        return "blank"
    style = (item.target_style if target else None) or item.style
    return format_number(value, style or with_unit(GENERAL, item.unit))


def _figures(item: ItemState, previous: _Run | None, as_of: date) -> str:
    if item.value is None and item.target is None:
        figures = "no value"
    elif item.target is None:
        figures = f"{_amount(item.value, item)} (no target)"
    else:
        figures = f"{_amount(item.value, item)} vs target {_amount(item.target, item, target=True)}"
    if previous is None:
        change = "first run"
    elif previous.value is None:
        if previous.status is not Status.INVALID:
            was = "blank"
        else:
            was = f"invalid ({previous.note})" if previous.note else "invalid"
        change = f"was {was} on {_day(previous.day, as_of)}"
    elif item.value is None:
        change = f"was {_amount(previous.value, item)} on {_day(previous.day, as_of)}"
    elif _same(item.value, previous.value):
        change = f"no change since {_day(previous.day, as_of)}"
    else:
        delta = float(f"{item.value - previous.value:.12g}")  # 0.82 - 0.78 is 0.04, no noise
        sign = "+" if delta > 0 else "-"
        change = f"{sign}{_amount(abs(delta), item)} since {_day(previous.day, as_of)}"
    return f"{figures}; {change}"


def _day(day: date | None, as_of: date) -> str:
    """A date as a person says it in a sentence, the one style of every alert's text (e-mail,
    chat and the Alerts tab): `22 Nov`, with the year when it is not the run's (`22 Nov 2025`)
    or is over half a year back (an alert decided on 31 Dec may be read, or sent after a mail
    outage, in January, where "since 6 Jan" would mean the new year's).
    """
    if day is None:
        return "?"
    far = day.year != as_of.year or (as_of - day).days > _HALF_A_YEAR
    year = f" {day.year}" if far else ""
    return f"{day.day} {_MONTHS[day.month - 1]}{year}"


_HALF_A_YEAR = 182
"""Days back from which a date says its year even in the run's year."""

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Month names in English whatever the machine's locale (`%b` follows it)."""


def _on_pace(item: ItemState) -> str:
    """`expected 64 by today`, rounded to the decimals the value and target show (it is an
    estimate, not a person's number); empty when the item is not judged on pace."""
    if item.expected is None:
        return ""
    places = max(
        (
            max(0, -int(Decimal(repr(v)).normalize().as_tuple().exponent))
            for v in (item.value, item.target)
            if v is not None
        ),
        default=0,
    )
    return f"expected {_amount(round(item.expected, places), item)} by today"


def _only_time_passed(item: ItemState, previous: _Run | None) -> bool:
    """The status changed while the value did not: the calendar moved the item."""
    return (
        previous is not None
        and not _is_grey(previous.status)
        and previous.status is not item.status
        and _same(previous.value, item.value)
        and item.target is not None
        and bool(_on_pace(item))
    )


def _label(item: ItemState) -> str:
    """The name, when the log's Item column (the key) does not already show it."""
    return f"{item.name}: " if item.name and item.name not in item.key else ""


def _noun(item: ItemState) -> str:
    return "KPI" if item.kind == "kpi" else "key result"


def _message(
    kind: EventKind,
    item: ItemState,
    as_of: date,
    from_status: Status | None,
    since: date | None,
    previous: _Run | None,
    doubt: HistoryRecord | None = None,
) -> str:
    """`doubt`: for a confidence drop, the last earlier run that recorded a confidence."""
    figures = _figures(item, previous, as_of)
    status = item.status.value
    was = f" (was {from_status.value})" if from_status else ""
    if kind is EventKind.ALERT and _only_time_passed(item, previous):
        assert previous is not None and previous.status is not None and item.target is not None
        text = (
            f"{status}: {_amount(item.value, item)} of {_amount(item.target, item, target=True)}, "
            f"{_on_pace(item)}; was {previous.status.value} on {_day(previous.day, as_of)}."
        )
    elif kind is EventKind.ALERT:
        start = f" since {_day(since, as_of)}" if since and since != as_of else ""
        text = f"{status}{start}{was}. {figures}."
    elif kind is EventKind.REMINDER:
        days = (as_of - since).days if since else 0
        start = _day(since, as_of)
        text = f"Still {status} since {start} ({days} days). {figures}."
    elif kind is EventKind.RECOVERED:
        text = f"Back to {status}{was}. {figures}."
    elif kind is EventKind.IMPROVING:
        text = f"Improving: {status}{was}. {figures}."
    elif kind is EventKind.WIN:
        text = f"{status}{was}. {figures}."
    elif kind is EventKind.INVALID:
        problem = f": {item.note}" if item.note else ""
        text = f"Invalid{was}{problem}. Fix the cell so sheetsync can score it again."
    elif kind is EventKind.GRADED:
        score = "no score" if item.score is None else f"final grade {format_score(item.score)}"
        text = f"{status}, {score}." + (f" {item.note}." if item.note else "")
    elif kind is EventKind.CONFIDENCE:
        before = confidence_of_points(doubt.confidence if doubt else None)
        day = _day(doubt.as_of if doubt else None, as_of)
        text = (
            f"Confidence dropped to {confidence_of_points(item.confidence)} "
            f"(was {before} on {day}); {status}. {figures}."
        )
    elif item.checked_in is not None:
        days = (as_of - item.checked_in).days
        text = (
            f"Last check-in {_day(item.checked_in, as_of)}: nobody checked in on this "
            f"{_noun(item)} for {days} days."
        )
    else:
        days = (as_of - since).days if since else 0
        what = (
            f"{status} since {_day(since, as_of)}"
            if _is_grey(item.status)
            else f"Value {_amount(item.value, item)} unchanged since {_day(since, as_of)}"
        )
        text = f"{what}: nobody updated this {_noun(item)} for {days} days."
        if item.note and _is_grey(item.status):
            text += f" ({item.note})"
    return _label(item) + text


def _onset(runs: Sequence[_Run], level: int, settings: Alerts) -> date:
    """The first run of the current streak at least as bad as `level` (grey runs skipped).

    A period's closing grade (Missed after Off track) starts a new streak: it is news.
    """
    streak = [r for r in runs if not _is_grey(r.status)]
    start = len(streak)
    graded = streak[-1].status in GRADES if streak else False
    while (
        start > 0
        and (_level(streak[start - 1].status, settings) or 0) >= level
        and (streak[start - 1].status in GRADES) == graded
    ):
        start -= 1
    return streak[min(start, len(streak) - 1)].day


def _status_before(runs: Sequence[_Run], day: date) -> Status | None:
    before = [r for r in runs if r.day < day]
    return before[-1].status if before else None


def _explain(
    kind: EventKind, item: ItemState, runs: Sequence[_Run], as_of: date, settings: Alerts
) -> tuple[Status | None, date | None] | None:
    """The (from-status, since) a `kind` event about `item` on `as_of` reports, or None when the
    item's timeline (History up to `as_of`, the last run being `item`) does not support one."""
    if kind is EventKind.GRADED:
        return (None, None) if item.status in GRADES else None
    if kind in (EventKind.IMPROVING, EventKind.WIN):
        previous = _previous_status(runs)
        return (previous, None) if _transition(kind, item.status, previous) else None
    if kind is EventKind.INVALID:
        if item.status is not Status.INVALID:
            return None
        spell = _invalid_since(runs)
        return _status_before(runs, spell), spell
    level = _level(item.status, settings)
    if kind in _STATUS_ALERTS:
        if not level:
            return None
        onset = _onset(runs, level, settings)
        if kind is EventKind.ALERT:
            return _status_before(runs, onset), onset
        return (runs[-2].status if len(runs) > 1 else None), onset
    if kind is EventKind.RECOVERED:
        if item.status.colour is not Colour.GREEN:
            return None
        return next((r.status for r in reversed(runs[:-1]) if not _is_grey(r.status)), None), None
    if settings.stale_after_days <= 0:
        return None
    since = _stale_since(item, runs)
    if since is None or (as_of - since).days < _stale_after(item, settings):
        return None
    return _status_before(runs, since), since


def _status_events(
    item: ItemState,
    runs: Sequence[_Run],
    logged: Sequence[_Logged],
    as_of: date,
    settings: Alerts,
) -> list[EventKind]:
    level = _level(item.status, settings)
    status_logs = [x.day for x in logged if x.kind in _STATUS_ALERTS]
    if level:  # red, or amber when notified
        onset = _onset(runs, level, settings)
        said = [d for d in status_logs if onset <= d]
        if not said:
            streak = [r for r in runs if not _is_grey(r.status) and r.day >= onset]
            return [EventKind.ALERT] if sum(r.runs for r in streak) >= settings.alert_after else []
        if (
            settings.remind_every_days > 0
            and item.status not in FINAL
            and (as_of - max(said)).days >= settings.remind_every_days
        ):
            return [EventKind.REMINDER]
        return []
    if level == 0 and item.status.colour is Colour.GREEN and settings.notify_recovered:
        if not status_logs:
            return []
        last_alert = max(status_logs)
        past = runs[:-1]
        green_since = any(
            r.day >= last_alert and r.status is not None and r.status.colour is Colour.GREEN
            for r in past
        )
        told = any(x.kind is EventKind.RECOVERED and x.day >= last_alert for x in logged)
        return [] if green_since or told else [EventKind.RECOVERED]
    return []


def _stale_after(item: ItemState, settings: Alerts) -> int:
    """Days without an update before an item is stale: its cadence (a monthly KPI waits a
    month for its next value), else `stale_after_days`."""
    return item.cadence_days or settings.stale_after_days


def _stale_since(item: ItemState, runs: Sequence[_Run]) -> date | None:
    if item.status in FINAL:
        return None
    if item.status.colour is Colour.GREEN:
        return None  # an item On track or Done is not stale, however steady or unvisited
    if item.checked_in is not None:  # the owner checks in: their last check-in says it all
        return item.checked_in
    since: date | None = None
    if _is_grey(item.status):
        for run in reversed(runs):
            if not _is_grey(run.status):
                break
            since = run.day
    elif item.value is not None:
        for run in reversed(runs):
            if _is_grey(run.status) or not _same(run.value, item.value):
                break
            since = run.day
    return since


def _previous_status(runs: Sequence[_Run]) -> Status | None:
    """The last judged (not grey) status before this run."""
    return next((r.status for r in reversed(runs[:-1]) if not _is_grey(r.status)), None)


def _transition(kind: EventKind, status: Status, previous: Status | None) -> bool:
    if kind is EventKind.IMPROVING:
        return status is Status.AT_RISK and previous is Status.OFF_TRACK
    return status in WINS and previous is not None and previous not in WINS


def _transition_events(item: ItemState, runs: Sequence[_Run], settings: Alerts) -> list[EventKind]:
    previous = _previous_status(runs)
    wanted = [
        kind
        for kind, on in (
            (EventKind.IMPROVING, settings.notify_improving),
            (EventKind.WIN, settings.notify_wins),
        )
        if on
    ]
    return [kind for kind in wanted if _transition(kind, item.status, previous)]


def _invalid_since(runs: Sequence[_Run]) -> date:
    """The first run of the current spell of Invalid runs (the last run is Invalid)."""
    since = runs[-1].day
    for run in reversed(runs):
        if run.status is not Status.INVALID:
            break
        since = run.day
    return since


def _invalid_events(
    item: ItemState, runs: Sequence[_Run], logged: Sequence[_Logged], settings: Alerts
) -> list[EventKind]:
    if not settings.notify_invalid or item.status is not Status.INVALID:
        return []
    since = _invalid_since(runs)
    said = any(x.kind is EventKind.INVALID and x.day >= since for x in logged)
    return [] if said else [EventKind.INVALID]


def _last_confidence(past: Sequence[HistoryRecord]) -> HistoryRecord | None:
    """The last earlier run that recorded the owner's confidence."""
    return next((r for r in reversed(past) if r.confidence is not None), None)


def _confidence_events(item: ItemState, past: Sequence[HistoryRecord]) -> list[EventKind]:
    before = _last_confidence(past)
    dropped = before is not None and confidence_dropped(before.confidence, item.confidence)
    return [EventKind.CONFIDENCE] if dropped else []


def _stale_events(
    item: ItemState,
    runs: Sequence[_Run],
    logged: Sequence[_Logged],
    as_of: date,
    settings: Alerts,
) -> list[EventKind]:
    if settings.stale_after_days <= 0:
        return []
    since = _stale_since(item, runs)
    if since is None or (as_of - since).days < _stale_after(item, settings):
        return []
    said = [x.day for x in logged if x.kind is EventKind.STALE and x.day >= since]
    if said and (
        settings.remind_every_days <= 0 or (as_of - max(said)).days < settings.remind_every_days
    ):
        return []
    return [EventKind.STALE]


def _event(
    kind: EventKind,
    item: ItemState,
    past: Sequence[HistoryRecord],
    as_of: date,
    settings: Alerts,
    workbook: str,
) -> AlertEvent | None:
    runs = [
        *(_Run(r.as_of, r.status, r.value, r.note, r.runs) for r in past),
        _Run(as_of, item.status, item.value, item.note),
    ]
    doubt = None
    if kind is EventKind.CONFIDENCE:
        if not _confidence_events(item, past):
            return None
        doubt = _last_confidence(past)
        explained: tuple[Status | None, date | None] | None = (None, None)
    else:
        explained = _explain(kind, item, runs, as_of, settings)
    if explained is None:
        return None
    from_status, since = explained
    previous_run = runs[-2] if past else None
    return AlertEvent(
        id=event_id(workbook, item.kind, item.key, kind, as_of),
        kind=kind,
        workbook=workbook,
        item=item,
        as_of=as_of,
        from_status=from_status,
        since=since,
        previous=past[-1] if past else None,
        message=_message(kind, item, as_of, from_status, since, previous_run, doubt),
    )


def rebuild_event(
    logged_id: str,
    item: ItemState,
    history: Sequence[HistoryRecord],
    settings: Alerts,
    *,
    workbook: str,
) -> AlertEvent | str:
    """The event an Alerts-tab Event ID names, rebuilt from trusted state, or why it cannot be.

    The id must be exactly the one sheetsync gives a `kind` event about `item` (this run's
    row for the key) in `workbook` on its date, and History must show that event on that date
    (e.g. an alert needs the item Off track then). Its words come from History and the item,
    never from the Alerts tab. `history` is the item's History records, today's included.
    """
    parsed = parse_event_id(logged_id)
    if parsed is None:
        return "not an Event ID sheetsync writes"
    kind, day = parsed
    if event_id(workbook, item.kind, item.key, kind, day) != logged_id:
        return f"the Event ID does not belong to {item.key!r} in this workbook"
    if kind is EventKind.GRADED:  # a closed period's grade does not change: today's is it
        graded = _event(kind, item, [], day, settings, workbook)
        return graded or f"{item.key!r} has no final grade"
    at = _past((r for r in history if r.as_of == day), day + timedelta(days=1))
    if not at:
        return f"History has no row for {item.key!r} on {day.isoformat()}"
    then = replace(at[-1].seen_in(item), note=item.note)
    event = _event(kind, then, _past(history, day), day, settings, workbook)
    if event is None:
        return (
            f"History does not show {item.key!r} as the {kind.value!r} event claims on "
            f"{day.isoformat()}"
        )
    return event


def decide_alerts(
    history: Sequence[HistoryRecord],
    items: Sequence[ItemState],
    as_of: date,
    settings: Alerts,
    log: Sequence[AlertLogRecord],
    *,
    workbook: str,
) -> list[AlertEvent]:
    """The events this run should raise for one workbook, in item order.

    `history` is the workbook's History tab as read before this run (rows of `as_of` itself,
    from an earlier run of the same date, are ignored); `log` is its Alerts tab. Events whose
    id is already logged are left out, so a re-run of the same date returns nothing new.
    """
    by_item: dict[tuple[str, str], list[HistoryRecord]] = defaultdict(list)
    for record in history:
        by_item[(record.kind, record.key)].append(record)
    logged_by_item: dict[str, list[_Logged]] = defaultdict(list)
    for entry in log:
        kind, day = entry.kind, entry.as_of
        if kind is not None and day is not None and day <= as_of:
            logged_by_item[entry.item].append(_Logged(kind, day))
    known = {entry.event_id for entry in log}

    events: list[AlertEvent] = []
    for item in items:
        past = _past(by_item.get((item.kind, item.key), []), as_of)
        runs = [
            *(_Run(r.as_of, r.status, r.value, r.note, r.runs) for r in past),
            _Run(as_of, item.status, item.value, item.note),
        ]
        logged = logged_by_item.get(item.key, [])
        kinds = _status_events(item, runs, logged, as_of, settings)
        kinds += _transition_events(item, runs, settings)
        kinds += _invalid_events(item, runs, logged, settings)
        kinds += _stale_events(item, runs, logged, as_of, settings)
        if settings.notify_confidence:
            kinds += _confidence_events(item, past)
        for kind in kinds:
            eid = event_id(workbook, item.kind, item.key, kind, as_of)
            if eid in known:
                continue
            event = _event(kind, item, past, as_of, settings, workbook)
            if event is not None:
                known.add(eid)
                events.append(event)
    return events


def decide_grades(
    objectives: Sequence[ItemState],
    as_of: date,
    settings: Alerts,
    log: Sequence[AlertLogRecord],
    *,
    workbook: str,
) -> list[AlertEvent]:
    """End-of-period notices: each objective whose period has closed, once.

    `objectives` are objective items whose key names the period (`Grow revenue (2026-Q4)`),
    so the same objective next quarter is graded again. An objective whose `graded` event is
    already in the log is not graded twice.
    """
    if not settings.notify_grades:
        return []
    told = {entry.item for entry in log if entry.kind is EventKind.GRADED}
    events = []
    for item in objectives:
        if item.status not in GRADES or item.key in told:
            continue
        event = _event(EventKind.GRADED, item, [], as_of, settings, workbook)
        if event is not None:
            told.add(item.key)
            events.append(event)
    return events
