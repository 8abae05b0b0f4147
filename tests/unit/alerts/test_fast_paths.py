"""The alert planning's fast paths read what the general ones read: an event id's date as
`strptime` reads it, a cell's text as before, an owner's address parsed once as every time."""

from __future__ import annotations

from datetime import date, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from sheetsync.alerts.cells import cell_text
from sheetsync.alerts.events import EventKind, event_id, parse_event_id
from sheetsync.alerts.recipients import owner_addresses
from sheetsync.config import Alerts


def strptime_date(digits: str) -> date | None:
    try:
        return datetime.strptime(digits, "%Y%m%d").date()
    except ValueError:
        return None


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(st.text(alphabet="0123456789", min_size=8, max_size=8), st.sampled_from(EventKind))
def test_an_event_ids_date_is_read_as_strptime_reads_it(digits, kind):
    found = parse_event_id(f"{kind.value}-{digits}-{'0' * 16}")
    expected = strptime_date(digits)
    assert found == (None if expected is None else (kind, expected))


def test_an_event_id_made_for_a_day_reads_back_as_that_day():
    made = event_id("Team", "kr", "K1", EventKind.ALERT, date(2026, 2, 28))
    assert parse_event_id(made) == (EventKind.ALERT, date(2026, 2, 28))


@settings(deadline=None)  # timings on a loaded machine say nothing here
@given(st.text())
def test_text_cells_read_back_trimmed(text):
    assert cell_text(text) == str(text).strip()


def test_an_owner_asked_for_again_gets_the_same_addresses():
    settings = Alerts()
    for owner in ("Ana <ana@example.com>", "Cy, bo@example.com", "Ana <ana@example.com>", "Cy"):
        assert owner_addresses(owner, settings) == owner_addresses(owner, settings)
    assert owner_addresses("Ana <ana@example.com>", settings) == (("ana@example.com",), [])
    assert owner_addresses("Cy, bo@example.com", settings) == (("bo@example.com",), ["Cy"])
