"""Who an Owner cell names: every person in it is either mailed or reported as unmapped, never
silently left out, whatever the order of names and addresses."""

from __future__ import annotations

import pytest

from sheetsync.alerts.recipients import owner_addresses
from sheetsync.config import Alerts

OWNERS = Alerts(owners={"Dee": "dee@example.com"})


@pytest.mark.parametrize(
    ("cell", "mailed", "unmapped"),
    [
        ("bo@example.com; Cy", ("bo@example.com",), ["Cy"]),
        ("Cy, bo@example.com", ("bo@example.com",), ["Cy"]),
        ("bo@example.com, Dee", ("bo@example.com", "dee@example.com"), []),
        ("Ana <ana@example.com>; Cy", ("ana@example.com",), ["Cy"]),
        ('"Smith, Ana" <ana@example.com>', ("ana@example.com",), []),
        ("Ana <ana@example.com>", ("ana@example.com",), []),
        ("Dee", ("dee@example.com",), []),
    ],
)
def test_every_person_in_an_owner_cell_is_mailed_or_reported(cell, mailed, unmapped):
    assert owner_addresses(cell, OWNERS) == (mailed, unmapped)
