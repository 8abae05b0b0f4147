"""The read-only report server: pages out, nothing in, nothing outside its folder, no listings."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest

from sheetsync.ops.static import StaticServer


@pytest.fixture
def served(tmp_path: Path):
    site = tmp_path / "site"
    (site / "empty").mkdir(parents=True)
    (site / "index.html").write_text("<h1>Index</h1>", encoding="utf-8")
    (tmp_path / "secret.toml").write_text("password = 'x'", encoding="utf-8")
    server = StaticServer(site)
    yield server
    server.close()


def request(server: StaticServer, method: str, path: str) -> tuple[int, bytes, dict[str, str]]:
    host, port = server.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
    conn = http.client.HTTPConnection(host, int(port), timeout=10)
    conn.request(method, path, body=b"x" if method in ("POST", "PUT") else None)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body, dict(response.getheaders())


def test_pages_are_served_from_loopback_with_the_index_at_the_root(served):
    assert served.url.startswith("http://127.0.0.1:")
    status, body, headers = request(served, "GET", "/")
    assert (status, body) == (200, b"<h1>Index</h1>")
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_nothing_can_be_written_listed_or_read_outside_the_folder(served):
    assert request(served, "POST", "/index.html")[0] == 501
    assert request(served, "PUT", "/index.html")[0] == 501
    assert request(served, "DELETE", "/index.html")[0] == 501
    assert request(served, "GET", "/empty/")[0] == 404
    assert request(served, "GET", "/../secret.toml")[0] == 404
    assert request(served, "GET", "/%2e%2e/secret.toml")[0] == 404
