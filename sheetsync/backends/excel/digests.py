"""What sheetsync last wrote to each tab it owns, remembered in the workbook, so that a tab
already as planned is recognised without building its rows.

Each write records, for every tab it brought to a plan's content (each owned tab, and each
person's tab it writes output cells to), a hidden defined name local to the tab,
`_sheetsync_digest`, whose text is a string of three digests:

* the planned content (`OwnedTab`: rows, fills, formats, charts; on a person's tab its output
  cells) and the workbook's date system, as the plan gave them;
* the bytes of the tab's worksheet part and of every part it relates to (its drawing, charts),
  as written;
* the bytes of the styles part as written and of the shared strings as loaded (a cell's
  format is an index into the one, a text Excel saved an index into the other: a person's
  edit there leaves the worksheet's bytes as they were).

The next run compares the planned content's digest with the first, and the parts' bytes with
the other two: when all three hold, the tab is, byte for byte, what sheetsync wrote for that
same content, so there is nothing to write. Anything else (a person edited the tab, Excel
saved the file, the plan differs, an older file without the names) goes to the comparison of
rows (`owned_tabs.row_changes`, on the sheet's text), which is exact but builds every row's
XML; on a person's tab, to the search for the output cells (`SheetText.scan`), which compares
every one of them. The content is digested from its `repr` (C code throughout, about 20
times faster than building the rows); a difference the digest misses could only be two
different contents with the same `repr`, which a dataclass of plain values does not have.

sheetsync only ever adds entries to the styles part (a cell format, once added, keeps its
index), so a later write that adds styles keeps the digests of tabs it did not touch valid: it
carries them over to the new styles part when they held before it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Set
from datetime import datetime
from typing import Any

from lxml import etree

from sheetsync.backends.excel.ooxml import MAIN_NS, RELATIONSHIP, WORKBOOK_ORDER, insert_ordered
from sheetsync.backends.excel.package import XlsxPackage, rels_part, resolve_target
from sheetsync.core.plan import CellWrite, OwnedTab

__all__ = ["DIGEST_NAME", "OwnedDigests", "content_digest", "writes_digest"]

DIGEST_NAME = "_sheetsync_digest"
_NAME = f"{{{MAIN_NS}}}definedName"


def _hex(data: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for piece in data:
        digest.update(piece)
    return digest.hexdigest()[:32]


def content_digest(owned: OwnedTab, epoch: datetime) -> str:
    """The digest of an owned tab's planned content (and of the date system its dates are
    written in)."""
    return _hex([epoch.isoformat().encode(), b"\n", repr(owned).encode()])


def writes_digest(writes: Iterable[CellWrite], epoch: datetime) -> str:
    """The digest of the output cells a plan gives one person's tab (and of the date system):
    each write as plain values, whose `repr` is C code."""
    cells = [
        (w.row, w.col, w.value, w.fill and w.fill.value, w.number_format, w.keep_format)
        for w in writes
    ]
    return _hex([epoch.isoformat().encode(), b"\n", repr(cells).encode()])


class OwnedDigests:
    """The digests recorded in one workbook part, checked and recorded by the editor."""

    def __init__(
        self,
        package: XlsxPackage,
        workbook: Any,
        styles_part: str | None,
        shared_strings_part: str | None,
    ) -> None:
        self._package = package
        self._workbook = workbook
        self._styles_part = styles_part
        self._shared_strings_part = shared_strings_part
        """sheetsync never writes it (its text goes inline), so it is as loaded throughout."""
        self._styles_loaded: str | None = None
        self._recorded: dict[str, tuple[str, str, str]] = {}
        """localSheetId -> (content, parts, styles) digests, as recorded."""
        names = workbook.find(f"{{{MAIN_NS}}}definedNames")
        for name in () if names is None else names.iterchildren(_NAME):
            if name.get("name", "").casefold() != DIGEST_NAME.casefold():
                continue
            text = (name.text or "").strip().strip('"').split(".")
            if len(text) == 3 and name.get("localSheetId") is not None:
                self._recorded.setdefault(name.get("localSheetId", ""), (text[0], text[1], text[2]))

    def _styles_as_loaded(self) -> str:
        if self._styles_loaded is None:
            part = self._styles_part
            self._styles_loaded = self._indexed_parts(self._package.raw(part) if part else b"")
        return self._styles_loaded

    def _indexed_parts(self, styles: bytes) -> str:
        """The digest of the parts a cell points into by index: `styles`, the shared strings."""
        shared = self._shared_strings_part
        strings = self._package.raw(shared) if shared else b""
        return _hex([b"styles\n", styles, b"\nsharedStrings\n", strings])

    def parts_digest(self, part: str, *, written: bool = False) -> str:
        """The digest of a worksheet part and the parts it relates to, directly or through
        others (its relationships, drawing, charts): as loaded, or as they will be `written`
        ("" when a part related is not in the file as loaded)."""
        package = self._package
        seen: list[str] = []
        todo = [part]
        while todo:
            name = todo.pop()
            if name in seen:
                continue
            seen.append(name)
            rels = package.find(rels_part(name))
            if rels is None:
                continue
            seen.append(rels)
            for rel in package.xml(rels).iterchildren(RELATIONSHIP):
                if rel.get("TargetMode") == "External":
                    continue
                target = package.find(resolve_target(name, rel.get("Target", "")))
                if target is not None:
                    todo.append(target)
        try:
            data = [package.bytes_of(n) if written else package.raw(n) for n in seen]
        except KeyError:
            return ""
        return _hex(piece for n, d in zip(seen, data, strict=True) for piece in (n.encode(), d))

    def holds(self, index: int, part: str, content: str) -> bool:
        """Whether the tab at `index` (its part `part`, not changed by this write so far) is
        what sheetsync wrote for `content`."""
        recorded = self._recorded.get(str(index))
        return (
            recorded is not None
            and recorded[0] == content
            and recorded[2] == self._styles_as_loaded()
            and recorded[1] == self.parts_digest(part)
        )

    def record(
        self,
        written: dict[int, tuple[str, str]],
        parts: list[str | None],
        styles_part: str | None,
        optional: Set[int] = frozenset(),
        *,
        force: bool = True,
    ) -> bool:
        """Record the digests of the tabs this write brought to a content (index -> (part,
        content digest)) and carry over those of the other tabs that still hold; drop the
        rest. Called last, once every part is as it will be written; `parts` is each tab's
        worksheet part, in the workbook's order; `styles_part` the styles part now (added by
        this write, perhaps). Unless `force`, nothing is changed when only the digests of the
        tabs in `optional` (people's tabs) differ: a write that changed nothing else of the
        workbook part leaves it as it was. True if the workbook part changed."""
        styles = self._indexed_parts(self._package.bytes_of(styles_part) if styles_part else b"")
        wanted: dict[str, str] = {}
        for index, (part, content) in written.items():
            wanted[str(index)] = f"{content}.{self.parts_digest(part, written=True)}.{styles}"
        for key, (content, digest, old_styles) in self._recorded.items():
            index = int(key) if key.isdigit() else -1
            tab_part = parts[index] if 0 <= index < len(parts) else None
            if key in wanted or tab_part is None or old_styles != self._styles_as_loaded():
                continue
            if self.parts_digest(tab_part, written=True) == digest:
                wanted[key] = f"{content}.{digest}.{styles}"  # styles only gained entries
        names = self._workbook.find(f"{{{MAIN_NS}}}definedNames")
        if not force:
            current: dict[str, str | None] = {}
            for name in () if names is None else names.iterchildren(_NAME):
                if name.get("name", "").casefold() == DIGEST_NAME.casefold():
                    key = name.get("localSheetId", "")
                    current[key] = None if key in current else name.text  # twice: differs
            keys = wanted.keys() | current.keys()
            differ = {k for k in keys if k not in wanted or current.get(k) != f'"{wanted[k]}"'}
            if differ <= {str(index) for index in optional}:
                return False
        if names is None:
            if not wanted:
                return False
            names = etree.Element(f"{{{MAIN_NS}}}definedNames")
            insert_ordered(self._workbook, names, WORKBOOK_ORDER)
        changed = False
        for name in list(names.iterchildren(_NAME)):
            if name.get("name", "").casefold() != DIGEST_NAME.casefold():
                continue
            text = wanted.pop(name.get("localSheetId", ""), None)
            if text is None:
                names.remove(name)
                changed = True
            elif name.text != f'"{text}"':
                name.text = f'"{text}"'
                changed = True
        for key, text in sorted(wanted.items()):
            entry = etree.SubElement(names, _NAME, name=DIGEST_NAME, localSheetId=key)
            entry.set("hidden", "1")
            entry.text = f'"{text}"'
            changed = True
        if not len(names):
            self._workbook.remove(names)
        return changed
