"""The workbook's shared string table, which cells of type "s" point into."""

from __future__ import annotations

from sheetsync.backends.excel.cells import _rich_text
from sheetsync.backends.excel.ooxml import _MAIN
from sheetsync.backends.excel.package import _Package


class _SharedStrings:
    """The shared string table, read on first use (sheetsync itself writes inline strings)."""

    def __init__(self, package: _Package, part: str | None) -> None:
        self._package, self._part = package, part
        self._strings: list[str] | None = None

    def __call__(self, index: int) -> str:
        if self._strings is None:
            root = self._package.xml(self._part) if self._part else None
            items = [] if root is None else root.iterfind(f"{{{_MAIN}}}si")
            self._strings = [_rich_text(item) for item in items]
        return self._strings[index] if 0 <= index < len(self._strings) else ""
