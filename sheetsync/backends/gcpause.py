"""Pause Python's cyclic garbage collector around a backend's big loops.

Loading, diffing and patching a large sheet creates hundreds of thousands of objects that are
freed by reference counting (or live on as the remembered state); meanwhile the collector would
rescan every live object again and again without finding anything to free, which costs about a
third of a sync's time. The pause is process-wide, so nested and concurrent holders (workbooks
synced on several threads) are counted: the collector is back on when the last one leaves.
The runner holds it for each workbook's whole sync (validation, scoring and planning allocate
as much as the backend's loops), and the backends around their own loops for other callers.
After the syncs, the runner leaves the outcomes it holds out of the collector's scans while it
delivers the alerts (`collector_skips_what_lives_now`).
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_lock = threading.Lock()
_holders = 0
_was_enabled = False


@contextlib.contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    global _holders, _was_enabled
    with _lock:
        if _holders == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _holders += 1
    try:
        yield
    finally:
        with _lock:
            _holders -= 1
            if _holders == 0 and _was_enabled:
                gc.enable()


@contextlib.contextmanager
def collector_skips_what_lives_now() -> Iterator[None]:
    """Leave every object alive now out of the cyclic collector's scans until the block ends.

    For a phase that allocates while holding much that outlives it: after the syncs, the
    runner keeps every workbook's outcome while it delivers the alerts, and each collection of
    the oldest generation rescanned all of them (200 small workbooks: 67 ms of CPU with one
    worker, which holds them all open; 12 ms with two). Unlike a pause, what the block itself
    leaves in cycles is still collected. A process that froze objects itself (`gc.freeze`)
    keeps its state untouched.
    """
    if gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
