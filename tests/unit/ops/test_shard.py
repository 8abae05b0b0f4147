"""`--shard I/N`: every workbook in exactly one shard, and the split stays put as the list grows."""

from __future__ import annotations

from collections import Counter

import pytest

from sheetsync.core.errors import ConfigError
from sheetsync.ops.shard import in_shard, parse_shard, select, shard_of

WORKBOOKS = [f"team-{i:03d}/okrs.xlsx" for i in range(300)]


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7, 16])
def test_shards_partition_the_workbooks_exactly(count: int) -> None:
    shards = [select(WORKBOOKS, index, count) for index in range(count)]

    assert sorted(name for shard in shards for name in shard) == sorted(WORKBOOKS)
    for name in WORKBOOKS:
        assert sum(in_shard(name, index, count) for index in range(count)) == 1


def test_shard_keeps_the_config_order() -> None:
    assert select(WORKBOOKS, 1, 3) == [w for w in WORKBOOKS if shard_of(w, 3) == 1]


def test_adding_workbooks_moves_none_of_the_existing_ones() -> None:
    before = {name: shard_of(name, 4) for name in WORKBOOKS[:200]}

    grown = ["new-team/okrs.xlsx", *WORKBOOKS]  # added at the front, and 100 more at the end
    after = {name: shard_of(name, 4) for name in grown}

    assert all(after[name] == shard for name, shard in before.items())


def test_a_workbook_lands_in_the_same_shard_on_every_machine() -> None:
    # Pinned: the split must not depend on the process (Python's hash() is salted per process),
    # the platform or the sheetsync version, or shards of one CronJob would disagree.
    pinned = {
        "Sales": 0,
        "Marketing": 1,
        "Customer service": 2,
        "reports/finance.xlsx": 2,
        "Engineering": 2,
        "People": 3,
    }
    assert {name: shard_of(name, 4) for name in pinned} == pinned


def test_one_more_shard_only_moves_workbooks_into_the_new_shard() -> None:
    for name in WORKBOOKS:
        before, after = shard_of(name, 4), shard_of(name, 5)
        assert after in (before, 4)
    moved = sum(shard_of(name, 4) != shard_of(name, 5) for name in WORKBOOKS)
    assert 0.1 * len(WORKBOOKS) < moved < 0.3 * len(WORKBOOKS)  # about 1/5


def test_shards_are_roughly_even() -> None:
    sizes = Counter(shard_of(name, 4) for name in WORKBOOKS)
    assert set(sizes) == {0, 1, 2, 3}
    assert all(50 <= size <= 100 for size in sizes.values())  # 75 each on average


def test_parse_shard_reads_a_zero_based_index_and_a_count() -> None:
    assert parse_shard("0/4") == (0, 4)
    assert parse_shard(" 3/4 ") == (3, 4)
    assert parse_shard("0/1") == (0, 1)


def test_parse_shard_auto_reads_the_kubernetes_completion_index() -> None:
    assert parse_shard("auto/4", env={"JOB_COMPLETION_INDEX": "2"}) == (2, 4)


def test_parse_shard_auto_without_the_variable_says_what_to_do() -> None:
    with pytest.raises(ConfigError, match="JOB_COMPLETION_INDEX is not set"):
        parse_shard("auto/4", env={})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("4/4", r"counts from 0, so with 4 shards it must be 0\.\.3"),
        ("-1/4", "counts from 0"),
        ("2", "must look like 0/4"),
        ("a/4", "index must be a whole number"),
        ("1/x", "count must be a whole number"),
        ("0/0", "at least 1"),
    ],
)
def test_parse_shard_rejects_nonsense_with_the_fix(text: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse_shard(text, env={})
