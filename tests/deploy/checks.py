"""Checks that load each deploy file for real: the Kubernetes schemas, sheetsync's own argument
parser and config loader, `systemd-analyze verify`, hadolint and the Dockerfile's structure.

Each check raises AssertionError (or the tool's own error) naming what is wrong, so the same
function proves the shipped file good and a deliberately broken copy bad.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sheetsync.cli import parse_args
from sheetsync.config import Config, load_config

REPO = Path(__file__).parents[2]
DEPLOY = REPO / "deploy"
KUBERNETES_VERSIONS = ("1.29.0", "1.37.0")
"""The oldest version the CronJob needs (backoffLimitPerIndex) and the newest schemas shipped."""


def tool(name: str) -> str:
    """The path of a command-line tool; missing is a failure under CI=true, a skip elsewhere."""
    found = shutil.which(name) or shutil.which(name, path=str(Path(sys.executable).parent))
    if found:
        return found
    message = f"{name} is not installed (.ci/run installs it)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def parse_command_line(argv: list[str]) -> Any:
    """The sheetsync parser's verdict on `argv`; a refusal becomes an AssertionError."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr):
            return parse_args(argv)
    except SystemExit as exc:
        raise AssertionError(f"sheetsync {shlex.join(argv)}: {stderr.getvalue()}") from exc


# Kubernetes ------------------------------------------------------------------------------


def kubernetes_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text(encoding="utf-8")) if doc]


def check_kubernetes_schemas(path: Path) -> None:
    import kubernetes_validate

    for version in KUBERNETES_VERSIONS:
        for doc in kubernetes_documents(path):
            kubernetes_validate.validate(doc, version, strict=True)


def _expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes' `$(VAR)` expansion in command and args ($$ escapes a dollar)."""
    return re.sub(
        r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
        lambda m: "$" if m.group(0) == "$$" else env.get(m.group(1), m.group(0)),
        text,
    )


def cronjob_command_lines(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each pod's sheetsync arguments as Kubernetes runs them: (completion index, argv)."""
    for doc in kubernetes_documents(path):
        if doc["kind"] != "CronJob":
            continue
        job = doc["spec"]["jobTemplate"]["spec"]
        for container in job["template"]["spec"]["containers"]:
            assert container.get("command") in (None, ["sheetsync"]), (
                "the container must use the image's entrypoint, sheetsync"
            )
            for index in range(job.get("completions", 1)):
                env = {e["name"]: e.get("value", "") for e in container.get("env", [])}
                env["JOB_COMPLETION_INDEX"] = str(index)
                yield index, [_expand(a, env) for a in container.get("args", [])]


def check_cronjob(path: Path, tmp_path: Path) -> None:
    """Every pod's command line parses, the shards cover the Job, and the mounts match."""
    docs = kubernetes_documents(path)
    cronjob = next(d for d in docs if d["kind"] == "CronJob")
    job = cronjob["spec"]["jobTemplate"]["spec"]
    pod = job["template"]["spec"]
    seen_shards = set()
    for index, argv in cronjob_command_lines(path):
        args = parse_command_line(argv)
        assert args.command == "run"
        assert args.shard == f"{index}/{job['completions']}", "--shard I/N must match the Job"
        seen_shards.add(args.shard)
        container = pod["containers"][0]
        mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
        config_dir = str(Path(args.config).parent)
        assert config_dir in mounts, f"--config {args.config} is not on a mounted volume"
        volume = next(v for v in pod["volumes"] if v["name"] == mounts[config_dir])
        configmap = next(
            d for d in docs
            if d["kind"] == "ConfigMap" and d["metadata"]["name"] == volume["configMap"]["name"]
        )  # fmt: skip
        toml = configmap["data"][Path(args.config).name]
        check_config_text(toml, tmp_path, mounts=set(mounts))
    assert job["parallelism"] <= job["completions"] == len(seen_shards)


def check_config_text(toml: str, tmp_path: Path, *, mounts: set[str]) -> Config:
    """The ConfigMap's TOML through the real loader; its folders are on mounted volumes."""
    path = tmp_path / "sheetsync.toml"
    path.write_text(toml, encoding="utf-8")
    config = load_config(path)
    for folder in (config.state_dir, config.email.password_file):
        if folder:
            assert any(folder.startswith(m) for m in mounts), f"{folder} is on no mounted volume"
    return config


# cron ------------------------------------------------------------------------------------


def crontab_commands(path: Path) -> list[list[str]]:
    """The sheetsync command line of each crontab entry, the commented examples included."""
    commands = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip().removeprefix("#").strip()
        if not re.match(r"[\d*]", line) or "sheetsync" not in line:
            continue
        fields = line.split(None, 5)
        assert len(fields) == 6, f"not a crontab entry (5 time fields, then a command): {raw}"
        for field in fields[:5]:
            assert re.fullmatch(r"[\d*/,-]+", field), f"bad time field {field!r} in: {raw}"
        words = [w for w in shlex.split(fields[5]) if not re.match(r"^\d?>>?|^2>&1$", w)]
        assert words[0].endswith("/sheetsync"), f"the command is not sheetsync: {raw}"
        commands.append(words[1:])
    assert commands, f"{path} has no sheetsync entry"
    return commands


def check_crontab(path: Path) -> None:
    variables = re.findall(r"^([A-Z_]+)=(.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    for name, value in variables:
        if name == "CRON_TZ":
            from zoneinfo import ZoneInfo

            ZoneInfo(value)
    for argv in crontab_commands(path):
        parse_command_line(argv)


# systemd ---------------------------------------------------------------------------------


def unit_setting(path: Path, key: str) -> str:
    match = re.search(rf"^{key}=(.*)$", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert match, f"{path.name} has no {key}="
    return match.group(1).strip()


def check_systemd(folder: Path, tmp_path: Path, *, drop_in: str = "") -> None:
    """`systemd-analyze verify` finds nothing to say, and ExecStart parses.

    verify checks that ExecStart's program exists, so the copy checked runs this machine's
    sheetsync (the same entry point the unit's /opt/sheetsync/.venv/bin/sheetsync is).
    """
    analyze = tool("systemd-analyze")
    service = folder / "sheetsync.service"
    program, *argv = shlex.split(unit_setting(service, "ExecStart"))
    assert program.endswith("/sheetsync")
    parse_command_line(argv)
    here = tmp_path / "units"
    here.mkdir()
    for unit in folder.iterdir():
        text = unit.read_text(encoding="utf-8")
        if unit.name == "sheetsync.service":
            text = text.replace(
                program, shutil.which("sheetsync") or str(Path(sys.executable).parent / "sheetsync")
            )
            text += drop_in
        (here / unit.name).write_text(text, encoding="utf-8")
    result = subprocess.run(
        [analyze, "verify", *(str(p) for p in sorted(here.iterdir()))],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    about_ours = [line for line in result.stderr.splitlines() if "sheetsync" in line]
    assert result.returncode == 0 and not about_ours, result.stderr


# the container image ---------------------------------------------------------------------


def check_hadolint(dockerfile: Path) -> None:
    result = subprocess.run(
        [tool("hadolint"), "--no-color", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


COMPILERS = ("gcc", "g++", "clang", "build-essential", "make", "cargo", "rustc")


def dockerfile_stages(dockerfile: Path) -> list[list[dict[str, Any]]]:
    from dockerfile_parse import DockerfileParser

    stages: list[list[dict[str, Any]]] = []
    for instruction in DockerfileParser(str(dockerfile)).structure:
        if instruction["instruction"] == "FROM":
            stages.append([])
        if stages and instruction["instruction"] != "COMMENT":
            stages[-1].append(instruction)
    return stages


def check_dockerfile(dockerfile: Path) -> dict[str, Any]:
    """Multi-stage, slim base, non-root, no compilers at the end, sheetsync as entrypoint."""
    from dockerfile_parse import DockerfileParser

    parsed = DockerfileParser(str(dockerfile))
    stages = dockerfile_stages(dockerfile)
    assert len(stages) >= 2, "a build stage and a final stage"
    final = {i["instruction"]: i["value"] for i in stages[-1]}
    base = parsed.baseimage or ""
    assert re.fullmatch(r"python:3\.1[1-9]-slim(-\w+)?", base), f"final base {base!r} is not slim"
    assert "COPY" in final and "--from=" in final["COPY"], "the final stage copies the build"
    user = final.get("USER", "root").split(":")[0]
    assert user not in ("root", "0"), "the final stage runs as root"
    runs = " ".join(i["value"] for i in stages[-1] if i["instruction"] == "RUN")
    for compiler in COMPILERS:
        assert not re.search(rf"(?<![\w-]){re.escape(compiler)}(?![\w-])", runs), compiler
    assert json.loads(final["ENTRYPOINT"]) == ["sheetsync"]
    assert "HEALTHCHECK" in final, "a HEALTHCHECK for serve"
    parse_command_line(json.loads(final["CMD"]))
    return final
