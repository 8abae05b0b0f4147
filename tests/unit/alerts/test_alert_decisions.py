"""When sheetsync alerts: the decision function over hand-written histories and Alerts logs.

Each test is a short story of nightly runs. `Nightly` plays the part of the workbook: it keeps
the History records and the Alerts log that earlier runs wrote, exactly as the real tabs would.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.alerts import AlertEvent, EventKind, HistoryRecord, decide_alerts, event_id
from sheetsync.alerts.log import AlertLogRecord, new_log_records
from sheetsync.config import Alerts
from sheetsync.core.model import ItemState, Status

START = date(2026, 1, 5)
ON, RISK, OFF = Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK
NO_DATA, INVALID, MISSED = Status.NO_DATA, Status.INVALID, Status.MISSED


def day(n: int) -> date:
    return START + timedelta(days=n)


def kpi(status: Status, value: float | None = 40_000.0, **kw) -> ItemState:
    base = dict(
        kind="kpi",
        key="Monthly revenue",
        name="Monthly revenue",
        owner="ana@example.com",
        target=50_000.0,
        unit="$",
    )
    return ItemState(status=status, value=value, **(base | kw))


def record(n: int, status: Status, value: float | None = 40_000.0, **kw) -> HistoryRecord:
    base = dict(kind="kpi", key="Monthly revenue", workbook="Sales", name="Monthly revenue")
    return HistoryRecord(as_of=day(n), status=status, value=value, **(base | kw))


def logged(events: Sequence[AlertEvent], n: int) -> list[AlertLogRecord]:
    return new_log_records(events, datetime.combine(day(n), time(2)), Alerts())


class Nightly:
    """A workbook's History and Alerts log across nightly runs."""

    def __init__(self, **rules) -> None:
        self.rules = Alerts(**rules)
        self.history: list[HistoryRecord] = []
        self.log: list[AlertLogRecord] = []

    def run(self, n: int, *items: ItemState) -> list[AlertEvent]:
        events = decide_alerts(self.history, items, day(n), self.rules, self.log, workbook="Sales")
        self.history = [r for r in self.history if r.as_of != day(n)] + [
            HistoryRecord(day(n), i.kind, i.key, i.status, value=i.value, note=i.note)
            for i in items
        ]
        self.log += logged(events, n)
        return events

    def kinds(self, n: int, *items: ItemState) -> list[str]:
        return [e.kind.value for e in self.run(n, *items)]


def decide(history, item: ItemState, n: int, log=(), **rules) -> list[AlertEvent]:
    return decide_alerts(history, [item], day(n), Alerts(**rules), list(log), workbook="Sales")


# Entering Off track


def test_kpi_going_from_on_track_to_off_track_is_alerted():
    [event] = decide([record(0, ON, 45_000)], kpi(OFF, 38_000), 1)
    assert event.kind is EventKind.ALERT
    assert (event.from_status, event.to_status) == (ON, OFF)
    assert event.message == (
        "Off track (was On track). $38,000 vs target $50,000; -$7,000 since 5 Jan."
    )


def test_kpi_staying_on_track_says_nothing():
    assert decide([record(0, ON)], kpi(ON), 1) == []


def test_first_run_with_no_history_counts_as_entering_and_alerts_once():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(OFF)) == ["alert"]
    assert nightly.kinds(1, kpi(OFF, 41_000)) == []
    assert nightly.kinds(2, kpi(OFF, 42_000)) == []


def test_alert_after_three_waits_for_three_consecutive_off_track_runs():
    nightly = Nightly(alert_after=3)
    assert nightly.kinds(0, kpi(OFF)) == []
    assert nightly.kinds(1, kpi(OFF, 41_000)) == []
    [event] = nightly.run(2, kpi(OFF, 42_000))
    assert event.kind is EventKind.ALERT
    assert event.since == day(0)
    assert "Off track since 5 Jan" in event.message


def test_a_one_night_blip_does_not_alert_when_alert_after_is_two():
    nightly = Nightly(alert_after=2)
    assert nightly.kinds(0, kpi(ON)) == []
    assert nightly.kinds(1, kpi(OFF)) == []
    assert nightly.kinds(2, kpi(ON)) == []
    assert nightly.kinds(3, kpi(OFF)) == []


def test_a_night_without_data_does_not_restart_the_off_track_streak():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(OFF)) == ["alert"]
    assert nightly.kinds(1, kpi(NO_DATA, None)) == []
    assert nightly.kinds(2, kpi(OFF)) == []


def test_going_off_track_again_after_recovering_is_a_new_change():
    nightly = Nightly(notify_recovered=False)
    assert nightly.kinds(0, kpi(OFF)) == ["alert"]
    assert nightly.kinds(1, kpi(ON)) == []
    assert nightly.kinds(2, kpi(OFF)) == ["alert"]


def test_key_result_with_an_id_names_itself_in_the_message():
    kr = kpi(OFF, kind="kr", key="KR1.2", name="100 new qualified leads a month", unit=None)
    [event] = decide([], kr, 0)
    assert event.message.startswith("100 new qualified leads a month: Off track")


# At risk


def test_at_risk_is_not_alerted_by_default():
    assert decide([record(0, ON)], kpi(RISK), 1) == []


def test_at_risk_is_alerted_when_notify_at_risk_is_on():
    [event] = decide([record(0, ON)], kpi(RISK), 1, notify_at_risk=True)
    assert (event.kind, event.to_status) == (EventKind.ALERT, RISK)


def test_at_risk_getting_worse_to_off_track_alerts_again():
    nightly = Nightly(notify_at_risk=True)
    assert nightly.kinds(0, kpi(RISK)) == ["alert"]
    assert nightly.kinds(1, kpi(OFF)) == ["alert"]


def test_off_track_easing_to_at_risk_is_no_new_alert():
    nightly = Nightly(notify_at_risk=True)
    assert nightly.kinds(0, kpi(OFF)) == ["alert"]
    assert nightly.kinds(1, kpi(RISK)) == []


# Reminders


def test_an_alert_says_every_date_one_way_with_the_year_only_when_it_is_not_this_runs():
    """People read one date style in an alert (e-mail, chat and the Alerts tab carry the same
    text): `5 Jan`, never `2026-01-05` beside `12 Dec` in the same sentence; a date of another
    year says it (`29 Dec 2025`)."""
    nightly = Nightly(remind_every_days=7)

    def off(n: int) -> ItemState:
        return kpi(OFF, 30_000 + 100 * n)

    assert nightly.kinds(-7, off(-7)) == ["alert"]
    for n in range(-6, 0):
        assert nightly.kinds(n, off(n)) == [], f"day {n}"
    [reminder] = nightly.run(0, off(0))

    assert reminder.message == (
        "Still Off track since 29 Dec 2025 (7 days). $30,000 vs target $50,000; +$100 since 4 Jan."
    )


def test_a_date_most_of_a_year_back_says_its_year_as_the_alert_may_be_read_in_the_next():
    """An alert decided on 31 Dec may go out on 2 Jan (a mail outage, a retry): "since 6 Jan"
    would then read as the new year's. A date over half a year before the run says its year
    even when it is the run's; a recent one does not."""
    nightly = Nightly(remind_every_days=7)
    assert nightly.kinds(1, kpi(OFF, 30_000)) == ["alert"]  # 6 Jan 2026

    events = nightly.run(360, kpi(OFF, 30_000))  # 31 Dec 2026
    [reminder] = [e for e in events if e.kind is EventKind.REMINDER]

    assert reminder.message.startswith("Still Off track since 6 Jan 2026 (359 days).")
    assert "no change since 6 Jan 2026" in reminder.message
    [stale] = [e for e in events if e.kind is EventKind.STALE]
    assert stale.message.startswith("Value $30,000 unchanged since 6 Jan 2026:")


def test_reminder_comes_every_remind_every_days_while_still_off_track_not_before():
    nightly = Nightly(remind_every_days=7)

    def off(n: int) -> ItemState:  # updated every night, still off track
        return kpi(OFF, 30_000 + 100 * n)

    assert nightly.kinds(0, off(0)) == ["alert"]
    for n in range(1, 7):
        assert nightly.kinds(n, off(n)) == [], f"day {n}"
    [reminder] = nightly.run(7, off(7))
    assert reminder.kind is EventKind.REMINDER
    assert reminder.message == (
        "Still Off track since 5 Jan (7 days). $30,700 vs target $50,000; +$100 since 11 Jan."
    )
    for n in range(8, 14):
        assert nightly.kinds(n, off(n)) == [], f"day {n}"
    assert nightly.kinds(14, off(14)) == ["reminder"]


def test_reminder_is_counted_from_the_last_alert_in_the_log_not_from_history():
    # History says Off track since day 0, but the log shows the alert went out on day 5
    # (say the job was down in between): the reminder is due on day 12, not day 7.
    history = [record(n, OFF) for n in range(0, 10)]
    alert = decide(history[:5], kpi(OFF), 5)
    assert [e.kind for e in alert] == [EventKind.ALERT]
    log = logged(alert, 5)
    assert decide(history, kpi(OFF), 10, log) == []
    [reminder] = decide([*history, record(10, OFF), record(11, OFF)], kpi(OFF), 12, log)
    assert reminder.kind is EventKind.REMINDER


def test_remind_every_days_zero_turns_reminders_off():
    nightly = Nightly(remind_every_days=0)
    assert nightly.kinds(0, kpi(OFF, 30_000)) == ["alert"]
    assert all(nightly.kinds(n, kpi(OFF, 30_000 + n)) == [] for n in range(1, 40))


def test_a_missed_grade_is_alerted_once_and_not_reminded():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(MISSED)) == ["alert"]
    assert all(nightly.kinds(n, kpi(MISSED)) == [] for n in range(1, 30))


# Recovery


def test_alerted_kpi_back_on_track_gets_a_recovered_notice():
    nightly = Nightly()
    nightly.run(0, kpi(OFF, 38_000))
    [event] = nightly.run(1, kpi(ON, 51_000))
    assert event.kind is EventKind.RECOVERED
    assert event.from_status is OFF
    assert event.message == (
        "Back to On track (was Off track). $51,000 vs target $50,000; +$13,000 since 5 Jan."
    )
    assert nightly.kinds(2, kpi(ON)) == []


def test_no_recovered_notice_when_notify_recovered_is_off():
    nightly = Nightly(notify_recovered=False)
    nightly.run(0, kpi(OFF))
    assert nightly.kinds(1, kpi(ON)) == []


def test_no_recovered_notice_for_an_item_that_was_never_alerted():
    nightly = Nightly(alert_after=3)
    nightly.run(0, kpi(OFF))
    nightly.run(1, kpi(OFF))
    assert nightly.kinds(2, kpi(ON)) == []


def test_recovery_through_at_risk_and_a_night_without_data_still_notifies():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(OFF)) == ["alert"]
    assert nightly.kinds(1, kpi(RISK)) == []
    assert nightly.kinds(2, kpi(NO_DATA, None)) == []
    assert nightly.kinds(3, kpi(ON)) == ["recovered"]


# Stale data


def test_no_data_for_stale_after_days_is_a_data_quality_alert():
    history = [record(n, NO_DATA, None) for n in range(0, 14)]
    assert decide(history[:13], kpi(NO_DATA, None), 13) == []
    [event] = decide(history, kpi(NO_DATA, None), 14)
    assert event.kind is EventKind.STALE
    assert event.message == "No data since 5 Jan: nobody updated this KPI for 14 days."


def test_stale_alert_repeats_no_more_often_than_remind_every_days():
    nightly = Nightly(stale_after_days=14, remind_every_days=7)
    kinds = {n: nightly.kinds(n, kpi(NO_DATA, None)) for n in range(0, 30)}
    assert [n for n, k in kinds.items() if k] == [14, 21, 28]
    assert kinds[14] == ["stale"]


def test_invalid_data_says_why_in_the_stale_alert():
    history = [record(n, INVALID, None) for n in range(0, 20)]
    [event] = decide(history, kpi(INVALID, None, note="C5: not a number"), 20, notify_invalid=False)
    assert event.message.endswith("nobody updated this KPI for 20 days. (C5: not a number)")


def test_an_unchanged_value_for_stale_after_days_is_a_data_quality_alert():
    nightly = Nightly(stale_after_days=14)
    for n in range(0, 14):
        assert nightly.kinds(n, kpi(Status.AT_RISK, 45_000)) == [], f"day {n}"
    [event] = nightly.run(14, kpi(Status.AT_RISK, 45_000))
    assert event.kind is EventKind.STALE
    assert event.message == (
        "Value $45,000 unchanged since 5 Jan: nobody updated this KPI for 14 days."
    )


def test_a_value_that_moves_is_never_stale():
    nightly = Nightly(stale_after_days=14)
    assert all(nightly.kinds(n, kpi(ON, 45_000 + n)) == [] for n in range(0, 40))


def test_stale_after_days_zero_turns_the_stale_rule_off():
    nightly = Nightly(stale_after_days=0)
    assert all(nightly.kinds(n, kpi(NO_DATA, None)) == [] for n in range(0, 40))


# Once per change


def test_rerunning_the_same_date_does_not_alert_the_same_transition_again():
    nightly = Nightly()
    nightly.run(0, kpi(ON))
    first = nightly.run(1, kpi(OFF))
    assert [e.kind for e in first] == [EventKind.ALERT]
    assert nightly.run(1, kpi(OFF)) == []
    assert nightly.run(1, kpi(OFF, 39_000)) == []


def test_rerunning_a_date_whose_events_were_not_logged_gives_the_same_event_ids():
    history = [record(0, ON)]
    first = decide(history, kpi(OFF), 1)
    again = decide(history, kpi(OFF), 1)
    assert [e.id for e in first] == [e.id for e in again]
    assert first[0].id == event_id("Sales", "kpi", "Monthly revenue", EventKind.ALERT, day(1))
    assert first[0].id.startswith("alert-20260106-")


def test_same_kpi_in_two_workbooks_gets_different_event_ids():
    a = decide_alerts([], [kpi(OFF)], day(0), Alerts(), [], workbook="Sales")
    b = decide_alerts([], [kpi(OFF)], day(0), Alerts(), [], workbook="Marketing")
    assert a[0].id != b[0].id


def test_history_rows_of_the_run_date_itself_are_ignored():
    # A first run of the day already wrote today's row; the re-run must judge against
    # yesterday, not against itself.
    history = [record(0, ON), record(1, OFF)]
    [event] = decide(history, kpi(OFF), 1)
    assert event.from_status is ON


# Property: never the same event twice


statuses = st.sampled_from([ON, RISK, OFF, NO_DATA, INVALID, MISSED, Status.DONE])
runs = st.lists(
    st.tuples(
        st.integers(0, 3),  # days since the previous run (0: a re-run of the same date)
        statuses,
        st.sampled_from([None, 10.0, 20.0, 30.0]),
        st.booleans(),  # a second KPI's status flips
    ),
    min_size=1,
    max_size=60,
)


@settings(max_examples=150, deadline=None)
@given(
    runs=runs,
    alert_after=st.integers(1, 3),
    remind=st.integers(0, 8),
    stale=st.integers(0, 10),
    at_risk=st.booleans(),
)
def test_running_nightly_with_the_log_never_emits_an_event_id_twice(
    runs, alert_after, remind, stale, at_risk
):
    nightly = Nightly(
        alert_after=alert_after,
        remind_every_days=remind,
        stale_after_days=stale,
        notify_at_risk=at_risk,
    )
    seen: set[str] = set()
    n = 0
    for gap, status, value, flip in runs:
        n += gap
        items = [kpi(status, value), kpi(OFF if flip else ON, key="Churn", name="Churn")]
        for event in nightly.run(n, *items):
            assert event.id not in seen
            seen.add(event.id)
        # and the very same run again right away says nothing new
        assert nightly.run(n, *items) == []


def test_a_steady_item_that_is_on_track_or_done_is_never_stale():
    nightly = Nightly(stale_after_days=14)
    launch = kpi(Status.DONE, 1.0, key="Launch", name="Launch")
    for n in range(0, 60):
        assert nightly.kinds(n, kpi(ON, 45_000), launch) == [], f"day {n}"


def test_off_track_turning_missed_when_the_period_ends_is_news():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(Status.OFF_TRACK)) == ["alert"]
    assert nightly.kinds(1, kpi(Status.OFF_TRACK)) == []
    [event] = nightly.run(2, kpi(Status.MISSED))
    assert event.kind is EventKind.ALERT
    assert event.message.startswith("Missed (was Off track).")
    assert nightly.kinds(3, kpi(Status.MISSED)) == [], "graded once, never reminded"


def test_becoming_invalid_tells_the_owner_at_once_which_cell_is_wrong():
    nightly = Nightly()
    assert nightly.kinds(0, kpi(ON, 45_000)) == []
    note = "G3: Target: not a number (found 'ten')"
    [event] = nightly.run(1, kpi(INVALID, None, note=note))
    assert event.kind is EventKind.INVALID
    assert event.message == (
        "Invalid (was On track): G3: Target: not a number (found 'ten'). "
        "Fix the cell so sheetsync can score it again."
    )
    assert nightly.kinds(2, kpi(INVALID, None, note=note)) == [], "once per spell"
    assert nightly.kinds(3, kpi(ON, 45_000)) == []
    assert nightly.kinds(4, kpi(INVALID, None, note=note)) == ["invalid"], "a new spell"


def test_after_a_correction_the_change_says_it_was_invalid_not_blank():
    nightly = Nightly(notify_recovered=True)
    nightly.run(0, kpi(Status.OFF_TRACK, 30_000))
    nightly.run(1, kpi(INVALID, None, note="G3: Target: not a number (found 'ten')"))
    [event] = nightly.run(2, kpi(ON, 50_000))
    assert "was invalid (G3: Target: not a number (found 'ten')) on 6 Jan" in event.message


def test_easing_from_off_track_to_at_risk_is_news_only_when_asked_for():
    quiet, told = Nightly(), Nightly(notify_improving=True)
    for nightly in (quiet, told):
        nightly.run(0, kpi(OFF, 30_000))
    assert quiet.kinds(1, kpi(RISK, 46_000)) == []
    [event] = told.run(1, kpi(RISK, 46_000))
    assert event.kind is EventKind.IMPROVING
    assert event.message.startswith("Improving: At risk (was Off track). $46,000 vs target")
    assert told.kinds(2, kpi(RISK, 47_000)) == [], "said once per change"


def test_reaching_done_is_a_win_when_wins_are_asked_for_but_not_on_the_first_run():
    nightly = Nightly(notify_wins=True)
    assert nightly.kinds(0, kpi(Status.DONE, 1.0, key="Launch", name="Launch")) == []
    assert nightly.kinds(0, kpi(ON, 45_000)) == []
    [event] = nightly.run(1, kpi(Status.DONE, 50_000))
    assert event.kind is EventKind.WIN
    assert nightly.kinds(2, kpi(Status.DONE, 50_000)) == []


# Check-ins: a confidence drop


def test_a_confidence_drop_of_three_points_is_alerted_unless_notify_confidence_is_off():
    history = [record(0, ON, confidence=8.0)]
    [event] = decide(history, kpi(ON, confidence=4.0), 1)
    assert event.kind is EventKind.CONFIDENCE
    assert event.message.startswith("Confidence dropped to 4/10 (was 8/10 on 5 Jan)")

    assert decide(history, kpi(ON, confidence=4.0), 1, notify_confidence=False) == []
