"""Native Excel charts on the tabs sheetsync owns: chart parts, their drawing and relationships.

An owned tab's charts live in one drawing part (`xl/drawings/drawingN.xml`, one anchor per
chart) related from the worksheet (`<drawing r:id>`), each chart in its own part
(`xl/charts/chartN.xml`) related from the drawing. The charts point at ranges of the same tab
and carry a cache of the values, as Excel saves them, so a viewer that does not recalculate
still draws them. sheetsync owns every chart on its own tabs: the desired parts are built in
full, compared with what is there, and written only when they differ, reusing the part names,
so a re-run updates the charts in place and an unchanged run writes nothing.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from typing import Any

from lxml import etree

from sheetsync.backends.excel.cells import column_letters
from sheetsync.backends.excel.ooxml import (
    CONTENT_TYPES_NS,
    DOC_REL_NS,
    MAIN_NS,
    PKG_REL_NS,
    RELATIONSHIP,
    WORKSHEET_ORDER,
    insert_ordered,
)
from sheetsync.backends.excel.package import XlsxPackage, rels_part, resolve_target
from sheetsync.backends.excel.read import new_parser
from sheetsync.core.plan import CellRange, CellValue, Chart, ChartSeries, Grid

CHART_NS = "http://schemas.openxmlformats.org/drawingml/2006/chart"
DRAWING_NS = "http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing"
A_NS = "http://schemas.openxmlformats.org/drawingml/2006/main"
DRAWING_REL = f"{DOC_REL_NS}/drawing"
CHART_REL = f"{DOC_REL_NS}/chart"
DRAWING_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawing+xml"
CHART_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.drawingml.chart+xml"
_DRAWING = f"{{{MAIN_NS}}}drawing"
_R_ID = f"{{{DOC_REL_NS}}}id"
_PARSER = new_parser()


# xml.sax.saxutils's escape and quoteattr, character for character: importing that module
# imports urllib.request (http.client, ssl, e-mail parsing), about 10 ms of every run that
# writes or compares a chart, to replace five characters.
def escape(text: str) -> str:
    """`&`, `<` and `>` as entities (xml.sax.saxutils.escape)."""
    return text.replace("&", "&amp;").replace(">", "&gt;").replace("<", "&lt;")


def quoteattr(text: str) -> str:
    """An attribute value in quotes, escaped (xml.sax.saxutils.quoteattr)."""
    text = escape(text).replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#9;")
    if '"' not in text:
        return f'"{text}"'
    if "'" not in text:
        return f"'{text}'"
    return '"{}"'.format(text.replace('"', "&quot;"))


def _reference(tab: str, cells: CellRange) -> str:
    quoted = "'" + tab.replace("'", "''") + "'"
    first = f"${column_letters(cells.first_col)}${cells.first_row}"
    last = f"${column_letters(cells.last_col)}${cells.last_row}"
    return f"{quoted}!{first}:{last}"


def _values(rows: Grid, cells: CellRange) -> list[CellValue]:
    out: list[CellValue] = []
    for r in range(cells.first_row, cells.last_row + 1):
        line = rows[r - 1] if r <= len(rows) else []
        for c in range(cells.first_col, cells.last_col + 1):
            out.append(line[c - 1] if c <= len(line) else None)
    return out


def _str_ref(tab: str, rows: Grid, cells: CellRange) -> str:
    values = _values(rows, cells)
    points = "".join(
        f'<c:pt idx="{i}"><c:v>{escape(str(v))}</c:v></c:pt>'
        for i, v in enumerate(values)
        if v not in (None, "")
    )
    return (
        f"<c:strRef><c:f>{escape(_reference(tab, cells))}</c:f><c:strCache>"
        f'<c:ptCount val="{len(values)}"/>{points}</c:strCache></c:strRef>'
    )


def _num_ref(tab: str, rows: Grid, cells: CellRange) -> str:
    values = _values(rows, cells)
    points = "".join(
        f'<c:pt idx="{i}"><c:v>{float(v)!r}</c:v></c:pt>'
        for i, v in enumerate(values)
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    return (
        f"<c:numRef><c:f>{escape(_reference(tab, cells))}</c:f><c:numCache>"
        f'<c:formatCode>General</c:formatCode><c:ptCount val="{len(values)}"/>{points}'
        "</c:numCache></c:numRef>"
    )


def _fill(colour: str) -> str:
    return f'<a:solidFill><a:srgbClr val="{colour}"/></a:solidFill>'


def _bar_series(tab: str, rows: Grid, chart: Chart, series: ChartSeries, index: int) -> str:
    points = "".join(
        f'<c:dPt><c:idx val="{i}"/><c:invertIfNegative val="0"/><c:bubble3D val="0"/>'
        f"<c:spPr>{_fill(colour)}</c:spPr></c:dPt>"
        for i, colour in enumerate(series.point_colours)
    )
    return (
        f'<c:ser><c:idx val="{index}"/><c:order val="{index}"/>'
        f"<c:tx><c:v>{escape(series.name)}</c:v></c:tx><c:spPr>{_fill(series.colour)}</c:spPr>"
        f'<c:invertIfNegative val="0"/>{points}'
        f"<c:cat>{_str_ref(tab, rows, chart.categories)}</c:cat>"
        f"<c:val>{_num_ref(tab, rows, series.values)}</c:val></c:ser>"
    )


def _line_series(tab: str, rows: Grid, chart: Chart, series: ChartSeries, index: int) -> str:
    dash = '<a:prstDash val="dash"/>' if series.dashed else ""
    marker = "none" if series.dashed else "circle"
    return (
        f'<c:ser><c:idx val="{index}"/><c:order val="{index}"/>'
        f"<c:tx><c:v>{escape(series.name)}</c:v></c:tx>"
        f'<c:spPr><a:ln w="28575" cap="rnd">{_fill(series.colour)}{dash}</a:ln></c:spPr>'
        f'<c:marker><c:symbol val="{marker}"/>'
        + ('<c:size val="6"/>' if marker != "none" else "")
        + f"<c:spPr>{_fill(series.colour)}</c:spPr></c:marker>"
        f"<c:cat>{_str_ref(tab, rows, chart.categories)}</c:cat>"
        f'<c:val>{_num_ref(tab, rows, series.values)}</c:val><c:smooth val="0"/></c:ser>'
    )


def _axes(chart: Chart) -> str:
    bar = chart.kind == "bar"
    cat_pos, val_pos = ("l", "b") if bar else ("b", "l")
    orientation = "maxMin" if bar else "minMax"  # bars top-down in the table's order
    limits = '<c:max val="1"/><c:min val="0"/>' if bar else ""
    return (
        f'<c:catAx><c:axId val="500"/><c:scaling><c:orientation val="{orientation}"/>'
        f'</c:scaling><c:delete val="0"/><c:axPos val="{cat_pos}"/>'
        '<c:numFmt formatCode="General" sourceLinked="0"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="600"/>'
        '<c:crosses val="autoZero"/><c:auto val="1"/><c:lblAlgn val="ctr"/>'
        '<c:lblOffset val="100"/><c:noMultiLvlLbl val="0"/></c:catAx>'
        f'<c:valAx><c:axId val="600"/><c:scaling><c:orientation val="minMax"/>{limits}'
        f'</c:scaling><c:delete val="0"/><c:axPos val="{val_pos}"/><c:majorGridlines/>'
        '<c:numFmt formatCode="General" sourceLinked="1"/><c:majorTickMark val="none"/>'
        '<c:minorTickMark val="none"/><c:tickLblPos val="nextTo"/><c:crossAx val="500"/>'
        '<c:crosses val="autoZero"/><c:crossBetween val="between"/></c:valAx>'
    )


def chart_xml(chart: Chart, tab: str, rows: Grid) -> bytes:
    """The chart part of `chart`, drawing from `tab` whose content is `rows`."""
    if chart.kind == "bar":
        series = "".join(_bar_series(tab, rows, chart, s, i) for i, s in enumerate(chart.series))
        plot = (
            '<c:barChart><c:barDir val="bar"/><c:grouping val="clustered"/>'
            f'<c:varyColors val="0"/>{series}<c:gapWidth val="60"/>'
            '<c:axId val="500"/><c:axId val="600"/></c:barChart>'
        )
        legend = ""
    else:
        series = "".join(_line_series(tab, rows, chart, s, i) for i, s in enumerate(chart.series))
        plot = (
            f'<c:lineChart><c:grouping val="standard"/><c:varyColors val="0"/>{series}'
            '<c:marker val="1"/><c:axId val="500"/><c:axId val="600"/></c:lineChart>'
        )
        legend = '<c:legend><c:legendPos val="b"/><c:overlay val="0"/></c:legend>'
    return (
        f'<c:chartSpace xmlns:c="{CHART_NS}" xmlns:a="{A_NS}" xmlns:r="{DOC_REL_NS}">'
        '<c:roundedCorners val="0"/><c:chart><c:title><c:tx><c:rich><a:bodyPr/><a:p><a:pPr>'
        '<a:defRPr sz="1200" b="1"/></a:pPr><a:r><a:rPr lang="en-US" sz="1200" b="1"/>'
        f"<a:t>{escape(chart.title)}</a:t></a:r></a:p></c:rich></c:tx>"
        '<c:overlay val="0"/></c:title><c:autoTitleDeleted val="0"/>'
        f"<c:plotArea><c:layout/>{plot}{_axes(chart)}</c:plotArea>{legend}"
        '<c:plotVisOnly val="1"/><c:dispBlanksAs val="gap"/></c:chart></c:chartSpace>'
    ).encode()


def _anchor(chart: Chart, number: int) -> str:
    return (
        '<xdr:twoCellAnchor editAs="oneCell">'
        f"<xdr:from><xdr:col>{chart.col - 1}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{chart.row - 1}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:from>"
        f"<xdr:to><xdr:col>{chart.col - 1 + chart.width}</xdr:col><xdr:colOff>0</xdr:colOff>"
        f"<xdr:row>{chart.row - 1 + chart.height}</xdr:row><xdr:rowOff>0</xdr:rowOff></xdr:to>"
        '<xdr:graphicFrame macro=""><xdr:nvGraphicFramePr>'
        f"<xdr:cNvPr id={quoteattr(str(number + 2))} name={quoteattr('sheetsync ' + chart.key)}/>"
        '<xdr:cNvGraphicFramePr/></xdr:nvGraphicFramePr><xdr:xfrm><a:off x="0" y="0"/>'
        '<a:ext cx="0" cy="0"/></xdr:xfrm><a:graphic>'
        f'<a:graphicData uri="{CHART_NS}"><c:chart xmlns:c="{CHART_NS}" '
        f'r:id="rId{number + 1}"/></a:graphicData></a:graphic></xdr:graphicFrame>'
        "<xdr:clientData/></xdr:twoCellAnchor>"
    )


def drawing_xml(charts: Sequence[Chart]) -> bytes:
    """The drawing part placing `charts`; chart i is related as `rId{i + 1}`."""
    anchors = "".join(_anchor(chart, i) for i, chart in enumerate(charts))
    return (
        f'<xdr:wsDr xmlns:xdr="{DRAWING_NS}" xmlns:a="{A_NS}" xmlns:r="{DOC_REL_NS}">'
        f"{anchors}</xdr:wsDr>"
    ).encode()


def _rels_xml(targets: Sequence[str], kind: str) -> bytes:
    rels = "".join(
        f'<Relationship Id="rId{i + 1}" Type="{kind}" Target={quoteattr(target)}/>'
        for i, target in enumerate(targets)
    )
    return f'<Relationships xmlns="{PKG_REL_NS}">{rels}</Relationships>'.encode()


def _same(package: XlsxPackage, part: str | None, wanted: Any) -> bool:
    return part is not None and etree.tostring(package.xml(part)) == etree.tostring(wanted)


class SheetCharts:
    """The charts of one owned worksheet part, brought to a desired list in `apply`."""

    def __init__(self, package: XlsxPackage, sheet_part: str, sheet_root: Any) -> None:
        self.package, self.part, self.root = package, sheet_part, sheet_root
        self.rels_part = rels_part(sheet_part)
        found = package.find(self.rels_part)
        self.rels = package.xml(found) if found else None
        self.drawing_el = sheet_root.find(_DRAWING)
        self.drawing_part: str | None = None
        self.chart_parts: list[str] = []
        if self.drawing_el is not None and self.rels is not None:
            target = self._target(self.rels, self.drawing_el.get(_R_ID))
            self.drawing_part = package.find(resolve_target(sheet_part, target)) if target else None
        if self.drawing_part is not None:
            drawing_rels = package.find(rels_part(self.drawing_part))
            if drawing_rels is not None:
                by_id = {
                    rel.get("Id"): rel.get("Target", "")
                    for rel in package.xml(drawing_rels).iterchildren(RELATIONSHIP)
                    if rel.get("Type") == CHART_REL
                }
                for rel_id in sorted(by_id, key=lambda r: int(r[3:]) if r[3:].isdigit() else 0):
                    part = package.find(resolve_target(self.drawing_part, by_id[rel_id]))
                    if part:
                        self.chart_parts.append(part)

    @staticmethod
    def _target(rels: Any, rel_id: str | None) -> str | None:
        for rel in rels.iterchildren(RELATIONSHIP):
            if rel.get("Id") == rel_id:
                return str(rel.get("Target", ""))
        return None

    def apply(self, charts: Sequence[Chart], tab: str, rows: Grid) -> int:
        """Bring the tab's charts to `charts`; the number of chart parts changed."""
        if not charts and self.drawing_part is None:
            return 0
        wanted = [etree.fromstring(chart_xml(c, tab, rows), _PARSER) for c in charts]
        drawing = etree.fromstring(drawing_xml(charts), _PARSER)
        if (
            len(wanted) == len(self.chart_parts)
            and _same(self.package, self.drawing_part, drawing)
            and all(
                _same(self.package, p, w) for p, w in zip(self.chart_parts, wanted, strict=True)
            )
        ):
            return 0
        if not charts:
            self._remove_all()
            return len(self.chart_parts) or 1
        drawing_part = self.drawing_part or self._new_drawing()
        changed = 0
        parts = list(self.chart_parts)
        while len(parts) < len(wanted):
            parts.append(self._new_part("xl/charts/chart{}.xml", CHART_CONTENT_TYPE, parts))
        for part, root in zip(parts, wanted, strict=False):
            if not _same(self.package, self.package.find(part), root):
                self._put(part, root)
                changed += 1
        for part in parts[len(wanted) :]:
            self._drop(part)
            changed += 1
        targets = [
            posixpath.relpath(p, posixpath.dirname(drawing_part)) for p in parts[: len(wanted)]
        ]
        self._put(drawing_part, drawing)
        self._put(rels_part(drawing_part), etree.fromstring(_rels_xml(targets, CHART_REL), _PARSER))
        return changed or 1

    # --- parts ---

    def _put(self, part: str, root: Any) -> None:
        if self.package.find(part) is None:
            self.package.add(part, root)
        else:
            self.package.replace(part, root)

    def _new_part(self, pattern: str, content_type: str, taken: Sequence[str] = ()) -> str:
        number = 1
        while self.package.find(pattern.format(number)) or pattern.format(number) in taken:
            number += 1
        part = pattern.format(number)
        types = self.package.xml("[Content_Types].xml")
        etree.SubElement(
            types, f"{{{CONTENT_TYPES_NS}}}Override", PartName=f"/{part}", ContentType=content_type
        )
        self.package.touch("[Content_Types].xml")
        return part

    def _new_drawing(self) -> str:
        part = self._new_part("xl/drawings/drawing{}.xml", DRAWING_CONTENT_TYPE)
        if self.rels is None:
            self.rels = etree.fromstring(_rels_xml([], DRAWING_REL), _PARSER)
            self.package.add(self.rels_part, self.rels)
        used = {rel.get("Id") for rel in self.rels.iterchildren(RELATIONSHIP)}
        number = len(used) + 1
        while f"rId{number}" in used:
            number += 1
        target = posixpath.relpath(part, posixpath.dirname(self.part))
        etree.SubElement(
            self.rels, RELATIONSHIP, Id=f"rId{number}", Type=DRAWING_REL, Target=target
        )
        self.package.touch(self.rels_part)
        element = etree.Element(_DRAWING)
        element.set(_R_ID, f"rId{number}")
        insert_ordered(self.root, element, WORKSHEET_ORDER)
        self.package.touch(self.part)
        self.drawing_part = part
        return part

    def _drop(self, part: str) -> None:
        self.package.remove(part)
        types = self.package.xml("[Content_Types].xml")
        for override in list(types.iterchildren(f"{{{CONTENT_TYPES_NS}}}Override")):
            if override.get("PartName", "").casefold() == f"/{part}".casefold():
                types.remove(override)
        self.package.touch("[Content_Types].xml")

    def _remove_all(self) -> None:
        assert self.drawing_part is not None
        for part in self.chart_parts:
            self._drop(part)
        drawing_rels = self.package.find(rels_part(self.drawing_part))
        if drawing_rels:
            self.package.remove(drawing_rels)
        self._drop(self.drawing_part)
        if self.rels is not None and self.drawing_el is not None:
            for rel in list(self.rels.iterchildren(RELATIONSHIP)):
                if rel.get("Id") == self.drawing_el.get(_R_ID):
                    self.rels.remove(rel)
            self.package.touch(self.rels_part)
        if self.drawing_el is not None:
            self.root.remove(self.drawing_el)
            self.package.touch(self.part)
