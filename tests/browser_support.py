"""Helpers for the browser tests: serve a Flask app on a loopback port, launch Debian's Chromium.

Nothing here downloads a browser: CI installs Chromium from the distribution, and a missing
browser is a failure with a clear message, never a skip.
"""

from __future__ import annotations

import http.client
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

CHROMIUM = os.environ.get("TIPLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# A common phone: the width most reporters' screens have.
PHONE_WIDTH, PHONE_HEIGHT, PHONE_SCALE = 390, 844, 2
PHONE: dict[str, Any] = {"viewport": {"width": PHONE_WIDTH, "height": PHONE_HEIGHT}, "is_mobile": True,
                         "has_touch": True, "device_scale_factor": PHONE_SCALE}
READY_SECONDS = 15.0


@contextmanager
def serve(app: Flask) -> Iterator[str]:
    """Serve ``app`` with werkzeug on 127.0.0.1:<free port> in a thread; yield its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="tipline-test-server", daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    try:
        wait_ready(server.server_port, thread)
        yield base
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def wait_ready(port: int, thread: threading.Thread) -> None:
    """Poll until the server answers; fail if its thread dies or it never answers."""
    deadline = time.monotonic() + READY_SECONDS
    last: Exception | None = None
    while time.monotonic() < deadline:
        if not thread.is_alive():
            pytest.fail("the test server thread stopped before it answered")
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        try:
            conn.request("GET", "/help")
            status = conn.getresponse().status
            if status == 200:
                return
            last = RuntimeError(f"GET /help answered {status}")
        except (OSError, http.client.HTTPException) as exc:
            last = exc
        finally:
            conn.close()
        # Paces the poll and notices a crashed server thread at the same time.
        thread.join(timeout=0.05)
    pytest.fail(f"the test server on port {port} did not answer within {READY_SECONDS:.0f} s ({last})")


def require_chromium() -> str:
    """The Chromium binary to drive, or a failed test saying how to get one."""
    path = Path(CHROMIUM)
    if not path.is_file() or not os.access(path, os.X_OK):
        pytest.fail(
            f"Chromium is not installed at {CHROMIUM}: the browser tests need it "
            "(Debian/Ubuntu: `apt-get install chromium`; or set TIPLINE_CHROMIUM to a Chromium binary). "
            "Do not use `playwright install`.",
            pytrace=False,
        )
    return str(path)


def launch(playwright: Any) -> Any:
    executable = require_chromium()
    try:
        return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    except Exception as exc:  # Playwright raises its own Error type for a browser that won't start.
        pytest.fail(f"Chromium at {executable} would not start: {exc}", pytrace=False)
