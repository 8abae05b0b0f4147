"""How many CPUs this process may use, and so how many worker processes help by default.

A worker process only helps with a core of its own: on a machine (or container) with fewer
usable CPUs than workers, the extra processes only add their start-up and the fork server's.
Usable means the CPUs this process may run on (`os.sched_getaffinity`: `taskset`, cpusets,
Kubernetes' static CPU manager) and, in a container with a CPU quota (cgroup v2 `cpu.max`, what
a Kubernetes CPU limit or `docker run --cpus` sets), no more than that quota rounded up.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

MOST_WORKERS = 4
"""The default never starts more worker processes than this, however many CPUs there are."""

CGROUP_CPU_MAX = Path("/sys/fs/cgroup/cpu.max")


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


def usable_cpus() -> int:
    """The CPUs this process may run on, within its container's CPU quota if it has one."""
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cpus = os.cpu_count() or 1
    try:
        quota = quota_cpus(CGROUP_CPU_MAX.read_text())
    except OSError:  # not Linux, cgroup v1, or not readable
        quota = None
    return max(1, min(cpus, quota or cpus))


def default_workers() -> int:
    """`--workers` when none is given: one per usable CPU, at most `MOST_WORKERS` (1: the
    workbooks are synced in this process, with no fork server or worker processes)."""
    return min(MOST_WORKERS, usable_cpus())
