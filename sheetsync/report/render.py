"""Report pages as HTML: one self-contained file per workbook and an index linking them.

jinja2 with autoescape on, so a key result named `<script>` arrives as text. The CSS and the
score bars and sparklines (SVG) are inline: a page can be mailed, archived or opened offline
and never fetches anything.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import jinja2

from sheetsync.report.page import WorkbookPage

INDEX = "index.html"


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("sheetsync", "report/templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_page(page: WorkbookPage) -> str:
    return _environment().get_template("page.html.j2").render(page=page, as_of=page.as_of)


def render_index(pages: Sequence[WorkbookPage], as_of: date) -> str:
    return _environment().get_template("index.html.j2").render(pages=pages, as_of=as_of)


def _new_file_mode() -> int:
    """0666 less the process umask, which can only be read by setting it (and putting it back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_reports(pages: Sequence[WorkbookPage], as_of: date, out_dir: Path) -> list[Path]:
    """Write every page and the index into `out_dir`; each file replaced atomically.

    A reader (a browser, `serve`) never sees half a page: each file is written beside its
    final name and renamed over it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # mkstemp creates 0600 files; the pages are for a web server and people, so they get the
    # mode any new file gets under the umask (0644 under 022).
    mode = _new_file_mode()
    written = []
    for name, html in [
        *((p.file_name, render_page(p)) for p in pages),
        (INDEX, render_index(pages, as_of)),
    ]:
        target = out_dir / name
        fd, tmp = tempfile.mkstemp(prefix=f".{name}.", dir=out_dir)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(html)
                os.chmod(handle.fileno(), mode)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
