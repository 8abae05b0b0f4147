"""The liveness file `serve` writes and the container health check that reads it."""

from __future__ import annotations

import time

from sheetsync.ops.alive import alive_file, check, mark


def test_no_variable_means_no_liveness_file():
    assert alive_file({}) is None
    mark(None, "idle")  # nothing to write, nothing raised


def test_an_idle_loop_is_healthy_for_fifteen_minutes(tmp_path):
    path = tmp_path / "alive"
    mark(path, "idle")
    assert check(path)[0]
    assert not check(path, now=time.time() + 16 * 60)[0]


def test_a_run_in_hand_may_take_hours(tmp_path):
    path = tmp_path / "alive"
    mark(path, "running")
    assert check(path, now=time.time() + 3 * 3600)[0]
    healthy, reason = check(path, now=time.time() + 5 * 3600)
    assert not healthy and "running and not updated" in reason


def test_a_missing_or_garbled_file_is_unhealthy(tmp_path):
    assert "no liveness file" in check(tmp_path / "absent")[1]
    (tmp_path / "garbled").write_text("{not json")
    assert not check(tmp_path / "garbled")[0]


def test_a_liveness_file_that_cannot_be_written_does_not_stop_serve(tmp_path, caplog):
    not_a_folder = tmp_path / "file"
    not_a_folder.write_text("")
    mark(not_a_folder / "alive", "idle")
    assert "cannot write the liveness file" in caplog.text
