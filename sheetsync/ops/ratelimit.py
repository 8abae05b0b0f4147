"""Keep API requests under a requests-per-minute quota, shared by every thread of the process.

Google's Sheets quotas are counted per minute and per project, so the contract here is the same
one: **never more than `limit` requests in any 60-second window**. It is a sliding-window limiter:
a request may go when the request `limit` places before it went at least 60 seconds ago. Small
runs are not slowed down at all; a big run sends `limit` requests, then one more each time the
oldest of the window ages out.

Google counts a request when it *arrives*, the limiter when it is *sent*; with latency that
varies, a fast request sent 60 s after a slow one could arrive less than 60 s after it and be
refused with a 429 at the quota bound. So each caller reports how long its request took
(`finished`), and a request waits `window` plus the longest such time seen: a request sent
that late arrives after the one it replaces has left Google's window, whatever the latency.

Several shards (`--shard I/N`) are separate processes that share the project's quota; give each
its share with `RateLimiter(rpm, shards=N)`. The shares add up to no more than the quota.

Example:
    limiter = RateLimiter(config.google.requests_per_minute, shards=shard_count)
    limiter.acquire()  # before every API request, from any thread
    limiter.finished(seconds)  # after it, with the time from sending to the response
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable

WINDOW_SECONDS = 60.0


class RateLimiter:
    """A thread-safe limiter: `acquire()` blocks until one more request fits the budget.

    Callers are served in the order they call `acquire()`: each reserves the earliest free slot
    under the lock and then sleeps outside it, so a waiting thread never blocks the others' turn.
    `clock` and `sleep` are injectable so tests can run on a fake clock.
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        shards: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = WINDOW_SECONDS,
    ) -> None:
        if not requests_per_minute > 0:
            raise ValueError(f"requests_per_minute must be above 0, not {requests_per_minute!r}")
        if shards < 1:
            raise ValueError(f"shards must be at least 1, not {shards!r}")
        share = requests_per_minute / shards
        if share >= 1:
            # Whole requests per minute; rounding down keeps the shards' total within the quota.
            self.limit = math.floor(share)
            self.window = window_seconds
        else:
            # Less than one request a minute: one request per (60 / share) seconds.
            self.limit = 1
            self.window = window_seconds / share
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._slots: deque[float] = deque(maxlen=self.limit)
        """Start times of the last `limit` requests; some may be reserved in the future."""
        self.transit = 0.0
        """The longest time a request took from sending to its response, in seconds."""
        self._window_seconds = window_seconds

    @property
    def requests_per_minute(self) -> float:
        """This limiter's budget (this shard's share of the quota)."""
        return self.limit * self._window_seconds / self.window

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait until a request may go, then count it. Returns True.

        With `timeout` (seconds), gives up without counting anything and returns False when the
        request could not go within that time.
        """
        with self._lock:
            now = self._clock()
            slot = now
            if len(self._slots) == self.limit:
                slot = max(now, self._slots[0] + self.window + self.transit)
            wait = slot - now
            if timeout is not None and wait > timeout:
                return False
            self._slots.append(slot)
        if wait > 0:
            self._sleep(wait)
        return True

    def finished(self, seconds: float) -> None:
        """Report how long a request took from sending to its response (see the module doc)."""
        with self._lock:
            self.transit = max(self.transit, seconds)

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window:g}s)"
