"""Behind a reverse proxy: limits keyed by the real client (as an HMAC only) when the proxy is
trusted, X-Forwarded-* ignored when it is not, and Secure cookies whenever the request is HTTPS."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from conftest import REDIS_URL
from flask import Flask
from flask.testing import FlaskClient
from helpers import refused_after, token
from outage_support import build_app

PROXY = "10.0.0.5"  # what REMOTE_ADDR is when every request comes through the proxy
ALICE, BOB = "203.0.113.10", "198.51.100.20"


def guess(client: FlaskClient, i: int, forwarded_for: str, proto: str = "http") -> int:
    return client.post("/followup", data={"csrf_token": token(client, "/followup"),
                                          "receipt": f"AAAA-BBBB-CCCC-{i:04d}"},
                       headers={"X-Forwarded-For": forwarded_for, "X-Forwarded-Proto": proto},
                       environ_base={"REMOTE_ADDR": PROXY}).status_code


@pytest.fixture
def proxied(config: dict[str, Any], pm: pluggy.PluginManager, instance: Path) -> Iterator[Flask]:
    app = build_app(config, pm, instance, trusted_proxies=1)
    yield app
    app.extensions["tipline.engine"].dispose()


def test_trusted_proxy_keys_limits_by_the_real_client(proxied: Flask, instance: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    client = proxied.test_client()
    refused_after([guess(client, i, ALICE) for i in range(13)])
    # Another reporter behind the same proxy has a bucket of their own.
    assert guess(client, 20, BOB) == 404
    # Only the right-most address is the proxy's to vouch for; anything left of it is forgeable.
    assert guess(client, 21, f"{BOB}, {ALICE}") == 429

    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert ALICE not in logged and BOB not in logged
    if not REDIS_URL:
        stored = b"".join(p.read_bytes() for p in instance.glob("limits.db*"))
        assert stored and ALICE.encode() not in stored and BOB.encode() not in stored


def test_forwarded_headers_ignored_without_the_setting(client: FlaskClient) -> None:
    # A new X-Forwarded-For each time does not buy a new bucket.
    refused_after([guess(client, i, f"192.0.2.{i}") for i in range(13)])


def test_cookies_secure_when_the_proxy_says_https(proxied: Flask) -> None:
    client = proxied.test_client()
    page = client.get("/?lang=es", headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": ALICE},
                      environ_base={"REMOTE_ADDR": PROXY})
    cookies = page.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"tl", "tl_lang"} <= names, cookies  # the session (with the CSRF token) and the language
    assert all("; Secure" in c for c in cookies), cookies
    assert page.headers.get("Strict-Transport-Security")

    plain = proxied.test_client().get("/?lang=es", environ_base={"REMOTE_ADDR": PROXY})
    assert plain.headers.getlist("Set-Cookie") and not any("Secure" in c for c in plain.headers.getlist("Set-Cookie"))


def test_forwarded_proto_ignored_without_the_setting(client: FlaskClient) -> None:
    page = client.get("/?lang=es", headers={"X-Forwarded-Proto": "https"})
    assert not any("Secure" in c for c in page.headers.getlist("Set-Cookie"))


def test_secure_cookies_setting_marks_every_cookie(config: dict[str, Any], pm: pluggy.PluginManager,
                                                   instance: Path) -> None:
    app = build_app(config, pm, instance, secure_cookies=True)
    page = app.test_client().get("/?lang=es")
    cookies = page.headers.getlist("Set-Cookie")
    assert {"tl", "tl_lang"} <= {c.split("=", 1)[0] for c in cookies}
    assert all("; Secure" in c for c in cookies), cookies
    app.extensions["tipline.engine"].dispose()


def test_language_cookie_ends_with_the_browser_session(client: FlaskClient) -> None:
    page = client.get("/?lang=es")
    (cookie,) = [c for c in page.headers.getlist("Set-Cookie") if c.startswith("tl_lang=")]
    assert "Max-Age" not in cookie and "Expires" not in cookie, cookie
    assert "HttpOnly" in cookie
