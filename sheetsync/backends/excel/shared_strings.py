"""The workbook's shared string table, which cells of type "s" point into."""

from __future__ import annotations

from sheetsync.backends.excel.cells import rich_text
from sheetsync.backends.excel.ooxml import MAIN_NS
from sheetsync.backends.excel.package import XlsxPackage


class SharedStrings:
    """The shared string table, read on first use (sheetsync itself writes inline strings)."""

    def __init__(self, package: XlsxPackage, part: str | None) -> None:
        self._package, self._part = package, part
        self._strings: list[str] | None = None

    def __call__(self, index: int) -> str:
        if self._strings is None:
            root = self._package.xml(self._part) if self._part else None
            items = [] if root is None else root.iterfind(f"{{{MAIN_NS}}}si")
            self._strings = [rich_text(item) for item in items]
        return self._strings[index] if 0 <= index < len(self._strings) else ""
