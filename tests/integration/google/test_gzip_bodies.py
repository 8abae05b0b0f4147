"""Request bodies go gzip-compressed; a front end that refuses them (a proxy or gateway set as
`api_url` that does not decompress bodies, answering 400 or 415) gets the same body again
uncompressed, and this process sends it uncompressed from then on."""

from __future__ import annotations

from pathlib import Path

import pytest

from sheetsync.backends.google import session
from tests.integration.google.workbooks import okr_rows, open_book, score_plan
from tests.sheets_standin import SheetsStandIn


def _writes(api: SheetsStandIn) -> list[tuple[str | None, int | None]]:
    """Each batchUpdate's Content-Encoding and the status it was answered with."""
    return [
        (r.headers.get("Content-Encoding"), r.status) for r in api.log if r.kind == "batchUpdate"
    ]


@pytest.mark.parametrize("refusal", [400, 415])
def test_a_front_end_that_refuses_gzip_bodies_gets_them_uncompressed_and_the_write_lands(
    sheets_api: SheetsStandIn, service_account_file: Path, refusal: int
) -> None:
    sheets_api.refuse_gzip_bodies = refusal
    first = sheets_api.create_spreadsheet("Team A", {"OKRs": okr_rows(3)})
    second = sheets_api.create_spreadsheet("Team B", {"OKRs": okr_rows(3)})
    try:
        open_book(sheets_api, first, service_account_file).write(score_plan(3))
        assert _writes(sheets_api) == [("gzip", refusal), (None, 200)]

        # the same process remembers: the next workbook's write goes uncompressed at once
        open_book(sheets_api, second, service_account_file).write(score_plan(3))
        assert _writes(sheets_api)[2:] == [(None, 200)]
    finally:
        session.REFUSING_GZIP.discard(sheets_api.url)

    for sid in (first, second):
        assert sheets_api.values(sid, "OKRs")[1][5] == "Off track"


def test_a_request_that_is_wrong_anyway_is_not_taken_for_a_gzip_refusal(
    sheets_api: SheetsStandIn, service_account_file: Path
) -> None:
    """A 400 that the uncompressed body gets too is the request's own fault: reported as it
    is, and gzip stays on for the next request."""
    sid = sheets_api.create_spreadsheet("Team A", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.fail_next(400, kind="batchUpdate", times=2, message="Invalid requests[0]")

    with pytest.raises(Exception, match="Invalid requests"):
        book.write(score_plan(3))
    book.write(score_plan(3))

    assert _writes(sheets_api) == [("gzip", 400), (None, 400), ("gzip", 200)]
    assert sheets_api.url not in session.REFUSING_GZIP


def test_a_request_error_then_a_busy_server_does_not_turn_gzip_off(
    sheets_api: SheetsStandIn, service_account_file: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A 400 that is the request's own, then a 503 on the uncompressed try: nothing shows the
    front end refuses gzip, so gzip stays on and no warning claims the body was taken."""
    sid = sheets_api.create_spreadsheet("Team A", {"OKRs": okr_rows(3)})
    book = open_book(sheets_api, sid, service_account_file)
    book.read(["OKRs"])
    sheets_api.fail_next(400, kind="batchUpdate", message="Invalid requests[0]")
    sheets_api.fail_next(503, kind="batchUpdate")

    try:
        book.write(score_plan(3))
        assert sheets_api.url not in session.REFUSING_GZIP
        assert "took it uncompressed" not in caplog.text
    finally:
        session.REFUSING_GZIP.discard(sheets_api.url)
    assert _writes(sheets_api)[:2] == [("gzip", 400), (None, 503)]
    assert sheets_api.values(sid, "OKRs")[1][5] == "Off track"
