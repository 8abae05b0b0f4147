"""The Office Open XML vocabulary the writer shares: namespaces, tag names, content types,
the order the schemas give a part's children, the templates of parts it creates, and the error
for a package that is not what a valid .xlsx holds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lxml import etree

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
STRICT_MAIN_NS = "http://purl.oclc.org/ooxml/spreadsheetml/main"
"""The namespace of a workbook saved as Strict Open XML, which sheetsync refuses."""
DOC_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG_REL_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CONTENT_TYPES_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
APP_NS = "http://schemas.openxmlformats.org/officeDocument/2006/extended-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
WORKSHEET_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"
STYLES_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"

CELL, VALUE, FORMULA, INLINE_STRING, TEXT, RUN = (
    f"{{{MAIN_NS}}}{tag}" for tag in ("c", "v", "f", "is", "t", "r")
)
ROW, COL, EXT_LST = (f"{{{MAIN_NS}}}{tag}" for tag in ("row", "col", "extLst"))
RELATIONSHIP = f"{{{PKG_REL_NS}}}Relationship"

# Where a new child element may go: the schemas fix the order of a part's top-level children.
WORKBOOK_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "fileVersion fileSharing workbookPr workbookProtection bookViews sheets functionGroups "
    "externalReferences definedNames calcPr oleSize customWorkbookViews pivotCaches "
    "smartTagPr smartTagTypes webPublishing fileRecoveryPr webPublishObjects extLst"
).split()
STYLES_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "numFmts fonts fills borders cellStyleXfs cellXfs cellStyles dxfs tableStyles colors extLst"
).split()
WORKSHEET_ORDER = (  # noqa: SIM905 - the schema's order, as it reads there
    "sheetPr dimension sheetViews sheetFormatPr cols sheetData sheetCalcPr sheetProtection "
    "protectedRanges scenarios autoFilter sortState dataConsolidate customSheetViews "
    "mergeCells phoneticPr conditionalFormatting dataValidations hyperlinks printOptions "
    "pageMargins pageSetup headerFooter rowBreaks colBreaks customProperties cellWatches "
    "ignoredErrors smartTags drawing legacyDrawing legacyDrawingHF drawingHF picture "
    "oleObjects controls webPublishItems tableParts extLst"
).split()

NEW_WORKSHEET = (
    f'<worksheet xmlns="{MAIN_NS}" xmlns:r="{DOC_REL_NS}"><dimension ref="A1"/>'
    '<sheetViews><sheetView workbookViewId="0"/></sheetViews>'
    '<sheetFormatPr defaultRowHeight="15"/><sheetData/>'
    '<pageMargins left="0.7" right="0.7" top="0.75" bottom="0.75" header="0.3" footer="0.3"/>'
    "</worksheet>"
).encode()
NEW_STYLES = (
    f'<styleSheet xmlns="{MAIN_NS}">'
    '<fonts count="1"><font><sz val="11"/><name val="Calibri"/><family val="2"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
).encode()


class DamagedPackage(Exception):
    """The package is not what a valid .xlsx holds; the message says where."""


class RefusedPackage(Exception):
    """A workbook sheetsync will not handle; the message is whole and says what to do."""


STRICT_REFUSED = "Strict Open XML is not supported: in Excel use Save As → Excel Workbook (.xlsx)"


def refuse_strict(namespace: str | None) -> None:
    """Refuse a workbook part in the Strict Open XML namespace, read or written alike."""
    if namespace == STRICT_MAIN_NS:
        raise RefusedPackage(STRICT_REFUSED)


def insert_ordered(parent: Any, child: Any, order: Sequence[str]) -> None:
    """Insert `child` before the first sibling the schema puts after it."""
    rank = order.index(etree.QName(child).localname)
    for sibling in parent:
        if not isinstance(sibling.tag, str):
            continue
        name = etree.QName(sibling).localname
        if name in order and order.index(name) > rank:
            sibling.addprevious(child)
            return
    parent.append(child)
