"""The example Caddyfile (deploy/Caddyfile) run on loopback in front of a real gunicorn, for
tests/test_caddy.py.

Caddy's data and config folders (its internal CA, certificates, autosaved config) go under a
tmp folder through HOME and XDG_*; the admin API is off; every port is a free loopback port.
Clients trust Caddy's own root certificate rather than skipping verification, and pick their
source address (127.0.0.1, 127.0.0.2, ... are all loopback) to play different reporters.
"""

from __future__ import annotations

import http.client
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from conftest import PG_URL, REDIS_URL, _pg_url_with_schema
from servers import free_port
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parent.parent
CADDYFILE = ROOT / "deploy" / "Caddyfile"
SITE = "localhost"  # the name Caddy's internal CA issues the certificate for
READY_TIMEOUT = 30.0


def caddy_binary() -> str | None:
    for candidate in ("/usr/bin/caddy", shutil.which("caddy")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def _poll(ready: Callable[[], bool], what: str, process: subprocess.Popen[bytes], log: Path) -> None:
    """Call ``ready()`` until it returns True; fail with the server's log if it exits or stalls."""
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            if ready():
                return
        except (OSError, ssl.SSLError, http.client.HTTPException):
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"{what} did not start:\n{log.read_text(errors='replace')}")
        time.sleep(0.05)  # polling readiness, not waiting for a fixed time


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass
class Reply:
    status: int
    headers: list[tuple[str, str]]
    body: str

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)

    def set_cookies(self) -> list[str]:
        return [v for k, v in self.headers if k.lower() == "set-cookie"]


@dataclass
class Caddy:
    """One Caddy process running deploy/Caddyfile, its log in ``log``."""

    home: Path
    upstream_port: int
    https_port: int = field(default_factory=free_port)
    http_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def log(self) -> Path:
        return self.home / "caddy.log"

    @property
    def root_cert(self) -> Path:
        return self.home / "data" / "caddy" / "pki" / "authorities" / "local" / "root.crt"

    def start(self) -> Caddy:
        binary = caddy_binary()
        assert binary, "caddy is installed"
        self.home.mkdir(parents=True, exist_ok=True)
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(self.home),
               "XDG_DATA_HOME": str(self.home / "data"), "XDG_CONFIG_HOME": str(self.home / "config"),
               "CADDY_ADMIN": "off", "CADDY_HTTP_PORT": str(self.http_port),
               "CADDY_HTTPS_PORT": str(self.https_port), "TIPLINE_SITE": SITE, "TIPLINE_TLS": "internal",
               "TIPLINE_UPSTREAM": f"127.0.0.1:{self.upstream_port}"}
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen([binary, "run", "--config", str(CADDYFILE), "--adapter", "caddyfile"],
                                            cwd=self.home, env=env, stdout=out, stderr=subprocess.STDOUT)
        # Ready once it completes a verified TLS handshake and answers (a 502 counts: Caddy is up).
        _poll(lambda: self.request("GET", "/static/ready-check").status > 0, "caddy", self.process, self.log)
        return self

    def stop(self) -> str:
        """Stop Caddy and return everything it logged."""
        if self.process is not None:
            _stop(self.process)
        return self.log.read_text(errors="replace")

    def tls_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.root_cert))

    def connect(self, source: str = "127.0.0.1") -> socket.socket:
        raw = socket.create_connection(("127.0.0.1", self.https_port), timeout=15, source_address=(source, 0))
        try:
            return self.tls_context().wrap_socket(raw, server_hostname=SITE)
        except BaseException:
            raw.close()
            raise

    def request(self, method: str, path: str, *, source: str = "127.0.0.1", headers: dict[str, str] | None = None,
                body: bytes | None = None) -> Reply:
        """One HTTPS request through Caddy from ``source``, the certificate checked against Caddy's root."""
        conn = http.client.HTTPSConnection(SITE, self.https_port, timeout=15)
        conn.sock = self.connect(source)
        try:
            conn.request(method, path, body=body, headers=headers or {})
            response = conn.getresponse()
            return Reply(response.status, response.getheaders(), response.read().decode("utf-8", "replace"))
        finally:
            conn.close()

    def plain_http(self, path: str, source: str, headers: dict[str, str]) -> int:
        """A request to the HTTP port, which only redirects to HTTPS."""
        conn = http.client.HTTPConnection("127.0.0.1", self.http_port, timeout=15, source_address=(source, 0))
        try:
            conn.request("GET", path, headers=headers)
            return conn.getresponse().status
        finally:
            conn.close()


class Browser:
    """A reporter's browser behind one source address: keeps cookies, sends the CSRF token."""

    def __init__(self, caddy: Caddy, source: str, agent: str = "Mozilla/5.0 (test)") -> None:
        self.caddy, self.source, self.agent = caddy, source, agent
        self.cookies: dict[str, str] = {}

    def send(self, method: str, path: str, form: dict[str, str] | None = None,
             headers: dict[str, str] | None = None) -> Reply:
        head = {"User-Agent": self.agent, **(headers or {})}
        if self.cookies:
            head["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form).encode()
            head["Content-Type"] = "application/x-www-form-urlencoded"
        reply = self.caddy.request(method, path, source=self.source, headers=head, body=body)
        for cookie in reply.set_cookies():
            name, _, rest = cookie.partition("=")
            self.cookies[name] = rest.split(";", 1)[0]
        return reply

    def csrf_token(self, path: str) -> str:
        reply = self.send("GET", path)
        match = re.search(r'name="csrf_token" value="([^"]+)"', reply.body)
        assert reply.status == 200 and match, (reply.status, reply.body[:500])
        return match.group(1)


@dataclass
class App:
    port: int
    setup_link: str
    log: Path


@contextmanager
def database_url() -> Iterator[str | None]:
    """None (SQLite in the instance folder), or a PostgreSQL schema of its own when offered."""
    if not PG_URL:
        yield None
        return
    schema = f"tl_caddy_{uuid.uuid4().hex[:10]}"
    admin = create_engine(_pg_url_with_schema(PG_URL, "public"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield _pg_url_with_schema(PG_URL, schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def gunicorn(folder: Path, public_port: int) -> Iterator[App]:
    """`tipline init` in a fresh instance folder, then gunicorn as the deployment runs it."""
    bindir = Path(sys.executable).parent
    port = free_port()
    with database_url() as db_url:
        env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
        # Gunicorn (25.1+) puts a control socket in $XDG_RUNTIME_DIR or ~/.gunicorn: keep it in tmp.
        (folder / "run").mkdir(parents=True, exist_ok=True)
        env.update(TIPLINE_INSTANCE=str(folder / "instance"), TIPLINE_TRUSTED_PROXIES="1", PORT=str(port),
                   WEB_CONCURRENCY="2", HOME=str(folder), XDG_RUNTIME_DIR=str(folder / "run"))
        if db_url:
            env["TIPLINE_DATABASE_URL"] = db_url
        if REDIS_URL:
            env["TIPLINE_REDIS_URL"] = REDIS_URL
        init = subprocess.run([str(bindir / "tipline"), "init", "--base-url", f"https://{SITE}:{public_port}"],
                              cwd=ROOT, env=env, check=True, capture_output=True, text=True)
        match = re.search(r"(https://\S+/console/setup/\S+)", init.stdout)
        assert match, init.stdout
        log = folder / "gunicorn.log"
        with open(log, "wb") as out:
            process = subprocess.Popen([str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                       env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            _poll(lambda: urllib.request.urlopen(f"http://127.0.0.1:{port}/help", timeout=5).status == 200,
                  "gunicorn", process, log)
            yield App(port, match.group(1), log)
        finally:
            _stop(process)


class HeaderEcho:
    """An upstream that answers every GET with the request headers it received, one per line."""

    def __init__(self) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server API
                body = "".join(f"{k}: {v}\n" for k, v in self.headers.items()).encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server API
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port: int = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
