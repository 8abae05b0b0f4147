"""Heartbeat pings against a real HTTP server on loopback: success, failure, and never a crash."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sheetsync.ops.heartbeat import MAX_BODY_BYTES, fail_url, mask_url, ping, url_for_shard

PING_KEY = "fq2mPfSBWpNqdZT9vQkRjA"


@dataclass
class Ping:
    method: str
    path: str
    body: str
    content_type: str


@dataclass
class PingServer:
    base: str
    pings: list[Ping] = field(default_factory=list)


@pytest.fixture
def server() -> Iterator[PingServer]:
    received: list[Ping] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length).decode("utf-8")
            received.append(Ping("POST", self.path, body, self.headers["Content-Type"]))
            if "/slow" in self.path:
                time.sleep(1.0)
            status = 500 if "/broken" in self.path else 200
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"OK")

        def log_message(self, format: str, *args: object) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True  # do not wait for the deliberately slow handler on close
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield PingServer(f"http://127.0.0.1:{httpd.server_address[1]}", received)
    finally:
        httpd.shutdown()
        httpd.server_close()


def test_a_successful_run_pings_the_url_with_the_summary(server: PingServer) -> None:
    assert ping(f"{server.base}/{PING_KEY}", ok=True, summary="12 workbooks synced") is True

    assert server.pings == [
        Ping("POST", f"/{PING_KEY}", "12 workbooks synced", "text/plain; charset=utf-8")
    ]


def test_a_failed_run_pings_the_fail_url(server: PingServer) -> None:
    assert ping(f"{server.base}/{PING_KEY}", ok=False, summary="2 of 12 workbooks failed")

    assert [(p.path, p.body) for p in server.pings] == [
        (f"/{PING_KEY}/fail", "2 of 12 workbooks failed")
    ]


def test_fail_goes_before_the_query_string(server: PingServer) -> None:
    ping(f"{server.base}/ping/{PING_KEY}/sheetsync-0/?create=1", ok=False, summary="")

    assert server.pings[0].path == f"/ping/{PING_KEY}/sheetsync-0/fail?create=1"


def test_a_server_error_is_a_warning_not_an_exception(
    server: PingServer, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="sheetsync.ops.heartbeat"):
        assert ping(f"{server.base}/broken/{PING_KEY}?token=hunter2hunter2", ok=True) is False

    assert "answered HTTP 500" in caplog.text
    assert PING_KEY not in caplog.text
    assert "hunter2hunter2" not in caplog.text


def test_an_unreachable_service_is_a_warning_not_an_exception(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with socket.socket() as probe:  # a loopback port with nobody listening
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with caplog.at_level(logging.WARNING, logger="sheetsync.ops.heartbeat"):
        assert ping(f"http://127.0.0.1:{port}/{PING_KEY}", ok=True, timeout=2) is False

    assert "could not be sent" in caplog.text
    assert PING_KEY not in caplog.text


def test_a_slow_service_times_out_instead_of_holding_the_run(server: PingServer) -> None:
    started = time.monotonic()

    assert ping(f"{server.base}/slow/{PING_KEY}", ok=True, timeout=0.2) is False

    assert time.monotonic() - started < 0.9


def test_a_malformed_url_is_a_warning_not_an_exception(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="sheetsync.ops.heartbeat"):
        assert ping(f"hc-ping.invalid/{PING_KEY}", ok=True) is False
    assert "could not be sent" in caplog.text
    assert PING_KEY not in caplog.text


def test_a_long_summary_is_cut(server: PingServer) -> None:
    ping(f"{server.base}/{PING_KEY}", ok=True, summary="x" * (3 * MAX_BODY_BYTES))

    assert len(server.pings[0].body.encode()) <= MAX_BODY_BYTES
    assert server.pings[0].body.endswith("(cut)")


def test_mask_url_hides_keys_tokens_and_passwords() -> None:
    masked = mask_url(f"https://user:pw@hc.example.test:8443/ping/{PING_KEY}/slug?rid=42&k=v")

    assert masked == "https://user:***@hc.example.test:8443/ping/fq2m…/slug?rid=***&k=***"


def test_fail_url_appends_to_the_path() -> None:
    assert fail_url("https://hc.example.test/abc/") == "https://hc.example.test/abc/fail"


def test_each_shard_can_ping_its_own_check() -> None:
    url = "https://hc.example.test/KEY/sheetsync-{shard}-of-{shards}"
    assert url_for_shard(url, 2, 4) == "https://hc.example.test/KEY/sheetsync-2-of-4"
