"""Retrying transient failures: which errors are transient (429, 408, 5xx, resets, timeouts)
or ambiguous (maybe applied), exponential backoff with full jitter honouring `Retry-After`, and
the `RetryPolicy` bounds on attempts and seconds."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    stop_before_delay,
)

TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry transient failures: at most `max_attempts` tries within `max_seconds`.

    Waits grow as `base_delay * 2**n` capped at `max_delay`, with full jitter (a random wait
    between 0 and that), and never shorter than the server's `Retry-After`. A wait that would
    end past `max_seconds` is not taken: the error is raised at once instead.
    """

    max_attempts: int = 6
    max_seconds: float = 120.0
    base_delay: float = 1.0
    max_delay: float = 32.0


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, APIError):
        return exc.response.status_code
    return None


def is_transient(exc: BaseException) -> bool:
    if isinstance(exc, APIError):
        return _status(exc) in TRANSIENT_STATUS
    return isinstance(
        exc,
        requests.ConnectionError
        | requests.Timeout
        | requests.exceptions.ChunkedEncodingError
        | auth_exceptions.TransportError,
    )


def is_ambiguous(exc: BaseException) -> bool:
    """A failure after which the request may or may not have been applied."""
    return is_transient(exc) and _status(exc) != 429


def retry_after_seconds(exc: BaseException | None) -> float | None:
    if not isinstance(exc, APIError):
        return None
    value = exc.response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def backoff_wait(policy: RetryPolicy, state: RetryCallState) -> float:
    """Full-jitter exponential backoff, never shorter than the server's `Retry-After`."""
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (state.attempt_number - 1))
    wait = random.uniform(0, ceiling)
    exc = state.outcome.exception() if state.outcome else None
    after = retry_after_seconds(exc)
    return max(wait, after) if after is not None else wait


def retrying(policy: RetryPolicy, before_sleep: Callable[[RetryCallState], None]) -> Retrying:
    """A tenacity loop that retries transient failures within `policy`, then re-raises."""
    return Retrying(
        retry=retry_if_exception(is_transient),
        stop=stop_after_attempt(max(1, policy.max_attempts))
        | stop_before_delay(policy.max_seconds),
        wait=lambda state: backoff_wait(policy, state),
        before_sleep=before_sleep,
        reraise=True,
    )
