"""Real servers on loopback for delivery tests: an SMTP server (aiosmtpd) and an HTTP server.

Both record what they receive. Readiness is polled (aiosmtpd's controller waits for its own
greeting; the HTTP server is connected to until it answers), never slept on.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

LOOPBACK = "127.0.0.1"
READY_TIMEOUT = 10.0


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOOPBACK, 0))
        port: int = sock.getsockname()[1]
        return port


def wait_listening(port: int, up: bool = True, timeout: float = READY_TIMEOUT) -> None:
    """Poll until something accepts connections on ``port`` (or, with ``up=False``, nothing does)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((LOOPBACK, port), timeout=0.5):
                listening = True
        except OSError:
            listening = False
        if listening == up:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"port {port} did not become {'ready' if up else 'free'} in {timeout}s")


def wait_http_ready(url: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll until ``url`` answers 200: a served app's workers have booted, not just its socket."""
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback test server
                if response.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 in {timeout}s")
        time.sleep(0.05)  # paces the poll; readiness is decided by the answer above


@contextmanager
def served_app(tmp_path: Path, *, workers: int = 1) -> Iterator[tuple[int, Path]]:
    """The server the README runs: `tipline init` on a fresh instance, then gunicorn with the
    project's settings on a free port, answering pages. Yields (port, its log file)."""
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parent.parent
    bindir = Path(sys.executable).parent
    port = free_port()
    env = {**os.environ, "TIPLINE_INSTANCE": str(tmp_path / "instance"), "PORT": str(port),
           "WEB_CONCURRENCY": str(workers)}
    env.pop("TIPLINE_DATABASE_URL", None)
    subprocess.run([str(bindir / "tipline"), "init"], cwd=root, env=env, check=True, capture_output=True)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=root,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            try:
                wait_http_ready(f"http://{LOOPBACK}:{port}/help", timeout=120)
            except TimeoutError:
                raise AssertionError(log_path.read_text()) from None
            yield port, log_path
        finally:
            server.terminate()
            server.wait(timeout=20)


# --- TLS material ---------------------------------------------------------------------------


@dataclass(frozen=True)
class TLSFiles:
    cert: Path
    key: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(str(self.cert), str(self.key))
        return ctx


def self_signed(directory: Path, host: str = LOOPBACK) -> TLSFiles:
    """A throwaway certificate for ``host`` (an IP address SAN), usable as its own CA file."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "tipline-test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5)).not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return TLSFiles(cert_path, key_path)


# --- SMTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mail:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    tls: bool
    login: str | None

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(msg, EmailMessage)
        return msg

    def texts(self) -> list[str]:
        """Every text part, decoded (base64 / quoted-printable undone)."""
        out = []
        for part in self.message.walk():
            if part.get_content_maintype() == "text":
                content = part.get_content()
                out.append(content if isinstance(content, str) else content.decode())
        return out

    def attachments(self) -> list[tuple[str, str, bytes]]:
        out = []
        for part in self.message.iter_attachments():
            data = part.get_payload(decode=True)
            assert isinstance(data, bytes)
            out.append((part.get_filename() or "", part.get_content_type(), data))
        return out


class _Collector:
    def __init__(self, server: SMTPServer) -> None:
        self.server = server

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd API
        login = session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else None
        raw = envelope.original_content or envelope.content
        mail = Mail(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(raw),
                    tls=session.ssl is not None, login=login)
        with self.server.lock:
            self.server.messages.append(mail)
        return "250 Message accepted for delivery"


class SMTPServer:
    """aiosmtpd on a free loopback port. ``users`` turns on AUTH; ``tls`` offers STARTTLS
    (and then requires it)."""

    def __init__(self, users: dict[str, str] | None = None, tls: TLSFiles | None = None) -> None:
        self.port = free_port()
        self.messages: list[Mail] = []
        self.lock = threading.Lock()
        self.users = users
        self.params: dict[str, Any] = {}
        if tls is not None:
            self.params.update(tls_context=tls.server_context(), require_starttls=True)
        if users is not None:
            self.params.update(authenticator=self._authenticate, auth_required=True,
                               auth_require_tls=tls is not None)
        self.controller: Controller | None = None

    def _authenticate(self, server: Any, session: Any, envelope: Any, mechanism: str,
                      auth_data: Any) -> AuthResult:
        ok = (isinstance(auth_data, LoginPassword) and self.users is not None
              and self.users.get(auth_data.login.decode()) == auth_data.password.decode())
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

    def url(self, **query: str) -> str:
        users = self.users or {}
        cred = ""
        if users:
            user, password = next(iter(users.items()))
            cred = f"{user}:{password}@"
        qs = "&".join(f"{k}={v}" for k, v in query.items())
        return f"smtp://{cred}{LOOPBACK}:{self.port}" + (f"?{qs}" if qs else "")

    def start(self) -> SMTPServer:
        """Start (or restart, on the same port): returns once the server has answered a probe."""
        assert self.controller is None, "already running"
        self.controller = Controller(_Collector(self), hostname=LOOPBACK, port=self.port,
                                     ready_timeout=READY_TIMEOUT, **self.params)
        self.controller.start()
        return self

    def stop(self) -> None:
        if self.controller is None:
            return
        self.controller.stop()
        self.controller = None
        wait_listening(self.port, up=False)

    def to(self, address: str) -> list[Mail]:
        with self.lock:
            return [m for m in self.messages if address in m.rcpt_tos]


# --- HTTP -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes

    def header(self, name: str) -> str | None:
        for k, v in self.headers.items():
            if k.lower() == name.lower():
                return v
        return None


@dataclass
class HTTPState:
    status: int = 200
    location: str | None = None
    requests: list[Request] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def _handler(state: HTTPState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:  # noqa: N802 - http.server API
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            with state.lock:
                state.requests.append(Request("POST", self.path, dict(self.headers.items()), body))
                status, location = state.status, state.location
            reply = b'{"ok": true}' if 200 <= status < 300 else b'{"ok": false}'
            self.send_response(status)
            if location:
                self.send_header("Location", location)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - http.server API
            return

    return Handler


class HTTPServer:
    """A threaded HTTP server on loopback that records POSTs. ``status`` switches the answer
    (e.g. 503); ``stop()`` and ``start()`` take it down and bring it back on the same port."""

    def __init__(self) -> None:
        self.state = HTTPState()
        self.port = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def requests(self) -> list[Request]:
        with self.state.lock:
            return list(self.state.requests)

    @property
    def status(self) -> int:
        return self.state.status

    @status.setter
    def status(self, value: int) -> None:
        with self.state.lock:
            self.state.status = value

    def url(self, path: str = "/") -> str:
        return f"http://{LOOPBACK}:{self.port}{path}"

    def start(self) -> HTTPServer:
        assert self._server is None, "already running"
        server = ThreadingHTTPServer((LOOPBACK, self.port), _handler(self.state))
        server.daemon_threads = True
        self.port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()
        wait_listening(self.port)
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        self._server.server_close()
        assert self._thread is not None
        self._thread.join(READY_TIMEOUT)
        self._server = None
        self._thread = None
        wait_listening(self.port, up=False)

    @property
    def running(self) -> bool:
        return self._server is not None
