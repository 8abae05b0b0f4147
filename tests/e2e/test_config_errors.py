"""A person edits the TOML config and makes the mistakes people make: every one is reported
once, in their words, with the key, the value found and what to write instead (exit code 2)."""

from __future__ import annotations

import pytest

from sheetsync.cli import main

WORKBOOK = '[[workbooks]]\nname = "team"\npath = "team.xlsx"\n'


def errors_for(tmp_path, text: str, capsys) -> list[str]:
    config = tmp_path / "sheetsync.toml"
    config.write_text(text, encoding="utf-8")
    assert main(["run", "--config", str(config)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert all(
        line.startswith(f"sheetsync: configuration error: {config}, key '") for line in lines
    )
    return [line.split(f"{config}, ", 1)[1] for line in lines]


def test_a_config_with_no_workbooks_says_so(tmp_path, capsys):
    (line,) = errors_for(tmp_path, 'state_dir = "state"\nworkbooks = []\n', capsys)
    assert "the config lists no workbooks: add a [[workbooks]] table" in line
    assert "List should have" not in line


def test_a_config_without_any_workbooks_table_says_so_too(tmp_path, capsys):
    (line,) = errors_for(tmp_path, '[email]\nhost = "smtp.example.com"\n', capsys)
    assert line.startswith("key 'workbooks': the config lists no workbooks")


def test_a_glob_that_matches_nothing_is_named(tmp_path, capsys):
    (line,) = errors_for(tmp_path, 'workbook_glob = ["reports/*.xlsx"]\n', capsys)
    assert 'workbook_glob ["reports/*.xlsx"] matched no file' in line


def test_a_wrong_type_shows_the_value_found(tmp_path, capsys):
    (line,) = errors_for(tmp_path, f'[email]\nport = "25x"\n{WORKBOOK}', capsys)
    assert line == "key 'email.port': `port = \"25x\"`: expected a whole number"


def test_a_switch_that_is_neither_true_nor_false_says_so(tmp_path, capsys):
    (line,) = errors_for(tmp_path, f'[alerts]\nenabled = "sometimes"\n{WORKBOOK}', capsys)
    assert line == "key 'alerts.enabled': `enabled = \"sometimes\"`: expected true or false"


def test_a_top_level_key_after_a_table_says_where_it_belongs(tmp_path, capsys):
    text = f'{WORKBOOK}[schedule]\nat = "03:00"\nstate_dir = "/var/lib/sheetsync"\n'
    (line,) = errors_for(tmp_path, text, capsys)
    assert line == (
        "key 'schedule.state_dir': `state_dir` belongs at the top of the file, before the "
        "first [table] header (TOML puts keys after a [table] header into that table)"
    )


def test_a_schedule_key_left_under_another_table_names_the_schedule_table(tmp_path, capsys):
    text = f'[email]\nhost = "smtp.example.com"\nheartbeat_url = "https://hc.example/x"\n{WORKBOOK}'
    (line,) = errors_for(tmp_path, text, capsys)
    assert line == (
        "key 'email.heartbeat_url': `heartbeat_url` belongs under `[schedule]` "
        "(TOML puts keys after a [table] header into that table)"
    )


def test_a_typo_gets_the_nearest_setting(tmp_path, capsys):
    (line,) = errors_for(tmp_path, '[[workbooks]]\nname = "team"\npth = "team.xlsx"\n', capsys)
    assert line == "key 'workbooks.0.pth': unknown setting `pth`: did you mean `path`?"


def test_one_value_wrong_for_every_accepted_type_is_one_problem(tmp_path, capsys):
    (line,) = errors_for(tmp_path, f"[headers.okrs]\ncurrent = 5\n{WORKBOOK}", capsys)
    assert line == (
        'key \'headers.okrs.current\': `current = 5`: expected a list, like ["a", "b"] '
        "or text in quotes"
    )


def test_every_wrong_key_is_listed_once(tmp_path, capsys):
    text = (
        f'{WORKBOOK}[email]\nsecurity = "tls"\nport = 0\ntimeout = "soon"\n'
        '[tabs]\nalert = "Alerts"\n'
    )
    lines = errors_for(tmp_path, text, capsys)
    assert lines == [
        "key 'tabs.alert': unknown setting `alert`: did you mean `alerts`?",
        "key 'email.port': `port = 0`: expected a number greater than 0",
        "key 'email.security': `security = \"tls\"`: expected one of 'starttls', 'ssl' or 'none'",
        "key 'email.timeout': `timeout = \"soon\"`: expected a number",
    ]


@pytest.mark.parametrize("command", ["validate", "serve"])
def test_other_commands_print_the_problem_once_too(tmp_path, capsys, command):
    config = tmp_path / "sheetsync.toml"
    config.write_text("workbooks = []\n", encoding="utf-8")
    assert main([command, "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert err.count("no workbooks") == 1


def test_the_confidence_switch_takes_true_or_false_only(tmp_path, capsys):
    (line,) = errors_for(tmp_path, f'[alerts]\nnotify_confidence = "rarely"\n{WORKBOOK}', capsys)
    assert line == (
        "key 'alerts.notify_confidence': `notify_confidence = \"rarely\"`: expected true or false"
    )
