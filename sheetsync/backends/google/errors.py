"""Translating Sheets API and transport failures into sheetsync's exceptions, with messages
that say what to do, and describing failures without URLs, headers or tokens."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import requests
from google.auth import exceptions as auth_exceptions
from gspread.exceptions import APIError

from sheetsync.backends.google.auth import SCOPES
from sheetsync.backends.google.retries import TRANSIENT_STATUS, is_transient
from sheetsync.core.errors import (
    BackendError,
    RowsMovedError,
    TransientBackendError,
    WorkbookBusyError,
    WorkbookError,
)


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


@dataclass(frozen=True)
class FailureContext:
    """What an error message names: the workbook, where the credentials came from, and so on."""

    label: str
    spreadsheet_id: str
    credentials_path: str
    account: str | None
    """The service account's address, None for an authorised-user token."""
    api_url: str
    timeout: float
    read_ok: bool
    """Whether a read succeeded earlier (a 403 on write then means viewer-only access)."""
    identity: str | None = None
    """Keyless credentials (metadata server, impersonation, federation): who sheetsync was,
    in words, since no key file in the config says so."""


MOVED_SIGNS = ("No grid with id", "exceeds grid limits", "Unable to parse range")
"""What the API says when a write names a tab that was deleted or renamed, or rows that were
deleted, since the read: the batch was refused whole, so nothing was written."""


def rows_moved(message: str, label: str, *, undone: bool = False) -> WorkbookBusyError:
    """The sheet changed under us: RowsMovedError, which makes the pipeline redo the cycle.

    `undone` says the write went through and what it wrote over was put back."""
    done = "what it wrote there was put back as it was" if undone else "nothing was written"
    return RowsMovedError(
        f"{message}; {done}. Run the sync again once nobody is editing.", workbook=label
    )


def translate_failure(
    exc: Exception, what: str, attempts: int, elapsed: float, context: FailureContext
) -> WorkbookError:
    """The sheetsync error for a `what` ("read", "write", "undo") call that failed with `exc`
    after `attempts` tries in `elapsed` seconds."""
    label = context.label
    tries = f"after {attempts} attempt{'s' if attempts != 1 else ''} in {elapsed:.0f}s"
    if isinstance(exc, APIError):
        code = exc.response.status_code
        message, status, details = api_error_info(exc)
        if code == 429:
            return TransientBackendError(
                f"Google Sheets API quota exceeded: still rate-limited {tries}. The Sheets "
                "API allows 60 requests/min per user and 300 per project; wait a minute and "
                "run again, or sync fewer spreadsheets at a time.",
                workbook=label,
            )
        if code in TRANSIENT_STATUS:
            return TransientBackendError(
                f"Google Sheets API kept failing (HTTP {code} {status}: {message}) {tries}; "
                "try again later.",
                workbook=label,
            )
        if code == 403:
            return BackendError(forbidden_message(message, details, what, context), workbook=label)
        if code == 404:
            return BackendError(
                f"No spreadsheet with ID {context.spreadsheet_id} (check the ID/URL in the "
                "config).",
                workbook=label,
            )
        if code == 401:
            return BackendError(
                f"Google rejected the credentials in {context.credentials_path} (HTTP 401: "
                f"{message}). Create a new key or token and point `credentials` at it.",
                workbook=label,
            )
        if code == 400 and what == "write" and any(sign in message for sign in MOVED_SIGNS):
            return rows_moved(
                f"a tab sheetsync writes to was renamed, deleted or shortened ({message})", label
            )
        if code == 400 and "already exists" in message:
            return rows_moved(f"the spreadsheet changed while syncing ({message})", label)
        return BackendError(
            f"Google Sheets API refused the {what} request (HTTP {code} {status}: {message})",
            workbook=label,
        )
    if isinstance(exc, auth_exceptions.RefreshError):
        reason = str(exc.args[0]) if exc.args else type(exc).__name__
        who = f" for {context.account}" if context.account else ""
        if "impersonated credentials" in reason:
            return BackendError(
                f"Google refused to let the signed-in account act as {context.account} "
                f"({context.credentials_path}). Give that account the Service Account Token "
                f"Creator role on {context.account} (gcloud iam service-accounts "
                f"add-iam-policy-binding {context.account} --member=user:YOU@EXAMPLE.COM "
                "--role=roles/iam.serviceAccountTokenCreator) and enable the IAM Service "
                "Account Credentials API in its project.",
                workbook=label,
            )
        return BackendError(
            f"Google refused the credentials in {context.credentials_path}: {reason}. The key or "
            f"token may have been deleted or revoked: create a new one{who} and point "
            "`credentials` at it (a wrong system clock also causes this).",
            workbook=label,
        )
    if isinstance(exc, requests.Timeout):
        return TransientBackendError(
            f"Google Sheets API did not answer within {context.timeout:g}s ({tries}); try "
            "again later.",
            workbook=label,
        )
    if is_transient(exc):
        return TransientBackendError(
            f"Could not reach the Google Sheets API at {context.api_url} "
            f"({describe_failure(exc)}) {tries}; check the network and try again.",
            workbook=label,
        )
    return BackendError(
        f"unexpected failure talking to the Google Sheets API ({describe_failure(exc)})",
        workbook=label,
    )


def forbidden_message(
    message: str, details: list[Mapping[str, Any]], what: str, context: FailureContext
) -> str:
    """What to do about a 403: enable the API, grant the scope, or share the sheet."""
    reasons = {d.get("reason") for d in details if isinstance(d, Mapping)}
    if "SERVICE_DISABLED" in reasons or "has not been used in project" in message:
        project = disabled_project(message, details)
        return (
            f"The Google Sheets API is disabled: enable the Google Sheets API for project "
            f"{project} at https://console.developers.google.com/apis/api/"
            f"sheets.googleapis.com/overview?project={project} (APIs & Services > Library > "
            "Google Sheets API > Enable), wait a few minutes and run again."
        )
    if "insufficient authentication scopes" in message.lower():
        return (
            f"The credentials in {context.credentials_path} were not granted access to Google "
            f"Sheets (scope {SCOPES[0]}); create the token again with that scope."
        )
    used = f" sheetsync signed in as {context.identity}." if context.identity else ""
    if context.account:
        if what == "write" and context.read_ok:
            return (
                f"The spreadsheet is shared with {context.account} as a viewer only. Open it in "
                f"Google Sheets, click Share and make that address an Editor.{used}"
            )
        return (
            f"The spreadsheet is not shared with {context.account}. Open it in Google Sheets, "
            f"click Share and add that address as an Editor.{used}"
        )
    return (
        f"The Google account whose token is in {context.credentials_path} cannot edit this "
        "spreadsheet. Open it in Google Sheets, click Share and add that account as an Editor."
    )
