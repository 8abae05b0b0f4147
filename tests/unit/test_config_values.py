"""How config values are read (`config_schema`): as the TOML a person writes them, leniently
where the meaning is plain ("25" for a port, "yes" for a switch), and refused with the key,
the value and what was expected where it is not."""

from __future__ import annotations

import math
import pickle

import pytest

from sheetsync.config import Config, Email, Tabs, Workbook, parse_config
from sheetsync.core.errors import ConfigError

WORKBOOKS = [{"name": "team", "path": "team.xlsx"}]


def config_with(**tables: object) -> Config:
    return parse_config({"workbooks": WORKBOOKS, **tables}, source="sheetsync.toml")


def problems(**tables: object) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        config_with(**tables)
    return [p.message for p in (caught.value, *caught.value.also)]


def test_numbers_and_switches_written_as_text_are_read_as_meant():
    config = config_with(
        email={"port": " 2525 ", "timeout": "7.5"},
        alerts={"enabled": "yes", "notify_wins": 1, "notify_invalid": 0.0},
        excel={"backups": 3.0},
    )
    assert (config.email.port, config.email.timeout) == (2525, 7.5)
    assert (config.alerts.enabled, config.alerts.notify_wins) == (True, True)
    assert config.alerts.notify_invalid is False
    assert config.excel.backups == 3


def test_a_count_with_a_fraction_is_refused_as_not_a_whole_number():
    assert problems(excel={"backups": 1.5}) == ["`backups = 1.5`: expected a whole number"]


def test_a_switch_written_as_two_is_refused():
    assert problems(alerts={"enabled": 2}) == ["`enabled = 2`: expected true or false"]


def test_text_where_a_number_belongs_is_refused_even_when_it_looks_like_infinity():
    assert problems(email={"port": "inf"}) == ['`port = "inf"`: expected a whole number']
    assert problems(email={"port": math.inf}) == ["`port = inf`: Input should be a finite number"]


def test_a_number_that_is_not_a_number_breaks_the_upper_bound_first():
    assert problems(scoring={"grade_green": math.nan}) == [
        "`grade_green = nan`: expected a number of at most 1.0"
    ]


def test_text_is_never_read_from_a_number_or_a_date():
    assert problems(tabs={"okrs": 5}) == ["`okrs = 5`: expected text in quotes"]


def test_every_problem_of_a_table_is_listed_before_its_unknown_keys():
    assert problems(email={"colour": "red", "port": 0, "security": "tls"}) == [
        "`port = 0`: expected a number greater than 0",
        "`security = \"tls\"`: expected one of 'starttls', 'ssl' or 'none'",
        "unknown setting `colour` (check the spelling)",
    ]


def test_a_table_checks_itself_only_when_its_keys_are_right():
    assert problems(scoring={"at_risk": 2, "grace_days": -1}) == [
        "`grace_days = -1`: expected a number of at least 0"
    ]
    assert problems(scoring={"at_risk": 2}) == [
        "`scoring = {at_risk = 2}`: at_risk must not be above on_track"
    ]


def test_settings_built_in_code_are_checked_as_the_file_is():
    with pytest.raises(ValueError, match="validation error"):
        Email(port="x")
    config = Config(workbooks=[{"name": "team", "path": "team.xlsx"}], email={"port": "25"})
    assert isinstance(config.workbooks[0], Workbook) and config.email.port == 25


def test_settings_are_frozen_and_survive_a_trip_to_a_worker_process():
    config = config_with(tabs={"okrs": "Goals"})
    with pytest.raises(ValueError, match="frozen"):
        config.tabs.okrs = "Other"
    again = pickle.loads(pickle.dumps(config))
    assert again == config and again.tabs.okrs == "Goals"


def test_a_workbooks_own_tabs_override_only_the_names_it_gives():
    config = parse_config(
        {"workbooks": [{**WORKBOOKS[0], "tabs": {"kpis": "Metrics"}}], "tabs": {"okrs": "Goals"}}
    )
    tabs = config.tabs_for(config.workbooks[0])
    assert (tabs.okrs, tabs.kpis, tabs.summary) == ("Goals", "Metrics", Tabs().summary)


def test_a_number_written_in_other_digits_is_refused_as_pydantic_refused_it():
    assert problems(scoring={"grade_green": "٣"}) == ['`grade_green = "٣"`: expected a number']
    assert problems(email={"port": "٢٥"}) == ['`port = "٢٥"`: expected a whole number']


def test_a_whole_number_ending_in_a_point_is_refused():
    assert problems(alerts={"history_days": "1."}) == [
        '`history_days = "1."`: expected a whole number'
    ]
    assert config_with(alerts={"history_days": " 1_000.00 "}).alerts.history_days == 1000
