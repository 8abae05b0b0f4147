"""Tell a dead-man's-switch service that a run happened, so a job that silently stopped is noticed.

The convention is healthchecks.io's, which Cronitor and others accept too: after a successful run
POST to `heartbeat_url`; after a failed one POST to the same URL with `/fail` appended to its path.
The body is a short summary of the run, which the service shows beside the ping. If pings stop
arriving, the service alerts someone: that is the point, since a run that never starts cannot
report its own failure.

A heartbeat must never break the run it reports on: `ping` does not raise, it logs a warning and
returns False. Ping URLs are credentials (anyone with the URL can ping), so log lines show them
masked: query values and long path segments are elided.

With shards, each shard should ping its own check, or the last shard to finish hides the others'
failures: put `{shard}` in the URL (`https://hc-ping.com/<ping-key>/sheetsync-{shard}`) and pass
it through `url_for_shard`.
"""

from __future__ import annotations

import logging
import urllib.error
import urllib.request
from urllib.parse import SplitResult, parse_qsl, urlsplit, urlunsplit

from sheetsync import __version__

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 10_000
"""healthchecks.io keeps the first 100 kB of a body; a summary longer than this is cut."""


def ping(url: str, ok: bool, summary: str = "", timeout: float = 10.0) -> bool:
    """POST `summary` to `url` (success) or `url` + `/fail` (failure). True when it was delivered.

    Never raises: a failed ping is logged as a warning with the URL masked.
    """
    target = fail_url(url) if not ok else url
    body = summary.encode("utf-8", errors="replace")
    if len(body) > MAX_BODY_BYTES:
        body = body[: MAX_BODY_BYTES - 20] + b"\n... (cut)"
    try:
        request = urllib.request.Request(
            target,
            data=body,
            method="POST",
            headers={
                "Content-Type": "text/plain; charset=utf-8",
                "User-Agent": f"sheetsync/{__version__}",
            },
        )
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        log.warning("heartbeat %s answered HTTP %s", mask_url(target), exc.code)
        return False
    except Exception as exc:  # a heartbeat must never take the run down with it
        reason = str(getattr(exc, "reason", None) or exc).replace(target, mask_url(target))
        log.warning("heartbeat %s could not be sent: %s", mask_url(target), reason)
        return False
    log.debug("heartbeat %s sent (%s)", mask_url(target), "success" if ok else "failure")
    return True


def fail_url(url: str) -> str:
    """The failure URL: `/fail` appended to the path, before any query string."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=parts.path.rstrip("/") + "/fail"))


def url_for_shard(url: str, index: int, count: int) -> str:
    """Fill `{shard}` (the 0-based index) and `{shards}` (the count) in a heartbeat URL."""
    return url.replace("{shard}", str(index)).replace("{shards}", str(count))


def mask_url(url: str) -> str:
    """The URL with its secrets elided, fit for a log line.

    Drops any password, replaces query values with `***` and shortens path segments of 16
    characters or more (ping keys, check UUIDs) to their first four characters.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.port:
            host = f"{host}:{parts.port}"
        if parts.username:
            host = f"{parts.username}:***@{host}" if parts.password else f"***@{host}"
        path = "/".join(seg if len(seg) < 16 else seg[:4] + "…" for seg in parts.path.split("/"))
        query = "&".join(f"{k}=***" for k, _ in parse_qsl(parts.query, keep_blank_values=True))
        return urlunsplit(SplitResult(parts.scheme, host, path, query, ""))
    except ValueError:
        return "<unparseable heartbeat URL>"
