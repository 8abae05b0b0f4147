"""Report pages as HTML: one self-contained file per workbook and an index linking them.

jinja2 with autoescape on, so a key result named `<script>` arrives as text. The CSS and the
score bars and sparklines (SVG) are inline: a page can be mailed, archived or opened offline
and never fetches anything.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from datetime import date
from pathlib import Path

import jinja2
from filelock import FileLock

from sheetsync.report.page import IndexEntry, WorkbookPage

INDEX = "index.html"
INDEX_STATE = ".index.json"
"""Every workbook's index line, as the shards that wrote its page left it."""
INDEX_LOCK = ".index.lock"


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


def render_index(entries: Sequence[IndexEntry], as_of: date) -> str:
    return _environment().get_template("index.html.j2").render(entries=entries, as_of=as_of)


def _new_file_mode() -> int:
    """0666 less the process umask, which can only be read by setting it (and putting it back)."""
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def _replace(target: Path, text: str, mode: int) -> None:
    """Write `text` beside `target` and rename it over: a reader never sees half a file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            os.chmod(handle.fileno(), mode)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _known_entries(out_dir: Path) -> dict[str, IndexEntry]:
    """The index lines written so far (by any shard), by page file name; unreadable: none."""
    try:
        data = json.loads((out_dir / INDEX_STATE).read_text(encoding="utf-8"))
        return {e.file_name: e for e in map(IndexEntry.from_json, data["workbooks"])}
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def write_reports(
    pages: Sequence[WorkbookPage],
    as_of: date,
    out_dir: Path,
    listed: Sequence[tuple[str, str]] | None = None,
) -> list[Path]:
    """Write every page, then the index, into `out_dir`; each file replaced atomically.

    `listed` is every workbook the index lists, as (name, page file name), in order (default:
    the pages given). A shard writes only its own workbooks' pages, so the index is built from
    the lines every shard left in `.index.json` (a workbook no shard has written yet is listed
    as such); a lock file serialises shards updating it at the same moment.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    # mkstemp creates 0600 files; the pages are for a web server and people, so they get the
    # mode any new file gets under the umask (0644 under 022).
    mode = _new_file_mode()
    written = []
    for page in pages:
        _replace(out_dir / page.file_name, render_page(page), mode)
        written.append(out_dir / page.file_name)
    wanted = listed if listed is not None else [(p.name, p.file_name) for p in pages]
    with FileLock(out_dir / INDEX_LOCK):
        known = _known_entries(out_dir) | {p.file_name: IndexEntry.of(p) for p in pages}
        entries = [
            found if (found := known.get(file)) and found.name == name
            else IndexEntry(name, file, None)
            for name, file in wanted
        ]  # fmt: skip
        state = {"workbooks": [e.to_json() for e in entries if e.as_of is not None]}
        _replace(out_dir / INDEX_STATE, json.dumps(state, indent=1), mode)
        _replace(out_dir / INDEX, render_index(entries, as_of), mode)
    written.append(out_dir / INDEX)
    return written
