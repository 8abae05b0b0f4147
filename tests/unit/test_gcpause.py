"""The cyclic garbage collector is paused while a workbook syncs (backends/gcpause.py) and back on
afterwards, also when workbooks sync on several threads."""

from __future__ import annotations

import gc
import threading

import pytest

from sheetsync.backends.gcpause import collector_skips_what_lives_now, cyclic_gc_paused


@pytest.fixture(autouse=True)
def collector_on():
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


def test_the_collector_is_off_inside_and_on_again_after():
    with cyclic_gc_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_it_comes_back_on_after_a_sync_that_raised():
    with pytest.raises(RuntimeError), cyclic_gc_paused():
        raise RuntimeError("the workbook failed")
    assert gc.isenabled()


def test_overlapping_syncs_on_threads_keep_it_off_until_the_last_one_ends():
    second_inside, second_may_end, second_ended = (threading.Event() for _ in range(3))
    seen: list[bool] = []

    def second_sync() -> None:
        with cyclic_gc_paused():
            second_inside.set()
            second_may_end.wait()
        second_ended.set()

    worker = threading.Thread(target=second_sync)
    with cyclic_gc_paused():
        worker.start()
        second_inside.wait()
    seen.append(gc.isenabled())  # the second sync is still running
    second_may_end.set()
    second_ended.wait()
    worker.join()
    seen.append(gc.isenabled())
    assert seen == [False, True]


def test_a_collector_the_caller_turned_off_stays_off():
    gc.disable()
    with cyclic_gc_paused():
        pass
    assert not gc.isenabled()


def scanned(thing: object) -> bool:
    """Whether the cyclic collector's generations hold `thing` (what its scans look at)."""
    return any(o is thing for o in gc.get_objects())


def test_what_the_run_holds_is_left_out_of_scans_while_it_delivers_then_scanned_again():
    outcomes = {"Sales": ["a report"]}

    with collector_skips_what_lives_now():
        digest = {"to": ["ann@example.com"]}
        assert not scanned(outcomes)
        assert scanned(digest)
        digest["self"] = [digest]  # a cycle made inside is still collected
        del digest
        assert gc.collect() > 0
    assert scanned(outcomes)


def test_a_process_that_froze_objects_itself_keeps_them_frozen():
    kept = [["frozen by the process"]]
    gc.freeze()
    try:
        with collector_skips_what_lives_now():
            pass
        assert not scanned(kept)
    finally:
        gc.unfreeze()
