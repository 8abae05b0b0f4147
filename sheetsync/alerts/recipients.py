"""Who hears about an item: its owner's address, and the managers in `summary_to`.

The Owner cell may hold an e-mail address ("ana@example.com", "Ana <ana@example.com>"), a
name that `[alerts.owners]` maps to an address (matched case-insensitively), or several of
either separated by commas or semicolons. With `[alerts] allowed_domains`, an address outside
those domains is never mailed, whoever typed it: it is reported instead. Pure: no I/O.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache

from sheetsync.config import Alerts
from sheetsync.core.model import ItemState

_EMAIL = re.compile(r"^[^@\s<>,;:\"]+@[^@\s<>,;:\"]+$")
_SPLIT = re.compile(r"[,;]")
_SPLIT_UNQUOTED = re.compile(r'[,;](?=(?:[^"]*"[^"]*")*[^"]*$)')
"""A comma or semicolon between people, not one inside a quoted name ("Smith, Ana")."""


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


@lru_cache(maxsize=4096)
def _address(text: str) -> str | None:
    """The address in `text` (`Ana <ana@example.com>`), or None; remembered, since every item
    of an owner asks again (36,578 parses for 40 owners in a 10,000-row workbook)."""
    _name, address = parseaddr(text.strip())
    return address if address and is_email(address) else None


def split_addresses(text: str, *, key: str, names: bool = False) -> list[str]:
    """The addresses in a config value ("a@x.com, Bo <b@x.com>"); ValueError names a bad one.

    `names` adds the hint that a name mapped under [alerts.owners] is accepted too.
    """
    out = []
    for part in (p.strip() for p in _SPLIT.split(text)):
        if not part:
            continue
        address = _address(part)
        if address is None:
            hint = " or a name listed under [alerts.owners]" if names else ""
            raise ValueError(
                f"{key}: {part!r} is not an e-mail address; expected an address such as "
                f"'ana@yourcompany.com'{hint}"
            )
        out.append(address)
    return out


def domain_of(address: str) -> str:
    return address.rsplit("@", 1)[-1].strip().rstrip(".").casefold()


def allowed_domain(address: str, allowed: Sequence[str]) -> bool:
    """Whether `address` is in one of the `allowed` domains or their subdomains (all when empty)."""
    if not allowed:
        return True
    domain = domain_of(address)
    return any(domain == d or domain.endswith("." + d) for d in allowed)


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine (localhost, 127.0.0.0/8, ::1)."""
    text = host.strip().strip("[]").casefold()
    if text in ("localhost", "localhost.localdomain") or text.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


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
    outside: tuple[str, ...] = ()
    """Addresses left out because they are outside `[alerts] allowed_domains`."""
    chat: tuple[str, ...] = ()
    """Chat channels, as `chat:NAME`."""

    @property
    def all(self) -> tuple[str, ...]:
        return unique((*self.owner, *self.summary, *self.chat))


def owner_addresses(owner: str | None, settings: Alerts) -> tuple[tuple[str, ...], list[str]]:
    """The owner's addresses, and the names in the Owner cell that map to none."""
    text = (owner or "").strip()
    if not text:
        return (), []
    whole = _mapped(text, settings.owners)
    if whole is not None:
        return whole, []
    parts = [p.strip() for p in _SPLIT_UNQUOTED.split(text)]
    if len(parts) == 1:
        single = _address(text)
        if single:
            return (single,), []
    # Each person separately: `parseaddr` of the whole "bo@x.com; Cy" would give bo alone.
    found: list[str] = []
    missing: list[str] = []
    for part in parts:
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


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def teams_of(item: ItemState, settings: Alerts) -> list[str]:
    """The `[alerts.teams]` an item belongs to: by its objective (key results) or name (KPIs)."""
    names = []
    for name, team in settings.teams.items():
        if item.kind == "kpi":
            member = any(_same_name(item.key, k) for k in team.kpis)
        else:
            member = any(_same_name(item.objective or "", o) for o in team.objectives)
        if member:
            names.append(name)
    return names


CHAT_PREFIX = "chat:"
"""How a chat channel appears among an alert's recipients (`chat:sales`): never its URL."""


def is_chat(recipient: str) -> bool:
    return recipient.startswith(CHAT_PREFIX)


def chat_channels(settings: Alerts, item: ItemState | None = None) -> tuple[str, ...]:
    """The chat channels told about `item`, as `chat:NAME`: its teams' `chat`, else the
    default (the workbook's own, or the global `[alerts] chat`)."""
    teams = teams_of(item, settings) if item is not None else []
    names = [n for t in teams for n in settings.teams[t].chat] if teams else settings.chat
    return unique(f"{CHAT_PREFIX}{name}" for name in names)


def summary_addresses(settings: Alerts, item: ItemState | None = None) -> tuple[str, ...]:
    """Who gets a digest of everything about `item` besides its owner: its teams'
    `summary_to`, or when it is in no team, the default `summary_to` (the workbook's own, or
    the global one). Entries may be names mapped under [alerts.owners]."""
    entries = list(settings.summary_to)
    teams = teams_of(item, settings) if item is not None else []
    if teams:
        entries = [e for name in teams for e in settings.teams[name].summary_to]
    found: list[str] = []
    for entry in entries:
        mapped = _mapped(entry, settings.owners)
        if mapped is not None:
            found.extend(mapped)
        else:
            found.extend(_address(p) or "" for p in _SPLIT.split(entry))
    return unique(a for a in found if allowed_domain(a, settings.allowed_domains))


def recipients_for(
    owner: str | None, settings: Alerts, item: ItemState | None = None
) -> Recipients:
    """Everyone who gets an event about `item`, owned by `owner`."""
    found, missing = owner_addresses(owner, settings)
    addresses = tuple(a for a in found if allowed_domain(a, settings.allowed_domains))
    outside = tuple(a for a in found if a not in addresses)
    summary = summary_addresses(settings, item)
    chat = chat_channels(settings, item)
    problem = ""
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        hint = f"set [alerts.owners] {names}"
        reached = addresses or summary or chat
        problem = f"owner not notified ({hint})" if reached else f"no recipient ({hint})"
    elif not found:
        hint = "fill in the Owner cell, or set [alerts] summary_to"
        reached = summary or chat
        problem = f"no recipient ({hint})" if not reached else "owner not notified (no Owner)"
    if outside:
        extra = f"not sent to {', '.join(outside)} (outside [alerts] allowed_domains)"
        if problem:
            problem = f"{problem}, {extra}"
        else:
            problem = extra if addresses or summary or chat else f"no recipient: {extra}"
    return Recipients(addresses, summary, problem, outside, chat)


def _listed(keys: Sequence[str], limit: int = 5) -> str:
    shown = ", ".join(keys[:limit])
    return shown + (f" and {len(keys) - limit} more" if len(keys) > limit else "")


def unreachable_owners(items: Iterable[ItemState], settings: Alerts) -> list[str]:
    """One line per owner alerts cannot reach, with the items they own (for `validate`).

    An Owner cell that is neither an address nor a name under `[alerts.owners]` (such as
    `Head of sales` or `ana(at)acme.test`), an address outside `allowed_domains`, and blank
    Owner cells when nobody is in `summary_to`.
    """
    by_owner: dict[str, list[str]] = {}
    unheard: list[str] = []
    for item in items:
        owner = (item.owner or "").strip()
        if owner:
            by_owner.setdefault(owner, []).append(item.key)
        elif not summary_addresses(settings, item) and not chat_channels(settings, item):
            unheard.append(item.key)
    lines = []
    if unheard:
        lines.append(
            f"no Owner ({len(unheard)} item{'s' if len(unheard) != 1 else ''}: "
            f"{_listed(unheard)}): nobody hears about these; fill in the Owner cells or set "
            "[alerts] summary_to"
        )
    for owner, keys in by_owner.items():
        count = f"{len(keys)} item{'s' if len(keys) != 1 else ''}: {_listed(keys)}"
        found, missing = owner_addresses(owner, settings)
        for name in missing:
            lines.append(
                f"Owner {name!r} ({count}) is not an e-mail address nor a name under "
                f'[alerts.owners]: add "{name}" = "name@yourcompany.com" there, or put the '
                "address in the Owner cell"
            )
        outside = [a for a in found if not allowed_domain(a, settings.allowed_domains)]
        if outside:
            lines.append(
                f"Owner {owner!r} ({count}): {', '.join(outside)} is outside [alerts] "
                f"allowed_domains ({', '.join(settings.allowed_domains)}) and is never mailed"
            )
    return lines
