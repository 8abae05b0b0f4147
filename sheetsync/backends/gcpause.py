"""Pause Python's cyclic garbage collector around a backend's big loops.

Loading, diffing and patching a large sheet creates hundreds of thousands of objects that are
freed by reference counting (or live on as the remembered state); meanwhile the collector would
rescan every live object again and again without finding anything to free, which costs about a
third of a sync's time. The pause is process-wide, so nested and concurrent holders (workbooks
synced on several threads) are counted: the collector is back on when the last one leaves.
The runner holds it for each workbook's whole sync (validation, scoring and planning allocate
as much as the backend's loops), and the backends around their own loops for other callers.
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
