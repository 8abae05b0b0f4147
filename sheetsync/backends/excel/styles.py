"""The styles registry (`xl/styles.xml`): the fills, number formats and cell formats (cellXfs)
cells show, found or added so that a second run adds nothing."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from lxml import etree

from sheetsync.backends.excel.ooxml import MAIN_NS, NEW_STYLES, STYLES_ORDER, insert_ordered
from sheetsync.backends.excel.serials import BUILTIN_FORMATS, BUILTIN_FORMATS_REVERSE
from sheetsync.core.model import Colour


class Styles:
    """`xl/styles.xml`: finds or adds the fills, number formats and cell formats cells need."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.changed = False
        self._complete()
        fills, xfs = root.find(f"{{{MAIN_NS}}}fills"), root.find(f"{{{MAIN_NS}}}cellXfs")
        self._fills_el, self._xfs_el = fills, xfs
        self._fills = list(fills)
        self._fill_keys = [_fill_key(fill) for fill in self._fills]
        self._xfs = list(xfs)
        self._xf_ids: dict[tuple[Any, ...], int] | None = None
        self._formats_el = root.find(f"{{{MAIN_NS}}}numFmts")
        self._formats: dict[int, str] = {}
        if self._formats_el is not None:
            for fmt in self._formats_el:
                with contextlib.suppress(TypeError, ValueError):
                    self._formats[int(fmt.get("numFmtId"))] = fmt.get("formatCode", "")
        self._derived: dict[tuple[int, Colour | None, str | None], int] = {}

    def _complete(self) -> None:
        """Give a styles part the defaults the schema lets it leave out.

        A valid `styles.xml` may have no fonts, fills, borders or cell formats (LibreOffice and
        other readers open it); the cell formats sheetsync adds refer to a font, a border and
        fills, and Excel reserves the first two fills (none, gray125), so those are added as
        Excel writes them when missing.
        """
        defaults = etree.fromstring(NEW_STYLES)
        for section in ("fonts", "fills", "borders", "cellStyleXfs", "cellXfs"):
            template = defaults.find(f"{{{MAIN_NS}}}{section}")
            element = self.root.find(f"{{{MAIN_NS}}}{section}")
            if element is None:
                element = etree.Element(template.tag)
                insert_ordered(self.root, element, STYLES_ORDER)
            missing = list(template)[len(element) :]
            if missing:
                element.extend(missing)
                element.set("count", str(len(element)))
                self.changed = True

    def _xf(self, style: int) -> Any:
        return self._xfs[style] if 0 <= style < len(self._xfs) else self._xfs[0]

    def fill_of(self, style: int) -> str | None:
        """The cell format's fill: an RGB hex for a plain solid fill, None, or "other"."""
        fill_id = int(self._xf(style).get("fillId", "0"))
        return self._fill_keys[fill_id] if 0 <= fill_id < len(self._fills) else None

    def format_of(self, style: int) -> str:
        return self._format_code(int(self._xf(style).get("numFmtId", "0")))

    def _format_code(self, fmt_id: int) -> str:
        return self._formats.get(fmt_id) or BUILTIN_FORMATS.get(fmt_id) or f"#{fmt_id}"

    def derive(self, base: int, fill: Colour | None, number_format: str | None) -> int:
        """Cell format `base` with `fill` (None: no fill) and `number_format` (None: as it is).

        Returns `base` itself when it already looks like that, else an existing identical
        format if there is one, else a new one.
        """
        key = (base, fill, number_format)
        found = self._derived.get(key)
        if found is None:
            found = self._derive(base, fill, number_format, create=True)
            assert found is not None  # creating never fails
            self._derived[key] = found
        return found

    def existing(self, base: int, fill: Colour | None, number_format: str | None) -> int | None:
        """What `derive` would return, or None where it would have to add a format.

        For comparing an owned tab with what it should show without adding formats to a
        workbook that may end up not being written at all.
        """
        key = (base, fill, number_format)
        found = self._derived.get(key)
        if found is None:
            found = self._derive(base, fill, number_format, create=False)
            if found is not None:
                self._derived[key] = found
        return found

    def _derive(
        self, base: int, fill: Colour | None, number_format: str | None, *, create: bool
    ) -> int | None:
        xf = self._xf(base)
        fill_id, fmt_id = int(xf.get("fillId", "0")), int(xf.get("numFmtId", "0"))
        new_fill: int | None = fill_id
        if self.fill_of(base) != (fill.value if fill else None):
            new_fill = self._fill_id(fill, create=create)
        new_fmt: int | None = fmt_id
        if number_format is not None and self._format_code(fmt_id) != number_format:
            new_fmt = self._format_id(number_format, create=create)
        if new_fill is None or new_fmt is None:
            return None
        if (new_fill, new_fmt) == (fill_id, fmt_id) and 0 <= base < len(self._xfs):
            return base
        new = copy.deepcopy(xf)
        new.tail = None
        if new_fill != fill_id:
            new.set("fillId", str(new_fill))
            new.set("applyFill", "1")
        if new_fmt != fmt_id:
            new.set("numFmtId", str(new_fmt))
            new.set("applyNumberFormat", "1")
        return self._xf_id(new, create=create)

    def _xf_id(self, xf: Any, *, create: bool) -> int | None:
        if self._xf_ids is None:
            self._xf_ids = {}
            for i, existing in reversed(list(enumerate(self._xfs))):
                self._xf_ids[_xf_key(existing)] = i
        key = _xf_key(xf)
        if key not in self._xf_ids:
            if not create:
                return None
            self._xf_ids[key] = len(self._xfs)
            self._append(self._xfs_el, self._xfs, xf)
        return self._xf_ids[key]

    def _fill_id(self, colour: Colour | None, *, create: bool) -> int | None:
        wanted = colour.value if colour else None
        if wanted in self._fill_keys:
            return self._fill_keys.index(wanted)
        if not create:
            return None
        fill = etree.Element(f"{{{MAIN_NS}}}fill")
        pattern = etree.SubElement(fill, f"{{{MAIN_NS}}}patternFill")
        if colour is None:
            pattern.set("patternType", "none")
        else:
            pattern.set("patternType", "solid")
            etree.SubElement(pattern, f"{{{MAIN_NS}}}fgColor", rgb=f"FF{colour.value}")
            etree.SubElement(pattern, f"{{{MAIN_NS}}}bgColor", indexed="64")
        self._fill_keys.append(wanted)
        self._append(self._fills_el, self._fills, fill)
        return len(self._fills) - 1

    def _format_id(self, code: str, *, create: bool) -> int | None:
        for fmt_id, existing in self._formats.items():
            if existing == code:
                return fmt_id
        builtin = BUILTIN_FORMATS_REVERSE.get(code)
        if builtin is not None and builtin not in self._formats:
            return builtin
        if not create:
            return None
        if self._formats_el is None:
            self._formats_el = etree.Element(f"{{{MAIN_NS}}}numFmts")
            insert_ordered(self.root, self._formats_el, STYLES_ORDER)
        fmt_id = max([163, *self._formats]) + 1
        self._formats[fmt_id] = code
        etree.SubElement(
            self._formats_el, f"{{{MAIN_NS}}}numFmt", numFmtId=str(fmt_id), formatCode=code
        )
        self._formats_el.set("count", str(len(self._formats_el)))
        self.changed = True
        return fmt_id

    def _append(self, parent: Any, items: list[Any], element: Any) -> None:
        parent.append(element)
        items.append(element)
        parent.set("count", str(len(items)))
        self.changed = True


def _fill_key(fill: Any) -> str | None:
    pattern = fill.find(f"{{{MAIN_NS}}}patternFill")
    if pattern is None:
        return "other"
    kind = pattern.get("patternType", "none")
    if kind == "none":
        return None
    fg = pattern.find(f"{{{MAIN_NS}}}fgColor")
    if kind == "solid" and fg is not None and fg.get("rgb") and fg.get("tint") is None:
        return fg.get("rgb")[-6:].upper()
    return "other"


def _xf_key(xf: Any) -> tuple[Any, ...]:
    return (
        tuple(sorted(xf.attrib.items())),
        tuple(etree.tostring(child, with_tail=False) for child in xf),
    )
