"""The file on disk: not written while open, changed or read-only; replaced atomically, with
its permissions and rotating backups; the temporary files of killed saves removed."""

from __future__ import annotations

import os
import stat
import time

import pytest

from sheetsync.backends.base import CellWrite, RowGuard, WritePlan
from sheetsync.backends.excel import ExcelWorkbook
from sheetsync.core.errors import BackendError, WorkbookBusyError
from tests.integration.conftest import NOTE
from tests.integration.excel.conftest import kill_a_save, results_plan


@pytest.mark.parametrize("lock", ["~$okrs.xlsx", ".~lock.okrs.xlsx#"])
def test_a_workbook_open_in_excel_or_libreoffice_is_not_written(okrs_file, lock):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    (okrs_file.parent / lock).write_bytes(b"someone")
    data = okrs_file.read_bytes()

    with pytest.raises(WorkbookBusyError, match="close it in Excel/LibreOffice and run again"):
        workbook.write(results_plan())
    assert okrs_file.read_bytes() == data
    assert not (okrs_file.parent / "okrs.xlsx.bak").exists()


def test_a_workbook_changed_on_disk_after_read_is_not_written(okrs_file, make_okrs):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    make_okrs("okrs.xlsx", rows=6)  # someone saved a different version meanwhile
    data = okrs_file.read_bytes()

    with pytest.raises(WorkbookBusyError, match="changed on disk since sheetsync read it"):
        workbook.write(results_plan())
    assert okrs_file.read_bytes() == data


def test_a_touched_workbook_is_not_written(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    info = os.stat(okrs_file)
    os.utime(okrs_file, ns=(info.st_atime_ns, info.st_mtime_ns + 1_000_000_000))

    with pytest.raises(WorkbookBusyError, match="run again"):
        workbook.write(results_plan())


def test_row_guards_need_no_check_of_their_own(okrs_file):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    plan = results_plan()
    plan.guards.append(RowGuard("OKRs", 2, 2, "KR 1"))

    assert workbook.write(plan).wrote


def test_a_crash_while_replacing_the_file_leaves_the_original_and_no_temp_file(
    okrs_file, monkeypatch
):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    data = okrs_file.read_bytes()

    def power_cut(*_: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "replace", power_cut)
    with pytest.raises(BackendError, match="could not save"):
        workbook.write(results_plan())

    assert okrs_file.read_bytes() == data
    assert sorted(p.name for p in okrs_file.parent.iterdir() if not p.name.endswith(".bak")) == [
        "okrs.xlsx"
    ]


def test_a_crash_while_writing_the_temp_file_leaves_the_original(okrs_file, monkeypatch):
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    data = okrs_file.read_bytes()

    def disk_full(*_: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(BackendError, match="No space left on device"):
        workbook.write(results_plan())

    assert okrs_file.read_bytes() == data
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


def test_the_previous_version_is_kept_as_a_backup(okrs_file):
    original = okrs_file.read_bytes()
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    workbook.write(results_plan())

    assert (okrs_file.parent / "okrs.xlsx.bak").read_bytes() == original
    assert okrs_file.read_bytes() != original


def test_backups_rotate_through_their_generations(okrs_file):
    versions = [okrs_file.read_bytes()]
    for n in range(3):  # three nightly syncs, one object each
        workbook = ExcelWorkbook(okrs_file, backups=2)
        workbook.read(["OKRs"])
        workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, f"run {n}")]))
        versions.append(okrs_file.read_bytes())

    folder = okrs_file.parent
    assert (folder / "okrs.xlsx.bak.1").read_bytes() == versions[2]
    assert (folder / "okrs.xlsx.bak.2").read_bytes() == versions[1]
    assert not (folder / "okrs.xlsx.bak.3").exists() and not (folder / "okrs.xlsx.bak").exists()


def test_no_backup_when_backups_is_zero(okrs_file):
    workbook = ExcelWorkbook(okrs_file, backups=0)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


def test_the_file_keeps_its_permissions(okrs_file):
    os.chmod(okrs_file, 0o640)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])
    workbook.write(results_plan())
    assert stat.S_IMODE(os.stat(okrs_file).st_mode) == 0o640


def test_a_read_only_file_is_not_replaced(okrs_file):
    os.chmod(okrs_file, 0o444)
    workbook = ExcelWorkbook(okrs_file)
    workbook.read(["OKRs"])

    with pytest.raises(BackendError, match="is read-only"):
        workbook.write(results_plan())
    assert [p.name for p in okrs_file.parent.iterdir()] == ["okrs.xlsx"]


def test_a_second_write_in_the_same_sync_keeps_the_backup_from_before_the_sync(okrs_file):
    before = okrs_file.read_bytes()
    workbook = ExcelWorkbook(okrs_file, backups=1)
    workbook.read(["OKRs"])
    workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, "scores")]))
    workbook.write(WritePlan([CellWrite("OKRs", 2, NOTE, "alert delivery")]))
    assert (okrs_file.parent / "okrs.xlsx.bak").read_bytes() == before


def test_the_next_sync_removes_the_temp_file_a_killed_save_left(okrs_file):
    original = okrs_file.read_bytes()
    left = kill_a_save(okrs_file)
    assert left.name.startswith(".okrs.xlsx.") and left.name.endswith(".tmp")
    assert left.stat().st_size > 0 and okrs_file.read_bytes() == original
    locked_at = time.time()  # the next run takes its lock

    ExcelWorkbook(okrs_file, stale_temp_before=locked_at).read(["OKRs"])

    assert not left.exists()
    assert okrs_file.read_bytes() == original


def test_only_sheetsyncs_own_temp_files_from_before_the_lock_are_removed(okrs_file):
    folder = okrs_file.parent
    names = [
        ".okrs.xlsx.k3j_x9a2.tmp",  # sheetsync's, left by an earlier run: removed
        ".okrs.xlsx.fresh123.tmp",  # sheetsync's, but newer than the lock: kept
        ".okrs.xlsx.k3j_x9a2.tmp.keep",
        ".okrs.xlsx.TOOLONG99.tmp",
        ".okrs.xlsx.abc.tmp",
        "okrs.xlsx.k3j_x9a2.tmp",
        ".other.xlsx.k3j_x9a2.tmp",
        ".okrs.xlsx.k3j_x9a3.tmp",  # a folder of that name: kept
    ]
    for name in names[:-1]:
        (folder / name).write_bytes(b"x")
    (folder / names[-1]).mkdir()
    locked_at = time.time()
    hour_ago = locked_at - 3600
    for name in names:
        if name != ".okrs.xlsx.fresh123.tmp":
            os.utime(folder / name, (hour_ago, hour_ago))
    os.utime(folder / ".okrs.xlsx.fresh123.tmp", (locked_at + 1, locked_at + 1))

    ExcelWorkbook(okrs_file, stale_temp_before=locked_at).read(["OKRs"])

    assert sorted(p.name for p in folder.iterdir()) == sorted(["okrs.xlsx", *names[1:]])
