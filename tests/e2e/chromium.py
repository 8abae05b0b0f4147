"""Real headless Chromium (Debian's `chromium`) for the report page: visible text, screenshots.

No WebDriver and no DevTools client: a page is served from a loopback HTTP server beside a
small harness page that loads it in an iframe of the wanted width and copies the frame's
`innerText` (what a person sees: hidden elements are left out) into its own DOM, which
`--dump-dom` prints. Under CI=true a missing Chromium fails the test instead of skipping it.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
]

HARNESS = """<!doctype html><html><body style="margin:0">
<iframe id="page" src="{src}" style="border:0;width:{width}px;height:3000px"></iframe>
<pre id="visible-text"></pre>
<script>
document.getElementById("page").addEventListener("load", function () {{
  document.getElementById("visible-text").textContent = this.contentDocument.body.innerText;
}});
</script></body></html>"""


def words(text: str) -> str:
    """Visible text with every run of spaces, tabs and line breaks as one space."""
    return " ".join(text.split())


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path:
        return path
    message = "Chromium is not installed: apt-get update && apt-get install -y chromium"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


class _QuietHandler(SimpleHTTPRequestHandler):
    requested: list[str]

    def log_message(self, format: str, *args: object) -> None:
        type(self).requested.append(self.path)


@contextmanager
def serve_folder(folder: Path) -> Iterator[tuple[str, list[str]]]:
    """Serve `folder` on 127.0.0.1; yields the base URL and the list of paths requested."""
    requested: list[str] = []
    handler = type("Handler", (_QuietHandler,), {"requested": requested})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requested
    finally:
        server.shutdown()
        server.server_close()


class Chromium:
    def __init__(self, profile_root: Path) -> None:
        self.binary = chromium_path()
        self.profile_root = profile_root
        self.runs = 0

    def _run(self, *args: str) -> str:
        self.runs += 1
        profile = self.profile_root / f"profile-{self.runs}"
        profile.mkdir(parents=True)
        done = subprocess.run(
            [self.binary, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        return done.stdout

    def visible_text(self, site: Path, base_url: str, page: str, width: int) -> str:
        """The text a person sees on `page` (a path under `site`) at `width` CSS pixels."""
        harness = site / f"harness-{width}.html"
        harness.write_text(HARNESS.format(src=page, width=width), encoding="utf-8")
        dom = self._run("--virtual-time-budget=10000", "--dump-dom", f"{base_url}/{harness.name}")
        found = re.search(r'<pre id="visible-text">(.*?)</pre>', dom, re.S)
        assert found and found.group(1).strip(), dom[-2000:]
        return html.unescape(found.group(1))

    def screenshot(self, url: str, path: Path, width: int, height: int) -> Path:
        self._run(f"--window-size={width},{height}", f"--screenshot={path}", url)
        return path


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height
