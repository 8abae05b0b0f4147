"""Translating Sheets API and transport failures into sheetsync's exceptions, with messages
that say what to do, and describing failures without URLs, headers or tokens."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import requests
from gspread.exceptions import APIError


def api_error_info(exc: APIError) -> tuple[str, str, list[Mapping[str, Any]]]:
    error = exc.error if isinstance(exc.error, Mapping) else {}
    raw = error.get("details")
    details = [d for d in raw if isinstance(d, Mapping)] if isinstance(raw, list) else []
    return str(error.get("message", "")), str(error.get("status", "")), details


def disabled_project(message: str, details: list[Mapping[str, Any]]) -> str:
    for detail in details:
        consumer = (detail.get("metadata") or {}).get("consumer", "")
        if consumer.startswith("projects/"):
            return consumer[len("projects/") :]
    match = re.search(r"project (\S+?) before", message) or re.search(
        r"project=(\w[\w-]*)", message
    )
    return match.group(1) if match else "(see the Google Cloud console)"


def describe_failure(exc: BaseException | None) -> str:
    """A short description of a failure, without URLs' queries, headers or tokens."""
    if exc is None:
        return "unknown error"
    if isinstance(exc, APIError):
        message, status, _ = api_error_info(exc)
        return f"HTTP {exc.response.status_code} {status}: {message}".strip()
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.ConnectionError):
        text = str(exc)
        for marker in (
            "Connection aborted",
            "Connection refused",
            "Connection reset",
            "RemoteDisconnected",
        ):
            if marker in text:
                return marker.lower().replace(
                    "remotedisconnected", "connection closed by the server"
                )
        return "connection failed"
    return type(exc).__name__
