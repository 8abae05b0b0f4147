"""Config for cascading objectives: children must be configured workbooks, never in a loop."""

from __future__ import annotations

import pytest

from sheetsync.config import parse_config
from sheetsync.core.errors import ConfigError
from sheetsync.runner import children_first


def config(*entries, **extra):
    return parse_config({"workbooks": list(entries), **extra}, source="cfg.toml")


def wb(name, *children):
    return {"name": name, "path": f"{name}.xlsx", "children": list(children)}


def test_a_child_that_is_not_a_configured_workbook_is_a_config_error():
    with pytest.raises(ConfigError, match="lists child 'Slaes', which is not a configured"):
        config(wb("Company", "Slaes"), wb("Sales"))


def test_workbooks_whose_children_loop_back_are_refused():
    with pytest.raises(ConfigError, match="loop: Company -> Sales -> EMEA -> Company"):
        config(wb("Company", "Sales"), wb("Sales", "EMEA"), wb("EMEA", "Company"))
    with pytest.raises(ConfigError, match="lists itself as a child"):
        config(wb("Company", "Company"))


def test_rollup_mode_is_checked():
    with pytest.raises(ConfigError, match=r"alignment\.rollup"):
        config(wb("Company"), alignment={"rollup": "median"})


def test_children_are_synced_before_the_parents_that_read_them():
    c = config(wb("Company", "Sales", "Support"), wb("Sales", "EMEA"), wb("Support"), wb("EMEA"))
    assert c.parents_of(c.workbooks[1]) == ["Company"]
    waves = [[w.name for w in wave] for wave in children_first(c.workbooks)]
    assert waves == [["Support", "EMEA"], ["Sales"], ["Company"]]
    # a child outside this shard does not hold its parent back
    assert [[w.name for w in wave] for wave in children_first(c.workbooks[:1])] == [["Company"]]
