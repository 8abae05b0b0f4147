"""Who hears about an item: its owner's address, and the managers in `summary_to`.

The Owner cell may hold an e-mail address ("ana@example.com", "Ana <ana@example.com>"), a
name that `[alerts.owners]` maps to an address (matched case-insensitively), or several of
either separated by commas or semicolons. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr

from sheetsync.config import Alerts

_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+$")
_SPLIT = re.compile(r"[,;]")


def is_email(text: str) -> bool:
    """Whether `text` is a bare e-mail address (a light check: the server has the last word)."""
    return bool(_EMAIL.match(text.strip()))


def unique(addresses: Iterable[str]) -> tuple[str, ...]:
    """Addresses in order, without blanks or case-insensitive repeats."""
    seen: set[str] = set()
    out: list[str] = []
    for address in addresses:
        address = address.strip()
        if address and address.casefold() not in seen:
            seen.add(address.casefold())
            out.append(address)
    return tuple(out)


def _address(text: str) -> str | None:
    _name, address = parseaddr(text.strip())
    return address if address and is_email(address) else None


def _mapped(text: str, owners: dict[str, str]) -> tuple[str, ...] | None:
    wanted = " ".join(text.split()).casefold()
    for name, addresses in owners.items():
        if " ".join(name.split()).casefold() == wanted:
            return unique(a for a in _SPLIT.split(addresses) if a.strip())
    return None


@dataclass(frozen=True)
class Recipients:
    """The addresses one event goes to, and what to log when the owner has none."""

    owner: tuple[str, ...]
    summary: tuple[str, ...]
    problem: str = ""
    """Set when the owner could not be resolved, e.g. 'no recipient (set [alerts.owners] "Bob")'."""

    @property
    def all(self) -> tuple[str, ...]:
        return unique((*self.owner, *self.summary))


def owner_addresses(owner: str | None, settings: Alerts) -> tuple[tuple[str, ...], list[str]]:
    """The owner's addresses, and the names in the Owner cell that map to none."""
    text = (owner or "").strip()
    if not text:
        return (), []
    whole = _mapped(text, settings.owners)
    if whole is not None:
        return whole, []
    single = _address(text)
    if single:
        return (single,), []
    found: list[str] = []
    missing: list[str] = []
    for part in (p.strip() for p in _SPLIT.split(text)):
        if not part:
            continue
        address = _address(part)
        mapped = _mapped(part, settings.owners)
        if address:
            found.append(address)
        elif mapped is not None:
            found.extend(mapped)
        else:
            missing.append(part)
    return unique(found), missing


def recipients_for(owner: str | None, settings: Alerts) -> Recipients:
    """Everyone who gets an event about an item owned by `owner`."""
    addresses, missing = owner_addresses(owner, settings)
    summary = unique(settings.summary_to)
    problem = ""
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        hint = f"set [alerts.owners] {names}"
        reached = addresses or summary
        problem = f"owner not notified ({hint})" if reached else f"no recipient ({hint})"
    elif not addresses:
        hint = "fill in the Owner cell, or set [alerts] summary_to"
        problem = f"no recipient ({hint})" if not summary else "owner not notified (no Owner)"
    return Recipients(owner=addresses, summary=summary, problem=problem)
