"""Split the workbooks of one config between N independent processes, with no coordinator.

`--shard I/N` runs only the workbooks of shard I out of N. The index is 0-based (0 .. N-1), the
same numbering as a Kubernetes Indexed Job's `JOB_COMPLETION_INDEX` and most CI matrices, so
the manifest can pass `--shard $(JOB_COMPLETION_INDEX)/4` straight through; `--shard auto/4`
reads that variable itself.

Which shard a workbook belongs to depends only on its name and N, never on the other workbooks
or on the order of the config, so every process computes the same split independently:

- every workbook is in exactly one shard;
- adding or removing workbooks never moves the others (stable as the list grows);
- going from N to N+1 shards moves only the workbooks that land in the new shard, about
  1/(N+1) of them; the rest stay put.

The scheme is rendezvous (highest-random-weight) hashing: each shard scores the workbook with
sha256(f"{shard}/{name}") and the highest score wins. Plain `sha256(name) mod N` would give the
first two properties too, but reshuffles almost everything when N changes. Python's `hash()`
is unusable here: it is salted per process.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from sheetsync.core.errors import ConfigError

T = TypeVar("T")

INDEX_ENV = "JOB_COMPLETION_INDEX"


def parse_shard(text: str, *, env: Mapping[str, str] | None = None) -> tuple[int, int]:
    """`"2/4"` -> `(2, 4)`: shard index (0-based) and shard count.

    `"auto/4"` takes the index from the `JOB_COMPLETION_INDEX` environment variable, which a
    Kubernetes Indexed Job sets in each pod. Raises `ConfigError` with the fix in the message.
    """
    env = os.environ if env is None else env
    index_text, sep, count_text = text.strip().partition("/")
    if not sep:
        raise ConfigError(f"--shard must look like 0/4 (index/count, index from 0), not {text!r}")
    try:
        count = int(count_text)
    except ValueError:
        raise ConfigError(f"--shard {text!r}: the shard count must be a whole number") from None
    if count < 1:
        raise ConfigError(f"--shard {text!r}: the shard count must be at least 1")
    if index_text.strip().lower() == "auto":
        if not env.get(INDEX_ENV, "").strip():
            raise ConfigError(
                f"--shard {text!r}: {INDEX_ENV} is not set; give the index explicitly, "
                f"e.g. --shard 0/{count}"
            )
        index_text = env[INDEX_ENV]
    try:
        index = int(index_text)
    except ValueError:
        raise ConfigError(f"--shard {text!r}: the shard index must be a whole number") from None
    if not 0 <= index < count:
        raise ConfigError(
            f"--shard {text!r}: the index counts from 0, so with {count} shard"
            f"{'s' if count > 1 else ''} it must be 0..{count - 1}"
        )
    return index, count


def shard_of(name: str, count: int) -> int:
    """The shard (0 .. count-1) that owns the workbook called `name`."""
    if count < 1:
        raise ValueError("count must be at least 1")
    return max(range(count), key=lambda shard: _weight(shard, name))


def in_shard(name: str, index: int, count: int) -> bool:
    """True when the workbook called `name` belongs to shard `index` of `count`."""
    return shard_of(name, count) == index


def select(items: Iterable[T], index: int, count: int, *, key: Callable[[T], str] = str) -> list[T]:
    """The items of shard `index`, in their original order; `key` gives each item's name.

    Example: `select(config.workbooks, 1, 4, key=lambda wb: wb.name)`.
    """
    return [item for item in items if in_shard(key(item), index, count)]


def _weight(shard: int, name: str) -> int:
    digest = hashlib.sha256(f"{shard}/{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big")
