"""How many CPUs this process may use, and so how many worker processes help by default.

A worker process only helps with a core of its own: on a machine (or container) with fewer
usable CPUs than workers, the extra processes only add their start-up and the fork server's.
Usable means the CPUs this process may run on (`os.sched_getaffinity`: `taskset`, cpusets,
Kubernetes' static CPU manager) and, under a CPU quota, no more than that quota rounded up: the
smallest quota of this process's own cgroup (from `/proc/self/cgroup`: a systemd `CPUQuota=`
is set on the service's cgroup) and of every cgroup above it (a Kubernetes CPU limit or
`docker run --cpus` on the container's), cgroup v2 `cpu.max` or v1 `cpu.cfs_quota_us`.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

MOST_WORKERS = 4
"""The default never starts more worker processes than this, however many CPUs there are."""

CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")


def quota_cpus(cpu_max: str) -> int | None:
    """The CPUs a cgroup v2 `cpu.max` line allows ("200000 100000" -> 2, "max 100000" ->
    None: no quota; "50000 100000" -> 1: half a CPU still runs one process at a time)."""
    parts = cpu_max.split()
    if len(parts) != 2 or parts[0] == "max":
        return None
    try:
        quota, period = int(parts[0]), int(parts[1])
    except ValueError:
        return None
    if quota <= 0 or period <= 0:
        return None
    return max(1, math.ceil(quota / period))


def _v1_quota(folder: Path) -> int | None:
    """The CPUs a cgroup v1 cpu controller folder allows (`cfs_quota_us` -1: no quota)."""
    quota = (folder / "cpu.cfs_quota_us").read_text().strip()
    period = (folder / "cpu.cfs_period_us").read_text().strip()
    return None if quota.startswith("-") else quota_cpus(f"{quota} {period}")


def cgroup_cpus(cgroups: str, root: Path = CGROUP_ROOT) -> int | None:
    """The CPUs the cgroups named by `cgroups` (a `/proc/self/cgroup` text) allow: the smallest
    quota of each one's folder under `root` and of every folder above it, None without one."""
    found: list[int] = []
    for line in cgroups.splitlines():
        hierarchy, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        if hierarchy == "0" and not controllers:  # v2 (under "unified" in hybrid mode)
            bases = [root, root / "unified"]
        elif "cpu" in controllers.split(","):
            bases = [root / "cpu", root / controllers]
        else:
            continue
        for base in bases:
            folder = base / path.strip().lstrip("/")
            for each in (folder, *folder.parents):
                if not each.is_relative_to(base):
                    break
                try:
                    quota = (
                        quota_cpus((each / "cpu.max").read_text())
                        if hierarchy == "0"
                        else _v1_quota(each)
                    )
                except OSError:  # no such folder (a path outside this mount) or no quota file
                    continue
                if quota is not None:
                    found.append(quota)
    return min(found, default=None)


def usable_cpus() -> int:
    """The CPUs this process may run on, within its container's CPU quota if it has one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        quota = cgroup_cpus(SELF_CGROUP.read_text())
    except OSError:  # not Linux
        quota = None
    return max(1, min(cpus, quota or cpus))


def default_workers() -> int:
    """`--workers` when none is given: one per usable CPU, at most `MOST_WORKERS` (1: the
    workbooks are synced in this process, with no fork server or worker processes)."""
    return min(MOST_WORKERS, usable_cpus())
