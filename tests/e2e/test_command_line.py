"""The command line as people type it: options on either side of the command, nonsense refused,
help that shows defaults, an example and exit codes, and a README table that matches the parser.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from sheetsync.cli import COMMANDS, build_parser, main, parse_args
from tests.e2e.workbooks import write_config

README = Path(__file__).parents[2] / "README.md"


@pytest.mark.parametrize(
    "argv",
    [
        ["--log-format", "json", "--config", "x.toml", "run", "--workers", "2"],
        ["run", "--config", "x.toml", "--workers", "2", "--log-format", "json"],
        ["--config", "x.toml", "run", "--log-format", "json", "--workers", "2"],
        ["--workers", "2", "run", "--log-format", "json", "--config", "x.toml"],
    ],
)
def test_options_are_accepted_before_or_after_the_command(argv):
    args = parse_args(argv)
    chosen = (args.command, args.config, args.workers, args.log_format)
    assert chosen == ("run", "x.toml", 2, "json")


def test_the_value_after_the_command_wins_when_an_option_is_given_twice():
    args = parse_args(["--log-format", "text", "run", "--log-format", "json"])
    assert args.log_format == "json"


def test_defaults_apply_when_an_option_is_given_nowhere():
    args = parse_args(["serve"])
    assert (args.config, args.workers, args.shard, args.log_format) == (
        "config/sheetsync.toml",
        None,  # --workers: the CPUs the run may use, at most 4, found when it starts
        None,
        "text",
    )


def test_the_kubernetes_command_line_logs_json_lines(tmp_path, capsys):
    config = write_config(tmp_path, [{"name": "team", "path": "missing.xlsx"}])
    code = main(["run", "--config", str(config), "--shard", "0/1", "--log-format", "json"])
    assert code == 1, "the workbook is missing: the run fails, the command line does not"
    lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line]
    assert any("file not found" in line["message"] for line in lines)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--workers", "0"], "--workers: expected a whole number of at least 1, not '0'"),
        (["--workers", "-3", "serve"], "--workers: expected a whole number of at least 1"),
        (["run", "--workers", "four"], "not 'four'"),
        (["run", "--workers", "2.5"], "not '2.5'"),
        (["run", "--shard", "4/4"], "with 4 shards it must be 0..3"),
        (["run", "--shard", "1"], "must look like 0/4"),
        (["run", "--shard", "0/0"], "the shard count must be at least 1"),
        (["run", "--as-of", "2026-13-01"], "expected a date like 2026-11-23, not '2026-13-01'"),
        (["run", "--log-format", "yaml"], "invalid choice: 'yaml'"),
        (["validate", "--workers", "2"], "validate takes no --workers"),
        (["--workers", "2", "validate"], "validate takes no --workers"),
        (["--config", "a.toml", "init", "x.xlsx"], "init takes no --config"),
        (["init", "x.xlsx", "--config", "a.toml"], "init takes no --config"),
        (["run", "--frobnicate"], "unrecognized arguments: --frobnicate"),
    ],
)
def test_nonsense_values_are_refused_with_exit_code_two(argv, message, capsys):
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert message in capsys.readouterr().err


def _help(command: str) -> str:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    return sub.choices[command].format_help()


@pytest.mark.parametrize("command", [c.name for c in COMMANDS])
def test_every_command_help_has_its_defaults_one_example_and_its_exit_codes(command):
    text = _help(command)
    assert text.count("Example: sheetsync " + command) == 1
    assert "exit codes:" in text and "  0  " in text and "  2  " in text
    assert "(default: text)" in text, "--log-format shows its default"
    if "--config" in text:
        assert "(default: config/sheetsync.toml)" in text
    if "--workers" in text:
        words = " ".join(text.split())
        assert "(default: the CPUs this process may use, at most 4)" in words


def test_the_example_in_each_help_parses():
    for command in COMMANDS:
        args = parse_args(command.example.split()[1:])
        assert args.command == command.name


def _readme_commands() -> tuple[dict[str, set[str]], str]:
    section = README.read_text(encoding="utf-8").split("\n## Commands\n", 1)[1].split("\n## ")[0]
    rows = re.findall(r"^\| `sheetsync (\w+)([^`]*)` \|", section, re.MULTILINE)
    flags = {name: set(re.findall(r"(?<![\w-])--?[a-z][\w-]*", rest)) for name, rest in rows}
    return flags, section


def _parser_options(command: str) -> set[str]:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    flags = {f for action in sub.choices[command]._actions for f in action.option_strings}
    return flags - {"-h", "--help", "-v"}


def test_the_readme_command_table_matches_the_parser():
    table, section = _readme_commands()
    assert sorted(table) == sorted(c.name for c in COMMANDS)
    everywhere = {"--log-format", "--verbose"}
    for flag in everywhere:
        assert f"`{flag}" in section, f"the README says every command takes {flag}"
    for name, documented in table.items():
        assert documented | everywhere == _parser_options(name), name


def test_the_readme_exit_code_table_matches_the_run_help():
    text = README.read_text(encoding="utf-8").split("Exit codes, for cron and CI:", 1)[1]
    codes = re.findall(r"^\| (\d) \|", text.split("\n\n## ")[0], re.MULTILINE)
    assert codes == ["0", "1", "2", "3"]
    assert all(f"  {code}  " in _help("run") for code in codes)
