"""sheetsync's marks on its own columns survive a person's edit in a real spreadsheet program.

LibreOffice Calc (driven through UNO) inserts a column before sheetsync's columns, the person
renames one of sheetsync's headers, and saves: the hidden defined names moved with the columns,
so the next sync writes to the same columns and adds none. Under CI=true a missing LibreOffice
or python3-uno fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
from pathlib import Path

import openpyxl
import pytest

from sheetsync.cli import main
from tests.e2e.workbooks import write_config, write_like_excel

EDIT = Path(__file__).with_name("libreoffice_edit.py")
SYSTEM_PYTHON = "/usr/bin/python3"


def _libreoffice() -> None:
    """Fail under CI (the packages are part of the job), else skip, when LibreOffice is missing."""
    has_uno = Path(SYSTEM_PYTHON).exists() and (
        subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True).returncode == 0
    )
    if shutil.which("soffice") and has_uno:
        return
    message = (
        "LibreOffice with Python UNO is not installed: "
        "apt-get update && apt-get install -y libreoffice-calc python3-uno"
    )
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_column_inserted_and_a_header_renamed_in_libreoffice_keep_sheetsyncs_columns(tmp_path):
    _libreoffice()
    book = write_like_excel(
        tmp_path / "team.xlsx",
        {
            "OKRs": [
                ["Objective", "Key Result", "Start", "Target", "Current", "Status"],
                ["Grow revenue", "New leads a month", 0, 100, 60, "On Track"],
            ],
            "KPIs": [["KPI", "Target", "Actual"], ["Revenue", 50000, 51000]],
        },
    )
    config = write_config(tmp_path, [{"name": "team", "path": str(book)}])
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    head = [c.value for c in openpyxl.load_workbook(book)["OKRs"][1]]
    assert head[6:8] == ["Score", "Status (sheetsync)"]

    subprocess.run(
        [SYSTEM_PYTHON, str(EDIT), str(book), "OKRs", "2", "I1", "Progress",
         str(tmp_path / "profile"), str(_free_port())],
        check=True,
        timeout=180,
    )  # fmt: skip
    assert main(["run", "--config", str(config), "--as-of", "2026-11-15"]) == 0
    sheet = openpyxl.load_workbook(book, data_only=True)["OKRs"]
    head = [c.value for c in sheet[1]]
    assert head == [
        "Objective", None, "Key Result", "Start", "Target", "Current", "Status",
        "Score", "Progress", "Note", "Trend",
    ], "no column added: the marks moved with the columns"  # fmt: skip
    assert sheet["I2"].value == "On track"
    assert sheet["G2"].value == "On Track", "the person's Status is still theirs"
