"""The comparison of two checkouts runs end to end at a tiny size and prints each night with
both versions' figures and their ratio. Figures are not checked: speed claims come from the
benchmark itself."""

from __future__ import annotations

import re

import pytest

from benchmarks import compare


def test_each_night_is_printed_for_both_versions_with_their_ratio(capsys) -> None:
    assert compare.main([str(compare.ROOT), "--sizes", "30", "--rounds", "1"]) == 0

    table = capsys.readouterr().out
    for night in compare.NIGHTS:
        row = re.search(rf"^\| {night} \| 30 \|(.*)$", table, re.MULTILINE)
        assert row is not None, night
        cpu, peak = (float(r) for r in re.findall(r"\*\*([\d.]+)x\*\*", row[1]))
        assert cpu > 0 and peak > 0


def test_a_directory_without_sheetsync_is_refused(tmp_path) -> None:
    with pytest.raises(SystemExit):
        compare.main([str(tmp_path)])
