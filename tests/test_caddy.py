"""deploy/Caddyfile in front of the app on loopback, as docs/deploy.md tells a district to run it:
Debian's caddy with its internal CA, gunicorn with gunicorn.conf.py after `tipline init`, and
TIPLINE_TRUSTED_PROXIES=1. The app must see HTTPS, count each reporter's own address through
the proxy (a forged X-Forwarded-For changes nothing), and Caddy must log no reporter request."""

from __future__ import annotations

import socket
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from caddy_support import SITE, App, Browser, Caddy, HeaderEcho, caddy_binary, gunicorn
from servers import free_port

pytestmark = pytest.mark.skipif(
    caddy_binary() is None,
    reason="caddy is not installed; `make caddy` (part of `make test`) installs Debian's package with apt-get")

AGENT = "Purple-Walrus-Phone/9.1 (reporter)"
MESSAGE = "Someone wrote a mean thing about Ollie on the bus"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Caddy, App]]:
    folder = tmp_path_factory.mktemp("caddy-stack")
    https_port = free_port()  # known before `tipline init`, which prints the setup link with it
    with gunicorn(folder / "app", https_port) as app:
        caddy = Caddy(folder / "caddy", app.port, https_port=https_port).start()
        try:
            yield caddy, app
        finally:
            caddy.stop()


def guess(browser: Browser, token: str, i: int, headers: dict[str, str] | None = None) -> int:
    """A wrong receipt code: the follow-up limit (10 a minute) counts only these."""
    return browser.send("POST", "/followup", {"csrf_token": token, "receipt": f"AAAA-BBBB-CCCC-{i:04d}"},
                        headers).status


def leaks(log: str, needles: list[str]) -> list[str]:
    return [n for n in needles if n.lower() in log.lower()]


def test_the_app_sees_https_through_caddy(stack: tuple[Caddy, App]) -> None:
    caddy, app = stack
    page = caddy.request("GET", "/?lang=es", headers={"User-Agent": AGENT})
    assert page.status == 200
    cookies = page.set_cookies()
    assert {"tl", "tl_lang"} <= {c.split("=", 1)[0] for c in cookies}, cookies
    assert all("; Secure" in c for c in cookies), cookies
    assert page.header("Strict-Transport-Security"), page.headers
    assert page.header("Server") is None, "Caddy drops the Server header"

    # Straight to gunicorn over plain HTTP the same cookies are not Secure: what the app saw
    # above was the proxy's HTTPS, passed on as X-Forwarded-Proto.
    direct = urllib.request.urlopen(f"http://127.0.0.1:{app.port}/?lang=es", timeout=10)
    plain = direct.headers.get_all("Set-Cookie") or []
    assert plain and not any("Secure" in c for c in plain), plain
    assert direct.headers.get("Strict-Transport-Security") is None


def test_first_admin_setup_link_opens_through_caddy(stack: tuple[Caddy, App]) -> None:
    caddy, app = stack
    assert app.setup_link.startswith(f"https://localhost:{caddy.https_port}/console/setup/"), app.setup_link
    browser = Browser(caddy, "127.0.0.1")
    first = browser.send("GET", app.setup_link.split(str(caddy.https_port), 1)[1])
    # The token leaves the address bar at once: kept in a cookie, the page is a plain /console/setup.
    assert first.status == 302 and first.header("Location") in ("/console/setup", f"https://{SITE}:{caddy.https_port}"
                                                                  "/console/setup"), first.headers
    page = browser.send("GET", "/console/setup")
    assert page.status == 200 and "Create the first district admin" in page.body


def test_limits_count_each_reporter_through_caddy(stack: tuple[Caddy, App]) -> None:
    caddy, _ = stack
    first, second = Browser(caddy, "127.0.0.2"), Browser(caddy, "127.0.0.1")
    first_token, second_token = first.csrf_token("/followup"), second.csrf_token("/followup")

    answers = []
    while 429 not in answers and len(answers) < 20:
        answers.append(guess(first, first_token, len(answers)))
    # Ten wrong codes a minute, then 429. One more may pass if a minute ends mid-test: the
    # sliding window weighs the last minute's count down and rounds it down.
    assert answers in ([404] * 10 + [429], [404] * 11 + [429]), answers
    # Whatever X-Forwarded-For the client sends, Caddy replaces it with the address that
    # connected, so the first reporter stays in their own exhausted bucket.
    for forged in ("203.0.113.7", "127.0.0.1", "198.51.100.1, 127.0.0.9"):
        assert guess(first, first_token, 11, {"X-Forwarded-For": forged}) == 429, forged
    # Another reporter behind the same proxy has a bucket of their own, and claiming the first
    # reporter's address does not put them in it.
    assert guess(second, second_token, 20) == 404
    assert guess(second, second_token, 21, {"X-Forwarded-For": "127.0.0.2"}) == 404


def test_caddy_overwrites_forwarded_headers_and_logs_nothing_when_the_app_is_down(tmp_path: Path) -> None:
    echo = HeaderEcho()
    caddy = Caddy(tmp_path / "caddy", echo.port)
    try:
        caddy.start()
        reply = caddy.request("GET", "/followup", source="127.0.0.2",
                              headers={"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "http",
                                       "User-Agent": AGENT})
        seen = dict(line.split(": ", 1) for line in reply.body.splitlines())
        assert seen["X-Forwarded-For"] == "127.0.0.2", seen  # replaced, not appended to
        assert seen["X-Forwarded-Proto"] == "https", seen
        assert seen["User-Agent"] == AGENT  # passed on to the app, which logs none

        echo.stop()
        # The app is down: Caddy answers 502 itself, the moment its error log would record the
        # client's address, the path and the user agent.
        for path in ("/", "/followup?lang=es", "/help"):
            assert caddy.request("GET", path, source="127.0.0.2", headers={"User-Agent": AGENT}).status == 502
    finally:
        echo.stop()
        log = caddy.stop()
    assert "serving initial configuration" in log, log  # the log is being written
    assert leaks(log, ["127.0.0.2", "Purple-Walrus", "/followup", "/help", "lang=es", "203.0.113.7"]) == [], log


def test_caddy_logs_no_reporter_request(stack: tuple[Caddy, App], tmp_path: Path) -> None:
    _, app = stack
    caddy = Caddy(tmp_path / "caddy", app.port)
    source = "127.0.0.3"
    try:
        caddy.start()
        reporter = Browser(caddy, source, AGENT)
        assert reporter.send("GET", "/?lang=es&from=Purple-Walrus").status == 200
        token = reporter.csrf_token("/")
        sent = reporter.send("POST", "/", {"csrf_token": token, "message": MESSAGE, "category": "other",
                                           "school": "SHS"}, {"Referer": "https://purple-walrus.example/"})
        assert sent.status == 200 and 'id="receipt-code"' in sent.body, sent.body[:500]
        assert guess(reporter, reporter.csrf_token("/followup"), 1) == 404
        assert reporter.send("GET", "/help").status == 200
        assert reporter.send("GET", "/no-such-page-purple-walrus").status == 404
        setup_path = app.setup_link.split("/console/setup/", 1)[1]
        assert reporter.send("GET", f"/console/setup/{setup_path}").status == 302
        assert reporter.send("GET", "/console/setup").status == 200
        # Plain HTTP only redirects; a client speaking plain HTTP to the HTTPS port fails its handshake.
        assert caddy.plain_http("/followup?lang=es", source, {"User-Agent": AGENT}) in (301, 302, 307, 308)
        with socket.create_connection(("127.0.0.1", caddy.https_port), timeout=10,
                                      source_address=(source, 0)) as raw:
            raw.sendall(b"GET /followup HTTP/1.1\r\nHost: localhost\r\nUser-Agent: Purple-Walrus\r\n\r\n")
            raw.recv(1024)
    finally:
        log = caddy.stop()
    assert "serving initial configuration" in log, log
    needles = [source, "Purple-Walrus", "purple-walrus", "/followup", "/help", "lang=es", "no-such-page",
               setup_path, "Ollie"]
    assert leaks(log, needles) == [], log
