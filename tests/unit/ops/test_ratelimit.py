"""The request limiter: never more than the budget in any 60-second window, across threads."""

from __future__ import annotations

import random
import threading
import time

import pytest

from sheetsync.ops.ratelimit import RateLimiter


class FakeClock:
    """Monotonic seconds that move only when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def limiter(rpm: float, clock: FakeClock, shards: int = 1) -> RateLimiter:
    return RateLimiter(rpm, shards=shards, clock=clock, sleep=clock.sleep)


def max_in_any_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


def test_requests_within_the_budget_go_at_once() -> None:
    clock = FakeClock()
    rl = limiter(50, clock)

    for _ in range(50):
        assert rl.acquire()

    assert clock.sleeps == []


def test_the_request_over_budget_waits_until_the_oldest_is_a_minute_old() -> None:
    clock = FakeClock()
    rl = limiter(50, clock)
    for _ in range(50):
        rl.acquire()
        clock.now += 0.5  # 50 requests over 25 seconds

    rl.acquire()

    assert clock.sleeps == [pytest.approx(35.0)]  # first went at 1000.0, now is 1025.0
    assert clock.now == pytest.approx(1060.0)


def test_a_steady_stream_is_held_to_the_budget_in_every_window() -> None:
    clock = FakeClock()
    rl = limiter(30, clock)
    rng = random.Random(5)
    sent = []
    for _ in range(500):
        clock.now += rng.expovariate(2.0)  # callers want ~120 a minute
        rl.acquire()
        sent.append(clock.now)

    assert max_in_any_window(sent, 60.0 - 1e-6) == 30  # 1e-6: float rounding of slot times
    minutes = (sent[-1] - sent[0]) / 60
    assert len(sent) / minutes == pytest.approx(30, rel=0.05)  # and it is not slower than that


def test_waiting_callers_are_served_in_the_order_they_asked() -> None:
    clock = FakeClock()
    # A sleep that does not move the clock: every caller reserves its slot in turn.
    reserved: list[float] = []
    rl = RateLimiter(2, clock=clock, sleep=reserved.append)

    for _ in range(6):
        rl.acquire()

    assert reserved == [60.0, 60.0, 120.0, 120.0]


def test_acquire_with_a_timeout_gives_up_without_spending_budget() -> None:
    clock = FakeClock()
    rl = limiter(2, clock)
    rl.acquire()
    rl.acquire()

    assert rl.acquire(timeout=10) is False
    assert clock.sleeps == []
    clock.now += 59.5
    assert rl.acquire(timeout=1) is True  # the slot freed at +60 is still this caller's
    assert clock.now == pytest.approx(1060.0)


def test_shards_share_the_project_quota_without_going_over() -> None:
    rl = RateLimiter(50, shards=4)
    assert rl.limit == 12  # 4 x 12 = 48 <= 50
    assert rl.requests_per_minute == 12

    assert RateLimiter(300, shards=3).limit == 100


def test_a_share_below_one_a_minute_spaces_single_requests() -> None:
    clock = FakeClock()
    rl = limiter(2, clock, shards=8)  # a quarter of a request a minute
    assert rl.requests_per_minute == pytest.approx(0.25)

    rl.acquire()
    rl.acquire()

    assert clock.sleeps == [pytest.approx(240.0)]


@pytest.mark.parametrize(("rpm", "shards"), [(0, 1), (-5, 1), (10, 0)])
def test_a_budget_of_nothing_is_refused(rpm: float, shards: int) -> None:
    with pytest.raises(ValueError):
        RateLimiter(rpm, shards=shards)


def test_the_budget_holds_across_real_threads() -> None:
    # Real threads, real sleeps, on a clock that runs 60 times faster than the wall: one real
    # second is one limiter minute, so 2.5 s exercise both the burst and the waiting path.
    speedup = 60.0
    start = time.monotonic()

    def fast_clock() -> float:
        return (time.monotonic() - start) * speedup

    def fast_sleep(seconds: float) -> None:
        time.sleep(seconds / speedup)

    rl = RateLimiter(120, clock=fast_clock, sleep=fast_sleep)
    sent: list[float] = []
    sent_lock = threading.Lock()
    deadline = 2.5 * speedup  # 2.5 real seconds

    def worker() -> None:
        while True:
            remaining = deadline - fast_clock()
            if remaining <= 0 or not rl.acquire(timeout=remaining):
                return
            with sent_lock:
                sent.append(fast_clock())

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert not any(thread.is_alive() for thread in threads)

    # Allow a little scheduling jitter (3 limiter seconds = 50 ms real) when measuring windows.
    assert max_in_any_window(sent, 60.0 - 3.0) <= 120
    assert 240 <= len(sent) <= 360  # three windows started within 2.5 minutes: 0, 60, 120


def test_a_full_window_waits_also_for_the_slowest_request_seen() -> None:
    clock = FakeClock()
    budget = limiter(2, clock)
    budget.acquire()
    budget.finished(0.4)
    budget.acquire()
    budget.finished(0.1)

    budget.acquire()

    assert clock.sleeps == [pytest.approx(60.4)]
