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

The worker processes of one run (`--workers N`) share one budget rather than split it, so a
worker that happens to get all the Google workbooks may use the whole share: made with
`processes=context` (a multiprocessing context), the window lives in shared memory under a
lock shared by those processes, and the limiter is handed to each worker as it starts (such
objects can only cross into a process at its start). `time.monotonic` is one clock for every
process of the machine, so the workers' request times compare.

Example:
    limiter = RateLimiter(config.google.requests_per_minute, shards=shard_count)
    limiter.acquire()  # before every API request, from any thread
    limiter.finished(seconds)  # after it, with the time from sending to the response
"""

from __future__ import annotations

import contextlib
import math
import os
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from sheetsync.core.errors import SheetsyncError

if TYPE_CHECKING:  # a limiter shared by worker processes only; one process needs none of it
    from multiprocessing.context import BaseContext

WINDOW_SECONDS = 60.0

LOCK_SECONDS = 10.0
"""How long a process waits for the limiter's shared lock, held only for a few instructions
by each request: held longer, its holder hangs (stopped, swapped out for good)."""


class RateLimiter:
    """A thread-safe limiter: `acquire()` blocks until one more request fits the budget.

    Callers are served in the order they call `acquire()`: each reserves the earliest free slot
    under the lock and then sleeps outside it, so a waiting thread never blocks the others' turn.
    `clock` and `sleep` are injectable so tests can run on a fake clock. With `processes` (a
    multiprocessing context) the budget is shared by every process the limiter is given to.
    """

    def __init__(
        self,
        requests_per_minute: float,
        *,
        shards: int = 1,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        window_seconds: float = WINDOW_SECONDS,
        processes: BaseContext | None = None,
        lock_seconds: float = LOCK_SECONDS,
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
        self._lock: Any = _ProcessesLock(lock_seconds) if processes else threading.Lock()
        # The start times of the last `limit` requests (some may be reserved in the future), as
        # a ring: `_slots[_state[NEXT]]` is the oldest once `_state[COUNT]` reaches `limit`.
        # `_state[TRANSIT]`: the longest time a request took from sending to its response.
        if processes:
            self._slots: Any = processes.RawArray("d", self.limit)
            self._state: Any = processes.RawArray("d", 3)
        else:
            self._slots = [0.0] * self.limit
            self._state = [0.0] * 3
        self._window_seconds = window_seconds

    @property
    def requests_per_minute(self) -> float:
        """This limiter's budget (this shard's share of the quota)."""
        return self.limit * self._window_seconds / self.window

    @property
    def transit(self) -> float:
        """The longest time a request took from sending to its response, in seconds."""
        with self._lock:
            return float(self._state[_TRANSIT])

    def acquire(self, timeout: float | None = None) -> bool:
        """Wait until a request may go, then count it. Returns True.

        With `timeout` (seconds), gives up without counting anything and returns False when the
        request could not go within that time.
        """
        with self._lock:
            now = self._clock()
            slot = now
            oldest = int(self._state[_NEXT])
            if self._state[_COUNT] >= self.limit:
                slot = max(now, self._slots[oldest] + self.window + self._state[_TRANSIT])
            wait = slot - now
            if timeout is not None and wait > timeout:
                return False
            self._slots[oldest] = slot
            self._state[_NEXT] = (oldest + 1) % self.limit
            self._state[_COUNT] = min(self._state[_COUNT] + 1, self.limit)
        if wait > 0:
            self._sleep(wait)
        return True

    def finished(self, seconds: float) -> None:
        """Report how long a request took from sending to its response (see the module doc)."""
        with self._lock:
            self._state[_TRANSIT] = max(self._state[_TRANSIT], seconds)

    def __repr__(self) -> str:
        return f"RateLimiter(limit={self.limit}, window={self.window:g}s)"


_NEXT, _COUNT, _TRANSIT = range(3)


class RateLimiterStuck(SheetsyncError):
    """The rate limit shared by the worker processes stayed locked by one of them."""


class _ProcessesLock:
    """The lock of a limiter shared by processes: a lock on a file (`filelock`), which the
    kernel releases when its holder dies, so a worker killed while it holds it (the OOM killer,
    SIGKILL) blocks no one; a holder that hangs makes the others fail after `seconds` with a
    clear error instead of waiting forever. Picklable: each process opens the file itself."""

    def __init__(self, seconds: float) -> None:
        import tempfile
        import weakref

        handle, self.path = tempfile.mkstemp(prefix="sheetsync-ratelimit-", suffix=".lock")
        os.close(handle)
        self.seconds = seconds
        self._own = weakref.finalize(self, _remove, self.path)
        self._file_lock: Any = None

    def __getstate__(self) -> dict[str, Any]:
        return {"path": self.path, "seconds": self.seconds}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.path, self.seconds = state["path"], state["seconds"]
        self._file_lock = None

    def __enter__(self) -> None:
        from filelock import FileLock, Timeout

        if self._file_lock is None:
            # thread_local: each thread locks through its own file handle, so threads of one
            # process exclude each other as processes do; a short poll: held for microseconds.
            self._file_lock = FileLock(self.path, poll_interval=0.0005)
        try:
            self._file_lock.acquire(timeout=self.seconds)
        except Timeout:
            raise RateLimiterStuck(
                f"the Google rate limit shared by the worker processes stayed locked for more "
                f"than {self.seconds:g} s: a worker process seems to hang (stopped?); no request "
                f"was sent (lock file {self.path})"
            ) from None

    def __exit__(self, *exc: object) -> None:
        self._file_lock.release()


def _remove(path: str) -> None:
    with contextlib.suppress(OSError):
        os.unlink(path)
