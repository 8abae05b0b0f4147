"""The default number of workers: one per usable CPU, at most four, within a container's quota."""

from __future__ import annotations

import os

from sheetsync.ops.cpus import MOST_WORKERS, default_workers, quota_cpus, usable_cpus


def test_a_cgroup_quota_of_two_cpus_allows_two():
    assert quota_cpus("200000 100000\n") == 2


def test_half_a_cpu_still_runs_one_process():
    assert quota_cpus("50000 100000") == 1


def test_one_and_a_half_cpus_round_up():
    assert quota_cpus("150000 100000") == 2


def test_no_quota_or_an_unreadable_line_sets_no_limit():
    assert quota_cpus("max 100000") is None
    assert quota_cpus("") is None
    assert quota_cpus("lots 100000") is None


def test_the_default_is_the_usable_cpus_at_most_four():
    assert default_workers() == min(MOST_WORKERS, usable_cpus())
    assert 1 <= usable_cpus() <= (os.cpu_count() or 1)
