"""The report page: a manager's view of every workbook, as static HTML (`sheetsync report`).

`page` turns a workbook's scores into what a page shows (pure); `render` lays it out with
jinja2 and writes the files. Nothing here reads or writes a workbook.
"""

from sheetsync.report.page import IndexEntry, WorkbookPage, build_page, file_name_for
from sheetsync.report.render import INDEX, render_index, render_page, write_reports

__all__ = [
    "INDEX",
    "IndexEntry",
    "WorkbookPage",
    "build_page",
    "file_name_for",
    "render_index",
    "render_page",
    "write_reports",
]
