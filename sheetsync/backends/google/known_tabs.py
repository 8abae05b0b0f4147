"""The tab titles each spreadsheet had when sheetsync last read or wrote it, kept between runs.

A read by `ranges` fetches only the tabs the sync uses, but a range naming a tab the
spreadsheet does not have fails the whole request, so the names must be right before asking.
Rather than spend a request on learning them, the backend remembers the titles the previous
run received (one small JSON file per spreadsheet in `<state_dir>/google-tabs/`). The first
run of a spreadsheet, or one whose wanted tabs are not all remembered, reads every tab as
before; a remembered tab that was deleted or renamed since costs one more read that night.
A ranged answer adds its titles to those remembered, so a parent reading only a child's
Summary does not make the child forget its other tabs. The file is only a hint: one that
cannot be read or written changes nothing but the bytes.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
from collections.abc import Iterable
from pathlib import Path

log = logging.getLogger(__name__)


class KnownTabs:
    """Remembered tab titles per spreadsheet ID, in a directory (None: remember in memory)."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory
        self._memory: dict[str, list[str]] = {}

    def _path(self, spreadsheet_id: str) -> Path | None:
        if self.directory is None or not spreadsheet_id.replace("-", "").replace("_", "").isalnum():
            return None
        return self.directory / f"{spreadsheet_id}.json"

    def get(self, spreadsheet_id: str) -> list[str] | None:
        """The titles remembered for a spreadsheet, None when nothing (readable) is."""
        if spreadsheet_id in self._memory:
            return list(self._memory[spreadsheet_id])
        path = self._path(spreadsheet_id)
        if path is None:
            return None
        try:
            titles = json.loads(path.read_text(encoding="utf-8")).get("tabs")
        except (OSError, ValueError, AttributeError):
            return None
        if not isinstance(titles, list) or not all(isinstance(t, str) for t in titles):
            return None
        self._memory[spreadsheet_id] = titles
        return list(titles)

    def put(self, spreadsheet_id: str, titles: Iterable[str], *, every_tab: bool = True) -> None:
        """Remember `titles` (written atomically; a failure is logged and forgotten).

        `every_tab`: the titles are all the spreadsheet's tabs (an answer without `ranges`);
        otherwise they are added to those remembered (a ranged answer shows only its tabs, and
        says nothing of the others).
        """
        merged = set(titles)
        if not every_tab:
            merged.update(self.get(spreadsheet_id) or ())
        titles = sorted(merged)
        if self._memory.get(spreadsheet_id) == titles:
            return
        self._memory[spreadsheet_id] = titles
        path = self._path(spreadsheet_id)
        if path is None:
            return
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump({"tabs": titles}, out)
            os.replace(tmp, path)
        except OSError as exc:
            log.debug("cannot remember the tabs of %s in %s: %s", spreadsheet_id, path, exc)

    def forget(self, spreadsheet_id: str) -> None:
        self._memory.pop(spreadsheet_id, None)
        path = self._path(spreadsheet_id)
        if path is not None:
            try:
                path.unlink(missing_ok=True)
            except OSError as exc:
                log.debug("cannot forget the tabs of %s: %s", spreadsheet_id, exc)
