"""Scoring rules: progress, pace, grading after the period, KPIs and objective roll-ups."""

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sheetsync.core.model import Direction, KeyResult, KeyResultScore, Kpi, KrType, Period, Status
from sheetsync.core.scoring import (
    AtPeriodEnd,
    Rules,
    score_key_result,
    score_kpi,
    score_objective,
)

Q4 = Period(date(2026, 10, 1), date(2026, 12, 31), "2026-Q4")
HALF_WAY = date(2026, 11, 15)  # 46 of 92 days: expected progress 0.5
AFTER = date(2027, 1, 10)
RULES = Rules()


def kr(**kw) -> KeyResult:
    base = dict(row=2, objective="O", text="KR", start=0.0, target=100.0, period=Q4)
    return KeyResult(**(base | kw))


def test_increasing_metric_scores_its_share_of_the_distance():
    s = score_key_result(kr(current=60.0), HALF_WAY, RULES)
    assert s.score == pytest.approx(0.6)
    assert s.status is Status.ON_TRACK


def test_decreasing_metric_uses_the_same_formula_response_time_4h_to_2h():
    s = score_key_result(
        kr(start=4.0, target=2.0, current=3.0, direction=Direction.DECREASE), HALF_WAY, RULES
    )
    assert s.score == pytest.approx(0.5)


def test_overachievement_is_capped_but_visible_in_the_note():
    s = score_key_result(kr(current=125.0), HALF_WAY, RULES)
    assert s.score == 1.0
    assert s.status is Status.DONE
    assert "125% of target" in s.note


def test_negative_progress_scores_zero_and_says_why():
    s = score_key_result(kr(start=10.0, target=20.0, current=5.0), HALF_WAY, RULES)
    assert s.score == 0.0
    assert s.status is Status.OFF_TRACK
    assert "wrong way" in s.note


@pytest.mark.parametrize(
    ("current", "status"),
    [
        (50.0, Status.ON_TRACK),
        (40.0, Status.AT_RISK),
        (37.5, Status.AT_RISK),
        (30.0, Status.OFF_TRACK),
    ],
)
def test_pace_status_compares_score_with_expected_progress(current, status):
    assert score_key_result(kr(current=current), HALF_WAY, RULES).status is status


def test_pace_thresholds_come_from_config():
    strict = Rules(on_track=1.2, at_risk=1.0)
    assert score_key_result(kr(current=50.0), HALF_WAY, strict).status is Status.AT_RISK


@pytest.mark.parametrize(
    ("current", "status"),
    [(70.0, Status.ACHIEVED), (40.0, Status.PARTIAL), (39.0, Status.MISSED)],
)
def test_after_the_period_a_key_result_is_graded(current, status):
    s = score_key_result(kr(current=current), AFTER, RULES)
    assert s.status is status
    assert "final grade" in s.note


def test_no_current_value_is_no_data():
    s = score_key_result(kr(current=None), HALF_WAY, RULES)
    assert (s.score, s.status) == (None, Status.NO_DATA)


def test_kpi_linked_key_result_uses_the_kpi_actual_when_current_is_blank():
    s = score_key_result(kr(current=None, kpi="Retention"), HALF_WAY, RULES, kpi_actual=80.0)
    assert s.score == pytest.approx(0.8)
    assert "KPI 'Retention'" in s.note


def test_own_current_value_wins_over_the_linked_kpi():
    s = score_key_result(kr(current=10.0, kpi="Retention"), HALF_WAY, RULES, kpi_actual=80.0)
    assert s.score == pytest.approx(0.1)


def test_milestone_done_scores_one_and_not_done_scores_zero():
    assert score_key_result(kr(type=KrType.MILESTONE, done=True), HALF_WAY, RULES).score == 1.0
    pending = score_key_result(kr(type=KrType.MILESTONE, done=False), HALF_WAY, RULES)
    assert (pending.score, pending.status) == (0.0, Status.ON_TRACK)
    late = score_key_result(kr(type=KrType.MILESTONE, done=False), AFTER, RULES)
    assert late.status is Status.MISSED


@pytest.mark.parametrize(
    ("current", "score", "status"),
    [(3.0, 1.0, Status.ON_TRACK), (2.5, 0.0, Status.AT_RISK), (1.0, 0.0, Status.OFF_TRACK)],
)
def test_stay_above_holds_a_level_with_an_amber_band(current, score, status):
    s = score_key_result(
        kr(type=KrType.STAY_ABOVE, target=3.0, warning=2.5, current=current), HALF_WAY, RULES
    )
    assert (s.score, s.status) == (score, status)


def test_stay_below_churn_under_three_percent():
    ok = score_key_result(kr(type=KrType.STAY_BELOW, target=0.03, current=0.024), HALF_WAY, RULES)
    bad = score_key_result(kr(type=KrType.STAY_BELOW, target=0.03, current=0.05), HALF_WAY, RULES)
    assert ok.status is Status.ON_TRACK
    assert bad.status is Status.OFF_TRACK


def kpi(**kw) -> Kpi:
    return Kpi(**(dict(row=2, name="Revenue", target=100.0, warning=90.0) | kw))


@pytest.mark.parametrize(
    ("actual", "status"),
    [
        (100.0, Status.ON_TRACK),
        (95.0, Status.AT_RISK),
        (89.0, Status.OFF_TRACK),
        (None, Status.NO_DATA),
    ],
)
def test_kpi_higher_is_better(actual, status):
    assert score_kpi(kpi(actual=actual)).status is status


@pytest.mark.parametrize(
    ("actual", "status"),
    [(2.0, Status.ON_TRACK), (2.5, Status.AT_RISK), (3.5, Status.OFF_TRACK)],
)
def test_kpi_lower_is_better_response_time(actual, status):
    k = kpi(higher_is_better=False, target=2.0, warning=3.0, actual=actual)
    assert score_kpi(k).status is status


def test_objective_is_the_weighted_mean_and_no_data_counts_as_zero():
    scores = [
        score_key_result(kr(current=100.0, weight=2.0), HALF_WAY, RULES),
        score_key_result(kr(current=40.0), HALF_WAY, RULES),
        score_key_result(kr(current=None), HALF_WAY, RULES),
    ]
    obj = score_objective("O", scores, HALF_WAY, RULES, invalid=1)
    assert obj.score == pytest.approx((2 * 1.0 + 0.4 + 0) / 4)
    assert obj.counts[Status.INVALID] == 1
    assert "1 invalid key result left out" in obj.note
    assert "without data counted as 0" in obj.note


def test_objective_with_only_invalid_rows_is_invalid():
    assert score_objective("O", [], HALF_WAY, RULES, invalid=2).status is Status.INVALID


@given(
    start=st.floats(-1e6, 1e6),
    target=st.floats(-1e6, 1e6),
    current=st.floats(-1e7, 1e7),
    day=st.dates(date(2026, 9, 1), date(2027, 2, 1)),
)
def test_score_is_always_between_zero_and_one_and_status_matches_colour_rules(
    start, target, current, day
):
    if abs(target - start) < 1e-9:
        return
    s = score_key_result(kr(start=start, target=target, current=current), day, RULES)
    assert s.score is not None and 0.0 <= s.score <= 1.0
    assert s.progress == pytest.approx((current - start) / (target - start))
    if s.score == 1.0 and day <= Q4.end:
        assert s.status is Status.DONE


@given(a=st.floats(0, 1e6), b=st.floats(0, 1e6), start=st.floats(0, 10), width=st.floats(1, 1e6))
def test_more_progress_never_lowers_the_score(a, b, start, width):
    lo, hi = sorted((a, b))
    s_lo = score_key_result(kr(start=start, target=start + width, current=lo), HALF_WAY, RULES)
    s_hi = score_key_result(kr(start=start, target=start + width, current=hi), HALF_WAY, RULES)
    assert s_lo.score <= s_hi.score


def test_an_objective_whose_key_results_are_all_on_track_is_on_track_with_an_open_milestone():
    scores = [
        score_key_result(kr(current=55.0), HALF_WAY, RULES),
        score_key_result(kr(current=55.0), HALF_WAY, RULES),
        score_key_result(kr(type=KrType.MILESTONE, done=False), HALF_WAY, RULES),
    ]
    assert all(s.status is Status.ON_TRACK for s in scores)
    assert score_objective("O", scores, HALF_WAY, RULES).status is Status.ON_TRACK


def test_an_objective_is_graded_once_all_its_periods_have_ended():
    scores = [score_key_result(kr(current=50.0), AFTER, RULES)]
    assert score_objective("O", scores, AFTER, RULES).status is Status.PARTIAL


STATUSES_WHILE_RUNNING = [
    Status.DONE, Status.ON_TRACK, Status.AT_RISK, Status.OFF_TRACK, Status.NO_DATA,
]  # fmt: skip
CURRENT_FOR = {Status.DONE: 100.0, Status.ON_TRACK: 60.0, Status.AT_RISK: 40.0,
               Status.OFF_TRACK: 10.0, Status.NO_DATA: None}  # fmt: skip
"""A Current that gives each status half way through Q4 (expected progress 0.5)."""


def with_status(status: Status, weight: float) -> KeyResultScore:
    s = score_key_result(kr(current=CURRENT_FOR[status], weight=weight), HALF_WAY, RULES)
    assert s.status is status
    return s


key_results = st.lists(
    st.tuples(st.sampled_from(STATUSES_WHILE_RUNNING), st.integers(1, 5)), min_size=1, max_size=8
)


@given(key_results)
def test_an_objective_whose_key_results_are_all_on_track_or_done_is_on_track(picked):
    green = [with_status(s, w) for s, w in picked if s in (Status.DONE, Status.ON_TRACK)]
    if green:
        status = score_objective("O", green, HALF_WAY, RULES).status
        assert status in (Status.ON_TRACK, Status.DONE)


@given(key_results)
def test_more_than_half_the_weight_off_track_is_never_on_track(picked):
    scores = [with_status(s, w) for s, w in picked]
    off = sum(s.key_result.weight for s in scores if s.status is Status.OFF_TRACK)
    if off > sum(s.key_result.weight for s in scores) / 2:
        assert score_objective("O", scores, HALF_WAY, RULES).status is Status.OFF_TRACK


@given(key_results, st.integers(1, 5))
def test_an_open_milestone_not_yet_due_neither_helps_nor_hurts(picked, weight):
    scores = [with_status(s, w) for s, w in picked]
    milestone = score_key_result(
        kr(type=KrType.MILESTONE, done=False, weight=float(weight)), HALF_WAY, RULES
    )
    without = score_objective("O", scores, HALF_WAY, RULES)
    with_it = score_objective("O", [*scores, milestone], HALF_WAY, RULES)
    assert (with_it.score, with_it.status) == (without.score, without.status)


def test_the_objective_rule_by_hand_green_one_point_amber_half_red_none():
    scores = [
        with_status(Status.ON_TRACK, 1),  # 1 point
        with_status(Status.AT_RISK, 1),  # 1/2
        with_status(Status.OFF_TRACK, 1),  # 0
    ]
    assert score_objective("O", scores, HALF_WAY, RULES).status is Status.AT_RISK  # 1.5/3
    more = [*scores, with_status(Status.ON_TRACK, 3)]
    assert score_objective("O", more, HALF_WAY, RULES).status is Status.ON_TRACK  # 4.5/6


def test_weakest_key_result_decides_when_configured():
    rules = Rules(objective_status="weakest")
    scores = [with_status(Status.ON_TRACK, 5), with_status(Status.AT_RISK, 1)]
    assert score_objective("O", scores, HALF_WAY, rules).status is Status.AT_RISK
    assert score_objective("O", scores, HALF_WAY, RULES).status is Status.ON_TRACK


JAN2 = date(2027, 1, 2)
Q1 = Period(date(2027, 1, 1), date(2027, 3, 31), "2027-Q1")


def test_early_in_a_period_a_key_result_with_no_progress_is_on_track_with_a_note():
    s = score_key_result(kr(start=40.0, current=40.0, period=Q1), JAN2, RULES)
    assert s.status is Status.ON_TRACK
    assert s.note == "early in 2027-Q1: judged from 15 Jan"


def test_early_in_a_period_moving_the_wrong_way_is_still_off_track():
    s = score_key_result(kr(start=40.0, current=35.0, period=Q1), JAN2, RULES)
    assert s.status is Status.OFF_TRACK


def test_after_the_grace_days_pace_is_judged_again():
    s = score_key_result(kr(start=40.0, current=40.0, period=Q1), date(2027, 1, 15), RULES)
    assert s.status is Status.OFF_TRACK
    assert (
        score_key_result(kr(start=40.0, current=40.0, period=Q1), JAN2, Rules(grace_days=0)).status
        is Status.OFF_TRACK
    )


def test_a_level_fed_by_a_kpi_keeps_the_grade_its_colour_had_at_the_end():
    level = kr(type=KrType.STAY_ABOVE, target=50.0, warning=40.0, kpi="Uptime")
    at_end = AtPeriodEnd(date(2026, 12, 31), 0.0, 45.0, Status.AT_RISK)
    s = score_key_result(level, AFTER, RULES, kpi_actual=60.0, at_end=at_end)
    assert (s.score, s.status) == (0.0, Status.PARTIAL)


def test_a_milestone_ticked_after_the_end_is_a_correction():
    at_end = AtPeriodEnd(date(2026, 12, 31), 0.0, 0.0, Status.ON_TRACK)
    s = score_key_result(kr(type=KrType.MILESTONE, done=True), AFTER, RULES, at_end=at_end)
    assert s.status is Status.DONE
    assert s.note == "corrected after the period ended (was not done on 2026-12-31)"


def test_an_unchanged_current_after_the_end_is_graded_as_usual():
    at_end = AtPeriodEnd(date(2026, 12, 31), 0.5, 50.0, Status.AT_RISK)
    s = score_key_result(kr(current=50.0), AFTER, RULES, at_end=at_end)
    assert (s.status, s.note) == (Status.PARTIAL, "final grade 0.50 (2026-Q4 ended)")
