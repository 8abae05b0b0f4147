"""The .xlsx package in memory: its zip's parts, each parsed at most once, the changed ones
serialised (with rows kept as text spliced in) and the rest copied as they were; part names
and relationship targets."""

from __future__ import annotations

import posixpath
import re
import secrets
import zipfile
from io import BytesIO
from typing import Any

from lxml import etree

from sheetsync.backends.excel.limits import Limits, check_part_sizes, parse_part
from sheetsync.backends.excel.ooxml import DamagedPackage
from sheetsync.backends.excel.read import new_parser


class XlsxPackage:
    """The zip's parts: each parsed at most once, the unchanged ones copied as they were."""

    def __init__(
        self, data: bytes, trees: dict[str, Any] | None = None, limits: Limits | None = None
    ) -> None:
        """`trees`: parts already parsed from these same bytes (part name -> root).

        Raises RefusedPackage when a part is larger than `limits` allow.
        """
        self._zip = zipfile.ZipFile(BytesIO(data))
        check_part_sizes(self._zip, limits or Limits())
        self._infos = self._zip.infolist()
        self._names = {info.filename.casefold(): info.filename for info in self._infos}
        self.parser = new_parser()
        self._trees: dict[str, Any] = dict(trees or {})
        self.splice_target = f"sheetsync-{secrets.token_hex(8)}"
        """The target of the processing instructions that stand, in a tree, for rows or cells
        kept as XML text until the part is serialised (`_splice`); random, so that no part
        can hold one already."""
        self.splices: dict[str, dict[str, str]] = {}
        """Part -> placeholder key -> the XML to put in its place."""
        self._changed: set[str] = set()
        self._bytes: dict[str, bytes] = {}
        self._added: dict[str, Any] = {}
        self._removed: set[str] = set()

    def find(self, name: str) -> str | None:
        """The part's name as stored (OPC part names are case-insensitive), if present."""
        if name in self._added:
            return name
        found = self._names.get(name.casefold())
        return None if found is None or found in self._removed else found

    def xml(self, name: str) -> Any:
        """A part as a tree, parsed once; a part given new bytes (`set_bytes`) is parsed from
        them, and the tree is its content from then on."""
        tree = self._trees.get(name)
        if tree is None or name in self._bytes:
            data = self._bytes.pop(name, None)
            if data is None:
                try:
                    data = self._zip.read(name)
                except KeyError as exc:
                    raise DamagedPackage(f"its part {name} is missing") from exc
            tree = self._trees[name] = parse_part(data, name, self.parser)
        return tree

    def raw(self, name: str) -> bytes:
        """A part's bytes as stored (KeyError if absent)."""
        return self._zip.read(name)

    def set_bytes(self, name: str, data: bytes) -> None:
        """Give a part new content as bytes (a part patched as text, not as a tree)."""
        self._bytes[name] = data
        self.touch(name)

    def bytes_of(self, name: str) -> bytes:
        """A part's bytes as they will be written (serialised again when written: its rows
        are spliced text, so that is cheap, and not keeping them keeps memory down)."""
        if name in self._bytes or name in self._changed or name in self._added:
            return self._serialize(name)
        return self._zip.read(name)

    def changed(self, name: str) -> bool:
        """Whether a part was changed or added since the package was loaded."""
        return name in self._changed or name in self._added or name in self._removed

    def touch(self, name: str) -> None:
        if name not in self._added:
            self._changed.add(name)

    def add(self, name: str, root: Any) -> None:
        self._added[name] = self._trees[name] = root

    def replace(self, name: str, root: Any) -> None:
        """Give a part new content (a new tree in place of the parsed one)."""
        self._trees[name] = root
        if name in self._added:
            self._added[name] = root
        else:
            self._changed.add(name)

    def remove(self, name: str) -> None:
        self._removed.add(name)
        self._added.pop(name, None)

    def to_bytes(self) -> bytes:
        out = BytesIO()
        with zipfile.ZipFile(out, "w") as archive:
            for info in self._infos:
                name = info.filename
                if name in self._removed:
                    continue
                changed = name in self._changed
                data = self._serialize(name) if changed else self._zip.read(info)
                archive.writestr(_same_entry(info), data)
            for name in self._added:
                entry = zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0))
                entry.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(entry, self._serialize(name))
            archive.comment = self._zip.comment
        return out.getvalue()

    def _serialize(self, name: str) -> bytes:
        if name in self._bytes:
            return self._bytes[name]
        data = _xml_bytes(self._trees[name])
        splices = self.splices.get(name)
        return _splice(data, self.splice_target, splices) if splices else data


def _splice(data: bytes, target: str, splices: dict[str, str]) -> bytes:
    """Put each placeholder's XML where the placeholder stands in the serialised part.

    The XML is sheetsync's own (`cell_xml`), well-formed by construction: text is cleaned of
    characters XML cannot hold and escaped as libxml2 escapes it.
    """
    pieces = re.split(rb"<\?" + re.escape(target.encode()) + rb" (\w+)\?>", data)
    if len(pieces) != 2 * len(splices) + 1:
        raise AssertionError("a placeholder for new rows went missing")
    pieces[1::2] = [splices[key.decode()].encode() for key in pieces[1::2]]
    return b"".join(pieces)


def _same_entry(info: zipfile.ZipInfo) -> zipfile.ZipInfo:
    entry = zipfile.ZipInfo(info.filename, info.date_time)
    entry.compress_type = info.compress_type
    entry.external_attr = info.external_attr
    entry.create_system = info.create_system
    entry.comment = info.comment
    return entry


def _xml_bytes(root: Any) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def rels_part(part: str) -> str:
    folder, name = posixpath.split(part)
    return posixpath.join(folder, "_rels", f"{name}.rels")


def resolve_target(source: str, target: str) -> str:
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(source), target))
