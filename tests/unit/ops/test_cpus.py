"""The default number of workers: one per usable CPU, at most four, within a container's quota."""

from __future__ import annotations

import os
from pathlib import Path

from sheetsync.ops.cpus import MOST_WORKERS, cgroup_cpus, default_workers, quota_cpus, usable_cpus


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


def test_a_process_pinned_to_one_cpu_uses_one_and_starts_no_workers():
    everything = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {min(everything)})
    try:
        assert usable_cpus() == 1
        assert default_workers() == 1
    finally:
        os.sched_setaffinity(0, everything)


def test_the_default_never_passes_four_workers():
    assert MOST_WORKERS == 4
    assert 1 <= default_workers() <= MOST_WORKERS


def _write(path: Path, text: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "cpu.max").write_text(text)


def test_a_systemd_cpu_quota_on_the_services_own_cgroup_is_found(tmp_path):
    """`CPUQuota=100%` in the unit file sets cpu.max on the service's cgroup, not the root's."""
    _write(tmp_path, "max 100000\n")
    _write(tmp_path / "system.slice", "max 100000\n")
    _write(tmp_path / "system.slice" / "sheetsync.service", "100000 100000\n")

    assert cgroup_cpus("0::/system.slice/sheetsync.service\n", tmp_path) == 1


def test_the_smallest_quota_above_the_process_applies(tmp_path):
    _write(tmp_path / "kubepods.slice", "200000 100000\n")  # the container's limit: 2 CPUs
    _write(tmp_path / "kubepods.slice" / "app", "max 100000\n")

    assert cgroup_cpus("0::/kubepods.slice/app\n", tmp_path) == 2
    assert cgroup_cpus("0::/\n", tmp_path) is None, "the root has no quota"


def test_a_cgroup_v1_cpu_quota_is_found(tmp_path):
    folder = tmp_path / "cpu" / "docker" / "abc"
    folder.mkdir(parents=True)
    (folder / "cpu.cfs_quota_us").write_text("150000\n")
    (folder / "cpu.cfs_period_us").write_text("100000\n")
    (tmp_path / "cpu" / "cpu.cfs_quota_us").write_text("-1\n")
    (tmp_path / "cpu" / "cpu.cfs_period_us").write_text("100000\n")

    cgroups = "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/docker/abc\n"
    assert cgroup_cpus(cgroups, tmp_path) == 2


def test_a_cgroup_path_this_mount_does_not_show_falls_back_to_the_folders_above(tmp_path):
    """In a container without its own cgroup namespace the path names the host's folders;
    the container's mount shows its own cgroup at the root."""
    _write(tmp_path, "100000 100000\n")

    assert cgroup_cpus("0::/docker/abc\n", tmp_path) == 1
