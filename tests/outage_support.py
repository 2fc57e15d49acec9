"""Misbehaving servers on loopback for the outage tests: a TCP proxy that can be frozen or shut,
and a server that accepts connections and never answers. Never the shared servers themselves."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

LOOPBACK = "127.0.0.1"


class TCPProxy:
    """Forwards loopback connections to ``target``; ``freeze()`` makes it swallow everything
    (it still accepts and reads, so the kernel acknowledges every byte), ``close()`` drops every
    connection and stops listening, so new connections are refused."""

    def __init__(self, target: tuple[str, int] | None) -> None:
        self.target = target
        self.frozen = target is None
        self._listener = socket.create_server((LOOPBACK, 0))
        self.port: int = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._closed = False

    def start(self) -> TCPProxy:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def freeze(self) -> None:
        self.frozen = True

    def close(self) -> None:
        self._closed = True
        with self._lock:
            sockets, self._sockets = self._sockets, []
        for sock in [self._listener, *sockets]:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def _keep(self, sock: socket.socket) -> None:
        with self._lock:
            self._sockets.append(sock)

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            self._keep(client)
            upstream = None
            if not self.frozen and self.target is not None:
                try:
                    upstream = socket.create_connection(self.target, timeout=5)
                    upstream.settimeout(None)
                    self._keep(upstream)
                except OSError:
                    client.close()
                    continue
            threading.Thread(target=self._pump, args=(client, upstream), daemon=True).start()
            if upstream is not None:
                threading.Thread(target=self._pump, args=(upstream, client), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket | None) -> None:
        while True:
            try:
                data = source.recv(65536)
            except OSError:
                return
            if not data:
                if sink is not None:
                    with contextlib.suppress(OSError):
                        sink.shutdown(socket.SHUT_WR)
                return
            if self.frozen or sink is None:
                continue  # swallowed: the other side waits for an answer that never comes
            try:
                sink.sendall(data)
            except OSError:
                return


def hung_server() -> TCPProxy:
    """Accepts connections and reads what is sent, and never answers a byte."""
    return TCPProxy(None)


def within(seconds: float, fn: Callable[[], Any]) -> tuple[Any, float]:
    """Run ``fn`` and return (its result, seconds taken); fail if it has not returned in time.

    The call runs in a thread so a hang fails the test instead of freezing the run; closing the
    misbehaving server afterwards lets the stuck call finish.
    """
    box: dict[str, Any] = {}

    def run() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test below
            box["error"] = exc

    start = time.monotonic()
    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    took = time.monotonic() - start
    assert not thread.is_alive(), f"no answer within {seconds:g} s"
    if "error" in box:
        raise box["error"]
    return box["result"], took


def build_app(config: dict[str, Any], pm: Any, instance: Any, **overrides: Any) -> Any:
    """The app as conftest builds it, with some settings changed (a proxied database, a hung Redis)."""
    from sqlalchemy.orm import Session

    from tipline import keyring
    from tipline import plugins as hooks
    from tipline.app import create_app
    from tipline.config import load_settings
    from tipline.orm import make_engine

    settings = load_settings(environ={}, overrides=dict(config))
    engine = make_engine(settings.database_url)
    with Session(engine) as session, session.begin():
        titles = {k: w.title for k, w in hooks.workflows(pm).items()}
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, settings.district, titles, instance, settings.dispatch_key_path)
    engine.dispose()
    app = create_app(plugin_manager=pm, settings=load_settings(environ={}, overrides={**config, **overrides}))
    app.config.update(TESTING=True)
    return app
