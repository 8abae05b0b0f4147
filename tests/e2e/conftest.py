from __future__ import annotations

import pytest

from tests.e2e.workbooks import ExcelSheets

BACKENDS = ["excel", "google"]


@pytest.fixture(params=BACKENDS)
def sheets(request, tmp_path):
    if request.param == "excel":
        return ExcelSheets(tmp_path)
    from tests.e2e.workbooks import GoogleSheets

    return GoogleSheets(
        request.getfixturevalue("sheets_api"), request.getfixturevalue("service_account_file")
    )


@pytest.fixture
def excel_sheets(tmp_path):
    return ExcelSheets(tmp_path)
