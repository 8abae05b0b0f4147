"""Logging for the CLI: readable lines by default, one JSON object per line for log collectors.

Both formats carry the `extra=` fields of a record (`log.info("synced", extra={"workbook":
"Sales"})`), as `key=value` after the message in text and as keys of the object in JSON.

Every record passes a redaction filter on the way out, so a secret that ends up in a message, an
argument, an extra field or a traceback is printed as `***`. Known secrets are the values of
environment variables whose names end in PASSWORD, TOKEN, SECRET or KEY (read when logging is set
up), and anything passed to `register_secret` (a password read from a file, a token fetched at
run time). Values shorter than `MIN_SECRET_LENGTH` are not redacted: they cannot be told apart
from ordinary words.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any, Literal, TextIO
from urllib.parse import quote

LogFormat = Literal["text", "json"]

MIN_SECRET_LENGTH = 6
SECRET_ENV_SUFFIXES = ("PASSWORD", "TOKEN", "SECRET", "KEY")
REDACTED = "***"

_PLAIN_RECORD = logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None)
_RESERVED = frozenset(vars(_PLAIN_RECORD)) | {"message", "asctime", "taskName"}
"""Attributes every LogRecord has; anything else on a record came from `extra=`."""


class _Secrets:
    """The set of strings to redact, with one compiled pattern rebuilt when the set changes."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._registered: set[str] = set()
        self._from_env: set[str] = set()
        self.pattern: re.Pattern[str] | None = None

    def register(self, value: str) -> None:
        with self._lock:
            self._registered.add(value)
            self._rebuild()

    def load_env(self, environ: Mapping[str, str]) -> None:
        with self._lock:
            self._from_env = {
                value
                for name, value in environ.items()
                if name.upper().endswith(SECRET_ENV_SUFFIXES)
            }
            self._rebuild()

    def values(self) -> frozenset[str]:
        with self._lock:
            return frozenset(self._registered | self._from_env)

    def clear(self) -> None:
        with self._lock:
            self._registered.clear()
            self._from_env.clear()
            self._rebuild()

    def _rebuild(self) -> None:
        values: set[str] = set()
        for value in self._registered | self._from_env:
            if len(value) >= MIN_SECRET_LENGTH:
                values.update({value, quote(value, safe=""), quote(value)})
        # Longest first, so a secret that contains another is redacted whole.
        ordered = sorted(values, key=len, reverse=True)
        self.pattern = re.compile("|".join(map(re.escape, ordered))) if ordered else None


_secrets = _Secrets()


def register_secret(value: str | None) -> None:
    """Redact `value` from every log record from now on (None and short values are ignored)."""
    if value:
        _secrets.register(value)


def registered_secrets() -> frozenset[str]:
    """Every value this process redacts (registered or from the environment), for a worker
    process to redact the same ones in its own log lines."""
    return _secrets.values()


def forget_secrets() -> None:
    """Forget every secret (registered or from the environment) until the next setup_logging."""
    _secrets.clear()


def redact(text: str) -> str:
    """`text` with every known secret replaced by `***`."""
    pattern = _secrets.pattern
    return pattern.sub(REDACTED, text) if pattern else text


class RedactingFilter(logging.Filter):
    """Rewrites each record so its message, extras and traceback carry no known secret."""

    def filter(self, record: logging.LogRecord) -> bool:
        if _secrets.pattern is None:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a format string that does not fit its arguments
            message = f"{record.msg} (arguments that did not fit: {record.args!r})"
        record.msg = redact(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        for key, value in extra_fields(record).items():
            if isinstance(value, str):
                setattr(record, key, redact(value))
        return True


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The fields a caller added with `extra=`."""
    return {k: v for k, v in vars(record).items() if k not in _RESERVED and not k.startswith("_")}


class TextFormatter(logging.Formatter):
    """`2026-11-23 02:00:01 INFO    sheetsync.sync: synced workbook=Sales`"""

    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(name)s: %(message)s", "%Y-%m-%d %H:%M:%S")

    def formatMessage(self, record: logging.LogRecord) -> str:
        line = super().formatMessage(record)
        extras = " ".join(f"{k}={_text_value(v)}" for k, v in extra_fields(record).items())
        return f"{line} {extras}" if extras else line


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, extras, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in extra_fields(record).items():
            entry.setdefault(key, value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, default=str, ensure_ascii=False)


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to `sys.stderr` as it is when a line is logged, not as it was at setup: a stream
    swapped in meanwhile and since closed (a test's capture, a redirect) is never written to."""

    @property  # type: ignore[override]
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _value: TextIO) -> None:
        """StreamHandler sets it; the current sys.stderr is always used instead."""


def setup_logging(
    fmt: LogFormat = "text",
    level: int | str = logging.INFO,
    *,
    stream: TextIO | None = None,
    environ: Mapping[str, str] | None = None,
    quiet_loggers: Iterable[str] = ("urllib3", "google", "googleapiclient", "filelock"),
) -> logging.Handler:
    """Send all logging to `stream` (stderr) in `fmt`, redacting secrets; returns the handler.

    Replaces the handler a previous call installed, so calling it twice does not double lines.
    Chatty third-party loggers are held at WARNING unless `level` is DEBUG.
    """
    if fmt not in ("text", "json"):
        raise ValueError(f"log format must be 'text' or 'json', not {fmt!r}")
    _secrets.load_env(os.environ if environ is None else environ)
    handler = logging.StreamHandler(stream) if stream is not None else _StderrHandler()
    handler.setFormatter(JsonFormatter() if fmt == "json" else TextFormatter())
    handler.addFilter(RedactingFilter())
    handler.set_name("sheetsync")
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "sheetsync"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    quiet = logging.NOTSET if root.level <= logging.DEBUG else max(logging.WARNING, root.level)
    for name in quiet_loggers:
        logging.getLogger(name).setLevel(quiet)
    logging.captureWarnings(True)
    return handler


def _text_value(value: object) -> str:
    text = str(value)
    return json.dumps(text, ensure_ascii=False) if (not text or " " in text) else text
