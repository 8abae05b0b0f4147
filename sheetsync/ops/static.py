"""A read-only HTTP server for one folder of static pages (the report pages under `serve`).

GET and HEAD only; no directory listings; paths cannot leave the folder (the standard
library's handler resolves them inside it). Bound to 127.0.0.1 unless told otherwise: put a
real web server or a proxy in front of it to publish the pages.
"""

from __future__ import annotations

import logging
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


class _ReadOnlyHandler(SimpleHTTPRequestHandler):
    server_version = "sheetsync"
    sys_version = ""

    def list_directory(self, path: Any) -> None:
        self.send_error(404, "No listing")
        return None

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-cache")
        self.send_header("X-Content-Type-Options", "nosniff")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("report server: " + format, *args)


class StaticServer:
    """`folder` served on `host:port` from a daemon thread until `close()`."""

    def __init__(self, folder: Path, host: str = "127.0.0.1", port: int = 0) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        handler = partial(_ReadOnlyHandler, directory=str(folder))
        self._server = ThreadingHTTPServer((host, port), handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="report-server", daemon=True
        )
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/" if isinstance(host, str) else f"http://[::]:{port}/"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
