"""History's compact state: the alerts a run decides from it are the ones the whole History
gave, History gets rows only when something changed, and the state stays small.

`Workbook` plays both versions of the workbook side by side: the old one, where History had
one row per item per night and the decisions read it whole, and the new one, where a run
reads the state tab and appends only changed rows to History.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.alerts import (
    WorkbookAlertPlan,
    delivery_plan,
    load_memory,
    parse_history,
    plan_workbook_alerts,
)
from sheetsync.alerts.decide import decide_alerts
from sheetsync.alerts.deliver import DeliveryReport, DigestResult
from sheetsync.alerts.history import updated_history
from sheetsync.alerts.log import SENT, new_log_records, parse_alert_log, updated_alerts_tab
from sheetsync.alerts.pending import owed_alerts, skipped_outcomes
from sheetsync.alerts.state import (
    Period,
    before,
    memory_from_history,
    parse_state,
    state_tab,
)
from sheetsync.config import Alerts
from sheetsync.core.model import ItemState, Status
from sheetsync.core.plan import Grid, OwnedTab, WritePlan

START = date(2026, 1, 5)
ON, RISK, OFF = Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK


def leads(status: Status, value: float | None, confidence: float | None = None, **kw) -> ItemState:
    return ItemState(
        kind="kr",
        key="Grow / Leads",
        name="Leads",
        status=status,
        owner="ana@example.com",
        value=value,
        target=100.0,
        score=None if value is None else value / 100,
        confidence=confidence,
        **kw,
    )


def churn(status: Status, value: float | None) -> ItemState:
    return ItemState(
        kind="kpi",
        key="Churn",
        name="Churn",
        status=status,
        owner="ben@example.com",
        value=value,
        target=0.05,
        score=None if value is None else 0.05 / max(value, 0.001),
    )


def written(grid_read: Grid | None, whole: OwnedTab | None, added: OwnedTab | None) -> Grid | None:
    """A log tab (History, Alerts) after the plan was written, as a backend writes it
    (rewritten when the plan has it whole, else its new rows put below the others)."""
    if whole is not None:
        return whole.rows
    grid = [list(r) for r in grid_read or []]
    if added is not None:
        assert len(grid) == added.first_row - 1, "appended right below the last row"
        grid += [list(r) for r in added.rows]
    return grid


def with_cells(grid: Grid | None, write: WritePlan, tab: str) -> Grid | None:
    """`grid` after `write`'s cells of `tab` (each guard checked first), or its whole tab."""
    whole = next((t for t in write.owned_tabs if t.name == tab), None)
    if whole is not None:
        return whole.rows
    rows = [list(r) for r in grid or []]
    for guard in write.guards:
        if guard.tab == tab:
            assert rows[guard.row - 1][guard.col - 1] == guard.expected, "the marked row"
    for cell in write.cells:
        if cell.tab == tab:
            line = rows[cell.row - 1]
            line += [None] * (cell.col - len(line))
            line[cell.col - 1] = cell.value
    return rows


@dataclass
class Workbook:
    """One workbook run night after night, the old way and the new way."""

    settings: Alerts
    old_history: Grid | None = None
    old_alerts: Grid | None = None
    history: Grid | None = None
    alerts: Grid | None = None
    state: Grid | None = None
    events: list[list[tuple[object, ...]]] = field(default_factory=list)
    old_events: list[list[tuple[object, ...]]] = field(default_factory=list)
    skipped: list[list[str]] = field(default_factory=list)

    def run(self, items: list[ItemState], as_of: date, deliver: bool = False) -> None:
        """One night; with `deliver`, every pending alert is then sent (in both versions)."""
        now = datetime.combine(as_of, datetime.min.time())
        old = decide_alerts(
            parse_history(self.old_history),
            items,
            as_of,
            self.settings,
            parse_alert_log(self.old_alerts),
            workbook="Sales",
        )
        self.old_history = updated_history(self.old_history, items, as_of, "Sales").rows
        self.old_alerts = updated_alerts_tab(
            self.old_alerts, "Sales", new=new_log_records(old, now, self.settings)
        ).rows
        old_pending, skipped = owed_alerts(
            parse_alert_log(self.old_alerts),
            parse_history(self.old_history),
            items,
            self.settings,
            workbook="Sales",
        )
        self.old_alerts = updated_alerts_tab(
            self.old_alerts, "Sales", outcomes=skipped_outcomes(skipped)
        ).rows
        memory = load_memory(self.state, self.history, self.alerts)
        plan = plan_workbook_alerts(
            "Sales", "", self.history, self.alerts, items, as_of, now, self.settings, memory=memory
        )
        assert plan.state_tab
        self.history = written(self.history, plan.history_tab, plan.history_append)
        self.alerts = written(self.alerts, plan.alerts_tab, plan.alerts_append)
        self.state = plan.state_tab.rows
        self.old_events.append([(e.id, e.message, e.from_status, e.since) for e in old])
        self.events.append([(e.id, e.message, e.from_status, e.since) for e in plan.events])
        pending = [(p.event_id, p.message) for p in plan.pending]
        self.skipped.append(plan.skipped)
        assert pending == [(p.event_id, p.message) for p in old_pending], f"pending on {as_of}"
        if deliver:
            sent = {(p.event_id, r.casefold()): SENT for p in plan.pending for r in p.recipients}
            report = DeliveryReport(
                [
                    DigestResult(r, f"<{p.event_id}>", (p.event_id,), SENT)
                    for p in plan.pending
                    for r in p.recipients
                ]
            )
            write = delivery_plan(plan, report, workbook="Sales")
            self.alerts = with_cells(self.alerts, write, "Alerts")
            self.state = with_cells(self.state, write, "History state")
            self.old_alerts = updated_alerts_tab(self.old_alerts, "Sales", outcomes=sent).rows


NIGHT = st.tuples(
    st.sampled_from([0, 1, 1, 1, 1, 2, 4]),  # days since the last run (0: a re-run)
    st.sampled_from([ON, ON, RISK, OFF, OFF, Status.NO_DATA, Status.INVALID]),
    st.sampled_from([None, 40.0, 40.0, 55.0, 70.0]),
    st.sampled_from([None, None, 8.0, 3.0]),
    st.sampled_from([ON, RISK, OFF, OFF]),
    st.sampled_from([0.04, 0.04, 0.06]),
    st.booleans(),  # the night's alerts are delivered
)


@settings(max_examples=80, deadline=None)
@given(
    nights=st.lists(NIGHT, min_size=1, max_size=45),
    alert_after=st.sampled_from([1, 2, 3]),
    at_risk=st.booleans(),
    remind=st.sampled_from([0, 3, 7]),
    stale=st.sampled_from([0, 5, 14]),
)
def test_alerts_decided_from_the_state_are_the_ones_the_whole_history_gave(
    nights, alert_after, at_risk, remind, stale
):
    book = Workbook(
        Alerts(
            alert_after=alert_after,
            notify_at_risk=at_risk,
            remind_every_days=remind,
            stale_after_days=stale,
            notify_improving=True,
            notify_wins=True,
            history_days=0,
        )
    )
    day = START
    for gap, status, value, confidence, kpi_status, kpi_value, deliver in nights:
        day += timedelta(days=gap)
        book.run([leads(status, value, confidence), churn(kpi_status, kpi_value)], day, deliver)
    assert book.events == book.old_events


def test_history_gets_a_row_only_when_an_item_changes_and_a_rerun_adds_none():
    book = Workbook(Alerts())
    for n in range(10):
        book.run([leads(ON, 40.0)], START + timedelta(days=n))
    book.run([leads(ON, 55.0)], START + timedelta(days=10))
    book.run([leads(ON, 55.0)], START + timedelta(days=10))  # a re-run of the same date
    book.run([leads(ON, 55.0, checked_in=START + timedelta(days=11))], START + timedelta(days=11))
    assert book.history is not None
    rows = [(r[0], r[7]) for r in book.history[2:]]
    day10, day11 = START + timedelta(days=10), START + timedelta(days=11)
    assert rows == [(START, 40.0), (day10, 55.0), (day11, 55.0)], "the check-in is a change"
    memory = parse_state(book.state)
    assert memory is not None and memory.history_rows == 5
    (spell, spell2) = memory.of("kr", "Grow / Leads").spells
    assert (spell.first, spell.last, spell.runs) == (START, START + timedelta(days=9), 10)
    assert (spell2.first, spell2.runs) == (START + timedelta(days=10), 2)


def test_a_key_result_gets_one_row_at_its_period_end_with_its_final_figures():
    period = Period(date(2026, 1, 1), date(2026, 3, 31))
    plan = None
    history: Grid | None = None
    state: Grid | None = None
    for day in (date(2026, 3, 29), date(2026, 3, 30), date(2026, 3, 31), date(2026, 4, 1)):
        plan = plan_workbook_alerts(
            "Sales",
            "",
            history,
            None,
            [leads(ON, 90.0)],
            day,
            datetime(2026, 1, 1),
            Alerts(enabled=False),
            memory=load_memory(state, history, None),
            periods={("kr", "Grow / Leads"): period},
        )
        assert plan.state_tab
        history = written(history, plan.history_tab, plan.history_append)
        state = plan.state_tab.rows
    assert history is not None
    assert [r[0] for r in history[2:]] == [date(2026, 3, 29), date(2026, 3, 31)]
    memory = parse_state(state)
    assert memory is not None
    past = before(memory.of("kr", "Grow / Leads"), date(2026, 4, 2), period)
    assert past.earlier.end is not None and past.earlier.end.as_of == date(2026, 3, 31)
    assert past.earlier.start == (date(2026, 3, 29), 90.0)


def test_an_old_history_tab_is_kept_row_for_row_and_the_state_is_built_from_it_once():
    old = Workbook(Alerts())
    for n in range(6):
        old.run([leads(OFF if n > 2 else ON, 40.0 + n)], START + timedelta(days=n))
    old_rows = [list(r) for r in old.old_history or []]
    memory = load_memory(None, old_rows, old.old_alerts)
    plan = plan_workbook_alerts(
        "Sales",
        "",
        old_rows,
        old.old_alerts,
        [leads(OFF, 45.0)],
        START + timedelta(days=6),
        datetime(2026, 1, 12),
        Alerts(),
        memory=memory,
    )
    assert plan.history_tab is not None and plan.history_tab.rows[: len(old_rows)] == old_rows
    assert len(plan.history_tab.rows) == len(old_rows), "unchanged since the last night: no row"
    assert [e.kind.value for e in plan.events] == []
    assert memory == memory_from_history(parse_history(old_rows), len(old_rows), alerted={
        "Grow / Leads": {START + timedelta(days=3)}
    })  # fmt: skip


def test_the_state_tab_reads_back_what_it_wrote():
    book = Workbook(Alerts(notify_improving=True))
    for n, (status, value) in enumerate([(ON, 40.0), (OFF, 20.0), (OFF, 20.0), (RISK, 30.0)]):
        book.run([leads(status, value, 8.0 - n), churn(ON, 0.04)], START + timedelta(days=n))
    memory = parse_state(book.state)
    assert memory is not None
    assert state_tab(memory, tab="History state").rows == book.state


def test_spells_older_than_the_kept_days_are_dropped():
    book = Workbook(Alerts(history_days=10))
    for n in range(40):
        book.run([leads(ON, float(n // 5))], START + timedelta(days=n))
    memory = parse_state(book.state)
    assert memory is not None
    spells = memory.of("kr", "Grow / Leads").spells
    assert len(spells) == 3 and spells[0].last >= START + timedelta(days=39 - 10)


def test_the_state_tabs_date_columns_are_wide_enough_to_show_a_date():
    """A date in a column of Excel's default width shows as '###' (seen in the demo's PDF)."""
    from sheetsync.alerts.state import STATE_HEADER, Memory, state_tab

    tab = state_tab(Memory(history_rows=2), tab="History state")
    for name in ("From", "To", "Before", "Updated", "Recorded", "Start on", "End on"):
        assert tab.widths.get(STATE_HEADER.index(name) + 1, 0) >= 11, name


def _night(book: Workbook, n: int, value: float) -> WorkbookAlertPlan:
    items = [leads(OFF, value), churn(ON, 0.04)]
    memory = load_memory(book.state, book.history, book.alerts)
    day = START + timedelta(days=n)
    plan = plan_workbook_alerts(
        "Sales", "", book.history, book.alerts, items, day,
        datetime.combine(day, datetime.min.time()), book.settings, memory=memory,
    )  # fmt: skip
    assert plan.state_tab is not None
    book.history = written(book.history, plan.history_tab, plan.history_append)
    book.alerts = written(book.alerts, plan.alerts_tab, plan.alerts_append)
    book.state = plan.state_tab.rows
    return plan


def test_state_rows_sorted_by_hand_read_back_the_same_and_add_no_history_row():
    """A person sorts the state tab's rows (newest first, say): it reads back as it was, and
    the next unchanged night adds no History row."""
    book = Workbook(Alerts(alert_after=1, remind_every_days=2))
    for n, value in enumerate([40.0, 20.0, 20.0, 20.0, 30.0, 30.0]):
        _night(book, n, value)
    assert book.state is not None
    assert len([r for r in book.state[2:] if r[1] == "Grow / Leads"]) > 1, "several spells"
    as_written = parse_state(book.state)
    book.state = [*book.state[:2], *reversed(book.state[2:])]

    assert parse_state(book.state) == as_written
    plan = _night(book, 6, 30.0)
    assert plan.history_rows == 0, "nothing changed: no History row"


def test_only_yes_in_the_alerted_column_means_an_alert_was_raised():
    """'no' (or any other word a person types) in the Alerted column is not a yes."""
    from sheetsync.alerts.state import STATE_HEADER

    book = Workbook(Alerts())
    _night(book, 0, 40.0)
    assert book.state is not None
    column = STATE_HEADER.index("Alerted")
    rows = [list(r) + [None] * (len(STATE_HEADER) - len(r)) for r in book.state[2:]]
    spells = [row for row in rows if row[0] != "Logged"]  # not the Alerts log's memory
    for row, text in zip(spells, ["no", "yes"], strict=True):
        row[column] = text
    memory = parse_state([*book.state[:2], *rows])
    assert memory is not None
    assert [s.alerted for m in memory.items.values() for s in m.spells] == [False, True]


def test_the_state_tabs_marker_is_not_cut_by_its_history_rows_cell():
    """A1's marker text runs over the empty cells to its right: the History rows label and
    count sit past the header's last column, not in B1 and C1."""
    from sheetsync.alerts.state import STATE_HEADER, Memory, state_tab

    top = state_tab(Memory(history_rows=7), tab="History state").rows[0]
    assert all(cell in (None, "") for cell in top[1 : len(STATE_HEADER)])
    assert top[-2:] == ["History rows", 7]
    assert parse_state(state_tab(Memory(history_rows=7), tab="History state").rows) == Memory(
        history_rows=7, from_tab=True
    )


def test_a_state_tab_with_its_history_rows_in_c1_still_reads():
    """A state tab written before the count moved (label in B1, count in C1) reads as before."""
    from sheetsync.alerts.state import Memory, state_tab

    rows = state_tab(Memory(history_rows=7), tab="History state").rows
    old = [[rows[0][0], "History rows", 7], *rows[1:]]
    assert parse_state(old) == Memory(history_rows=7, from_tab=True)


def test_history_days_never_cuts_history_an_unchanged_items_only_row_stays():
    """History records changes only, so an item unchanged for longer than `history_days` has
    one row, from long ago, which is still what it shows: no date cut drops it (History is
    not cut at all; `history_days` bounds the state tab). Here the state is built from an old
    History on a workbook's first run with this version."""
    settings = Alerts(history_days=30)
    first = plan_workbook_alerts(
        "Sales", "", None, None, [churn(ON, 0.04)], START,
        datetime.combine(START, datetime.min.time()), settings,
    )  # fmt: skip
    assert first.history_tab is not None
    later = START + timedelta(days=200)
    plan = plan_workbook_alerts(
        "Sales", "", first.history_tab.rows, None, [churn(ON, 0.04)], later,
        datetime.combine(later, datetime.min.time()), settings,
    )  # fmt: skip
    assert plan.history_tab is not None
    rows = parse_history(plan.history_tab.rows)
    assert [(r.as_of, r.key) for r in rows] == [(START, "Churn")]
