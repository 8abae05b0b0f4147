"""Every file in deploy/ and the container image, loaded and checked for real; and a
deliberately broken copy of each, shown failing the same check, so CI catches a broken manifest
before a new user does.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from sheetsync.config import load_config
from tests.deploy.checks import (
    DEPLOY,
    REPO,
    check_config_text,
    check_cronjob,
    check_crontab,
    check_dockerfile,
    check_hadolint,
    check_kubernetes_schemas,
    check_systemd,
    cronjob_command_lines,
    unit_setting,
)

CRONJOB = DEPLOY / "kubernetes" / "cronjob.yaml"
CRONTAB = DEPLOY / "crontab.example"
SYSTEMD = DEPLOY / "systemd"
DOCKERFILE = REPO / "Dockerfile"
README = (REPO / "README.md").read_text(encoding="utf-8")

CHECKED = {CRONJOB, CRONTAB, SYSTEMD / "sheetsync.service", SYSTEMD / "sheetsync.timer"}


def test_every_file_in_deploy_is_checked_here():
    assert {p for p in DEPLOY.rglob("*") if p.is_file()} == CHECKED


def test_the_kubernetes_manifest_is_valid_against_the_kubernetes_schemas():
    check_kubernetes_schemas(CRONJOB)


def test_every_shard_of_the_cronjob_starts_with_a_command_line_sheetsync_accepts(tmp_path):
    check_cronjob(CRONJOB, tmp_path)
    argvs = [argv for _, argv in cronjob_command_lines(CRONJOB)]
    assert argvs[3][3:5] == ["--shard", "3/4"]
    assert argvs[0][-2:] == ["--log-format", "json"], "the flag the issue found refused"


def test_the_crontab_entries_are_commands_sheetsync_accepts():
    check_crontab(CRONTAB)


def test_the_systemd_unit_and_timer_pass_systemd_analyze_verify(tmp_path):
    check_systemd(SYSTEMD, tmp_path)


def test_the_readme_systemd_drop_in_for_the_workbook_folder_verifies_too(tmp_path):
    drop_in = re.search(r"printf '(\[Service\]\\n[^']*)'", README)
    assert drop_in, "the README gives the ReadWritePaths drop-in"
    check_systemd(SYSTEMD, tmp_path, drop_in="\n" + drop_in.group(1).replace("\\n", "\n"))


def test_the_systemd_lock_goes_in_the_state_directory(tmp_path, monkeypatch):
    assert unit_setting(SYSTEMD / "sheetsync.service", "StateDirectory") == "sheetsync"
    monkeypatch.setenv("STATE_DIRECTORY", "/var/lib/sheetsync")
    config = check_config_text(
        '[[workbooks]]\nname = "a"\npath = "a.xlsx"\n', tmp_path, mounts={"/"}
    )
    assert config.state_dir == "/var/lib/sheetsync"


def test_the_readme_systemd_steps_name_the_files_that_exist():
    steps = README.split("**systemd timer**", 1)[1].split("```sh", 1)[1].split("```", 1)[0]
    for needed in ("useradd", "daemon-reload", "enable --now sheetsync.timer", "journalctl",
                   "ReadWritePaths=", "/var/lib/sheetsync"):  # fmt: skip
        assert needed in steps, needed
    for path in re.findall(r"deploy/\S+", steps):
        assert (REPO / path).exists(), path


def test_the_dockerfile_is_hadolint_clean():
    check_hadolint(DOCKERFILE)


def test_the_dockerfile_is_multi_stage_slim_non_root_with_sheetsync_as_entrypoint():
    check_dockerfile(DOCKERFILE)


def test_the_build_context_keeps_only_what_the_image_needs():
    ignore = (REPO / ".dockerignore").read_text(encoding="utf-8").split()
    assert ignore[ignore.index("*") :][:1] == ["*"], "everything is left out unless listed"
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", DOCKERFILE.read_text(), re.MULTILINE):
        for name in source.split():
            assert f"!{name}" in ignore, f"{name} is copied but left out of the build context"


def test_the_health_check_passes_while_serve_runs_and_fails_once_it_is_stale(tmp_path):
    """The image's HEALTHCHECK command against a real `sheetsync serve`."""
    final = check_dockerfile(DOCKERFILE)
    check = json.loads(final["HEALTHCHECK"].split("CMD", 1)[1])
    assert check[:2] == ["python", "-m"]
    alive = tmp_path / "alive"
    env = {**os.environ, "SHEETSYNC_ALIVE_FILE": str(alive)}
    config = tmp_path / "sheetsync.toml"
    config.write_text('[[workbooks]]\nname = "a"\npath = "a.xlsx"\n', encoding="utf-8")

    def health() -> subprocess.CompletedProcess[str]:
        argv = [sys.executable, *check[1:]]
        return subprocess.run(argv, env=env, capture_output=True, text=True, timeout=30)

    assert health().returncode == 1, "no serve yet: unhealthy"
    serve = subprocess.Popen(
        [sys.executable, "-m", "sheetsync.cli", "serve", "--config", str(config)],
        env=env,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 20
        while not alive.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        result = health()
        assert result.returncode == 0, result.stdout
        assert "idle" in result.stdout
    finally:
        serve.terminate()
        serve.wait(timeout=20)
    an_hour_ago = time.time() - 3600
    os.utime(alive, (an_hour_ago, an_hour_ago))
    result = health()
    assert result.returncode == 1 and "not updated for" in result.stdout


# A deliberately broken copy of each file fails the same check -----------------------------


def _broken(tmp_path: Path, source: Path, old: str, new: str) -> Path:
    text = source.read_text(encoding="utf-8")
    assert old in text, f"the mutation no longer applies to {source.name}"
    copy = tmp_path / "broken" / source.name
    copy.parent.mkdir(parents=True, exist_ok=True)
    copy.write_text(text.replace(old, new, 1), encoding="utf-8")
    return copy


BROKEN: dict[str, tuple[Path, str, str, str, Callable[[Path, Path], None]]] = {
    "an option the command line refuses": (
        CRONJOB, "- json ", "- yaml ", "invalid choice: 'yaml'",
        lambda p, t: check_cronjob(p, t),
    ),
    "a --shard count that is not the Job's": (
        CRONJOB, "$(JOB_COMPLETION_INDEX)/4", "$(JOB_COMPLETION_INDEX)/3", "must match the Job",
        lambda p, t: check_cronjob(p, t),
    ),
    "a config path on no mounted volume": (
        CRONJOB, "- /config/sheetsync.toml", "- /etc/sheetsync.toml", "not on a mounted volume",
        lambda p, t: check_cronjob(p, t),
    ),
    "a ConfigMap TOML the loader refuses": (
        CRONJOB, "requests_per_minute = 50", 'requests_per_minute = "fifty"', "expected a whole",
        lambda p, t: check_cronjob(p, t),
    ),
    "a misspelt Kubernetes field": (
        CRONJOB, "successfulJobsHistoryLimit", "successfulJobHistoryLimit", "successfulJobHistory",
        lambda p, t: check_kubernetes_schemas(p),
    ),
    "a Kubernetes field of the wrong type": (
        CRONJOB, "completions: 4 ", "completions: four ", "four",
        lambda p, t: check_kubernetes_schemas(p),
    ),
    "a crontab entry with a misspelt option": (
        CRONTAB, "run --config", "run --confg", "unrecognized arguments: --confg",
        lambda p, t: check_crontab(p),
    ),
    "a crontab entry with four time fields": (
        CRONTAB, "  0  2  *   *   *    /opt", "  0  2  *   *    /opt", "bad time field",
        lambda p, t: check_crontab(p),
    ),
    "a Dockerfile that runs as root": (
        DOCKERFILE, "USER 10001:10001", "USER root", "runs as root",
        lambda p, t: check_dockerfile(p),
    ),
    "a Dockerfile with a compiler in the final stage": (
        DOCKERFILE, "RUN groupadd", "RUN apt-get update && apt-get install -y gcc && groupadd",
        "gcc", lambda p, t: check_dockerfile(p),
    ),
    "a Dockerfile hadolint rejects": (
        DOCKERFILE, "FROM ${PYTHON_IMAGE}\nLABEL", "FROM python:latest\nLABEL",
        "DL3007", lambda p, t: check_hadolint(p),
    ),
}  # fmt: skip


@pytest.mark.parametrize("mistake", list(BROKEN))
def test_a_broken_copy_fails_its_check(mistake, tmp_path):
    source, old, new, expected, check = BROKEN[mistake]
    copy = _broken(tmp_path, source, old, new)
    with pytest.raises(Exception, match=re.escape(expected)):
        check(copy, tmp_path)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ("run --config", "run --workers 0 --config", "--workers: expected a whole number"),
        (
            "ProtectSystem=strict",
            "ProtectSystem=strickt",
            "protect system value, ignoring: strickt",
        ),
        ("StateDirectory=sheetsync", "StateDirectry=sheetsync", "StateDirectry"),
    ],
)
def test_a_broken_systemd_unit_fails_its_check(old, new, expected, tmp_path):
    folder = tmp_path / "systemd"
    folder.mkdir()
    for unit in SYSTEMD.iterdir():
        (folder / unit.name).write_text(unit.read_text(encoding="utf-8"), encoding="utf-8")
    _broken(tmp_path, SYSTEMD / "sheetsync.service", old, new).replace(folder / "sheetsync.service")
    with pytest.raises(AssertionError, match=re.escape(expected)):
        check_systemd(folder, tmp_path)


def test_a_broken_timer_fails_its_check(tmp_path):
    folder = tmp_path / "systemd"
    folder.mkdir()
    (folder / "sheetsync.service").write_text((SYSTEMD / "sheetsync.service").read_text())
    _broken(
        tmp_path,
        SYSTEMD / "sheetsync.timer",
        "OnCalendar=*-*-* 02:00:00",
        "OnCalendar=nightly at 2",
    ).replace(folder / "sheetsync.timer")
    with pytest.raises(AssertionError, match="Failed to parse calendar specification"):
        check_systemd(folder, tmp_path)


def test_the_workload_identity_variant_of_the_cronjob_is_valid_and_keyless(tmp_path):
    """The README's edits for GKE Workload Identity, applied to the manifest and checked."""
    text = CRONJOB.read_text(encoding="utf-8")
    text = text.replace("# serviceAccountName: sheetsync", "serviceAccountName: sheetsync")
    text = re.sub(r"\n\s+env:\n\s+- name: GOOGLE_APPLICATION_CREDENTIALS\n\s+value: \S+", "", text)
    text = text.replace("    [google]\n", '    [google]\n    credentials = "default"\n')
    variant = tmp_path / "workload-identity" / "cronjob.yaml"
    variant.parent.mkdir()
    variant.write_text(text, encoding="utf-8")

    check_kubernetes_schemas(variant)
    check_cronjob(variant, tmp_path)
    docs = yaml.safe_load_all(text)
    cronjob = next(d for d in docs if d and d["kind"] == "CronJob")
    spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert spec["serviceAccountName"] == "sheetsync"
    assert "env" not in spec["containers"][0], "no key file named anywhere"
    assert load_config(tmp_path / "sheetsync.toml").google.credentials == "default"
