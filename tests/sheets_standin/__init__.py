"""A local stand-in for the Google Sheets API v4 (real HTTP on 127.0.0.1) for tests and benchmarks.

    with SheetsStandIn() as api:
        sid = api.create_spreadsheet("Team OKRs", {"OKRs": [["Objective", "Key result"], ...]})
        ...  # point a client at api.url; assert on api.counts

The pytest fixtures (`sheets_api`, `service_account_file`, ...) are in `fixtures.py`.
"""

from tests.sheets_standin.model import ApiError, Formula
from tests.sheets_standin.server import (
    OAUTH_USER_EMAIL,
    SCOPE,
    SERVICE_ACCOUNT_EMAIL,
    Fault,
    RequestRecord,
    SheetsStandIn,
)

__all__ = [
    "OAUTH_USER_EMAIL",
    "SCOPE",
    "SERVICE_ACCOUNT_EMAIL",
    "ApiError",
    "Fault",
    "Formula",
    "RequestRecord",
    "SheetsStandIn",
]
