"""Stand-ins for the two Google endpoints keyless credentials use, on 127.0.0.1.

* `MetadataServer`: the GCE/GKE metadata server (`GCE_METADATA_HOST`, `GCE_METADATA_IP`), as
  GKE Workload Identity, Cloud Run and Compute Engine serve it: the ping, the default service
  account's details and its access token (header `Metadata-Flavor: Google` required).
* `IamCredentialsServer`: `iamcredentials.googleapis.com`'s `generateAccessToken`, which turns a
  caller's token into one for a service account the caller may impersonate, and the Security
  Token Service's `/v1/token` exchange that workload identity federation starts with (an
  external identity's token, e.g. GitHub Actions OIDC, for a federated principal's token).

Both mint their access tokens from the Sheets API stand-in (`SheetsStandIn.issue_token`), so
the Sheets stand-in accepts them and knows whose they are, as Google would.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.sheets_standin.server import SCOPE, SheetsStandIn


class _Server:
    """A ThreadingHTTPServer on 127.0.0.1 that records the paths it was asked for."""

    def __init__(self) -> None:
        self.paths: list[str] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer.paths.append(self.path)
                outer.answer(self, "GET", None)

            def do_POST(self) -> None:
                outer.paths.append(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                form = "x-www-form-urlencoded" in (self.headers.get("Content-Type") or "")
                outer.answer(
                    self, "POST", dict(parse_qsl(body)) if form else json.loads(body or "{}")
                )

            def log_message(self, *args: Any) -> None:
                pass

        self._http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.host = f"127.0.0.1:{self._http.server_address[1]}"

    def answer(self, handler: BaseHTTPRequestHandler, method: str, body: Any) -> None:
        raise NotImplementedError

    @staticmethod
    def send(
        handler: BaseHTTPRequestHandler,
        status: int,
        payload: Any,
        headers: dict[str, str] | None = None,
    ) -> None:
        data = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
        handler.send_response(status)
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def __enter__(self) -> _Server:
        threading.Thread(target=self._http.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._http.shutdown()
        self._http.server_close()


class MetadataServer(_Server):
    """The metadata server of a GKE pod whose Kubernetes service account is bound (Workload
    Identity) to the Google service account `email`."""

    def __init__(self, sheets: SheetsStandIn, email: str, project: str = "okr-project") -> None:
        super().__init__()
        self.sheets, self.email, self.project = sheets, email, project
        self.tokens_issued = 0

    def answer(self, handler: BaseHTTPRequestHandler, method: str, body: Any) -> None:
        flavor = {"Metadata-Flavor": "Google"}
        if handler.headers.get("Metadata-Flavor") != "Google":
            return self.send(handler, 403, "Missing Metadata-Flavor header", flavor)
        path = urlsplit(handler.path).path
        accounts = "/computeMetadata/v1/instance/service-accounts/default/"
        if path == "/":
            return self.send(handler, 200, "computeMetadata/", flavor)
        if path == "/computeMetadata/v1/project/project-id":
            return self.send(handler, 200, self.project, flavor)
        if path == accounts:
            info = {"email": self.email, "scopes": [SCOPE], "aliases": ["default"]}
            return self.send(handler, 200, info, flavor)
        if path == accounts + "token":
            self.tokens_issued += 1
            token = self.sheets.issue_token(self.email)
            answer = {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}
            return self.send(handler, 200, answer, flavor)
        return self.send(handler, 404, "not found", flavor)


class IamCredentialsServer(_Server):
    """`generateAccessToken` for the service accounts each caller holds Token Creator on."""

    def __init__(self, sheets: SheetsStandIn, token_creators: dict[str, set[str]]) -> None:
        super().__init__()
        self.sheets = sheets
        self.token_creators = token_creators
        """service account -> the callers allowed to impersonate it"""
        self.callers: list[str | None] = []
        self.federated: dict[str, str] = {}
        """external subject token -> the federated principal STS exchanges it for"""

    def url_for(self, service_account: str) -> str:
        return (
            f"http://{self.host}/v1/projects/-/serviceAccounts/{service_account}"
            ":generateAccessToken"
        )

    @property
    def sts_url(self) -> str:
        return f"http://{self.host}/v1/token"

    def answer(self, handler: BaseHTTPRequestHandler, method: str, body: Any) -> None:
        path = urlsplit(handler.path).path
        if path == "/v1/token":
            return self._exchange(handler, body)
        prefix, suffix = "/v1/projects/-/serviceAccounts/", ":generateAccessToken"
        if method != "POST" or not (path.startswith(prefix) and path.endswith(suffix)):
            return self.send(handler, 404, {"error": {"code": 404, "status": "NOT_FOUND"}})
        target = path[len(prefix) : -len(suffix)]
        bearer = (handler.headers.get("Authorization") or "").removeprefix("Bearer ").strip()
        caller = self.sheets.token_email(bearer)
        self.callers.append(caller)
        if caller is None:
            return self.send(handler, 401, {"error": {"code": 401, "status": "UNAUTHENTICATED"}})
        if caller not in self.token_creators.get(target, set()):
            message = (
                "Permission 'iam.serviceAccounts.getAccessToken' denied on resource "
                "(or it may not exist)."
            )
            error = {"code": 403, "message": message, "status": "PERMISSION_DENIED"}
            return self.send(handler, 403, {"error": error})
        expires = datetime.now(UTC) + timedelta(hours=1)
        answer = {
            "accessToken": self.sheets.issue_token(target, body.get("scope") or [SCOPE]),
            "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        return self.send(handler, 200, answer)

    def _exchange(self, handler: BaseHTTPRequestHandler, form: dict[str, str]) -> None:
        principal = self.federated.get(form.get("subject_token", ""))
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:token-exchange":
            return self.send(handler, 400, {"error": "unsupported_grant_type"})
        if principal is None:
            return self.send(handler, 400, {"error": "invalid_grant"})
        answer = {
            "access_token": self.sheets.issue_token(principal),
            "issued_token_type": "urn:ietf:params:oauth:token-type:access_token",
            "token_type": "Bearer",
            "expires_in": 3600,
        }
        return self.send(handler, 200, answer)
