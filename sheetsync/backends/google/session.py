"""The HTTP session: an authorised `requests` session that sends Sheets API calls to the
configured API root, with a timeout, the rate-limiter hook and a request count on each one,
asking for gzip-compressed answers the way Google's performance guide says (an
`Accept-Encoding: gzip` header AND a User-Agent containing "gzip"; either alone gets the
answer uncompressed). A 10,000-row read shrinks about tenfold on the wire.

Request bodies (the batchUpdate) go compact and gzip-compressed (`Content-Encoding: gzip`), as
Google's own Java and .NET API clients send every request body by default: cell data repeats
the same keys in every cell, so a first sync's upload shrinks about twentyfold. A front end
that refuses such a body (a proxy or gateway set as `api_url` that does not decompress bodies:
400 or 415) gets the same body again uncompressed; when that one is not refused too, this
process sends that API root's bodies uncompressed from then on (`REFUSING_GZIP`). A 400 that
the uncompressed body gets as well is the request's own fault and is reported as it is."""

from __future__ import annotations

import gzip
import json
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

import requests
from google.auth.credentials import Credentials
from google.auth.transport.requests import AuthorizedSession

from sheetsync import __version__
from sheetsync.backends.google.addresses import GOOGLE_API_ROOT

log = logging.getLogger(__name__)

USER_AGENT = f"sheetsync/{__version__} (gzip)"
"""Google compresses answers only for clients whose User-Agent says "gzip"."""


class RequestLimiter(Protocol):
    """Keeps requests under a quota (sheetsync.ops.ratelimit.RateLimiter is the real one)."""

    def acquire(self) -> object:
        """Wait until one more request may go."""

    def finished(self, seconds: float) -> None:
        """How long the request took from sending to its response."""


class SheetsSession(AuthorizedSession):
    """An authorised session that sends Google Sheets URLs to `api_url`, counts every HTTP
    request, calls the rate limiter before each one and never sends one without a timeout."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        api_url: str,
        timeout: float,
        limiter: RequestLimiter | None,
        on_request: Callable[[], None],
    ) -> None:
        super().__init__(credentials, refresh_timeout=timeout)
        self._api_url = api_url
        self._timeout = timeout
        self._limiter = limiter
        self._on_request = on_request
        self.headers["User-Agent"] = USER_AGENT
        self.headers["Accept-Encoding"] = "gzip"

    def request(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        if isinstance(url, str) and url.startswith(GOOGLE_API_ROOT):
            url = self._api_url + url[len(GOOGLE_API_ROOT) :]
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        gzipped = (kwargs.get("headers") or {}).get("Content-Encoding") == "gzip"
        if gzipped and self._api_url in REFUSING_GZIP:
            return self._send(method, url, *args, **_uncompressed(kwargs))
        response = self._send(method, url, *args, **kwargs)
        if not (gzipped and response.status_code in GZIP_REFUSED):
            return response
        again = self._send(method, url, *args, **_uncompressed(kwargs))
        # Only an uncompressed body *taken* shows the front end refuses gzip: a 429 or 5xx on
        # the second try says nothing about it (the first 400 may be the request's own).
        if 200 <= again.status_code < 300:
            REFUSING_GZIP.add(self._api_url)
            log.warning(
                "the Sheets API at %s refused a gzip-compressed request body (HTTP %d) and "
                "took it uncompressed: this process sends its bodies uncompressed from now on",
                self._api_url,
                response.status_code,
            )
        return again

    def _send(self, method: Any, url: Any, *args: Any, **kwargs: Any) -> requests.Response:
        if self._limiter is None:
            self._on_request()
            return super().request(method, url, *args, **kwargs)
        self._limiter.acquire()
        self._on_request()
        sent = time.monotonic()
        try:
            return super().request(method, url, *args, **kwargs)
        finally:
            self._limiter.finished(time.monotonic() - sent)


JSON_HEADERS = {"Content-Type": "application/json; charset=UTF-8", "Content-Encoding": "gzip"}

GZIP_REFUSED = (400, 415)
"""What a front end that cannot read a gzip-compressed body answers (Bad Request: it read the
compressed bytes as JSON; Unsupported Media Type)."""

REFUSING_GZIP: set[str] = set()
"""API roots that refused a gzip-compressed body and took it uncompressed, in this process."""


def _uncompressed(kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """The same request with its body uncompressed and no Content-Encoding header."""
    headers = {k: v for k, v in kwargs["headers"].items() if k != "Content-Encoding"}
    return {**kwargs, "data": gzip.decompress(kwargs["data"]), "headers": headers}


def packed_json(body: Mapping[str, Any]) -> bytes:
    """`body` as compact JSON (no spaces, text as UTF-8), gzip-compressed: the bytes to send
    with `JSON_HEADERS`."""
    text = json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return gzip.compress(text.encode("utf-8"), compresslevel=6)
