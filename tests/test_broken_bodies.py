"""Malformed chunked bodies on the reporter's pages, through the server the README runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from servers import free_port, wait_http_ready
from test_console_errors import _raw_post

ROOT = Path(__file__).resolve().parent.parent
BROKEN = (b"zz\r\nmessage=a\r\n0\r\n\r\n", b"5\r\nmessage=abcdef\r\n0\r\n\r\n", b"40\r\nmessage=a",
          b"3;x=\"\r\nabc\r\n0\r\n\r\n")


def test_reporter_pages_answer_a_broken_body_with_a_clear_400(tmp_path: Path) -> None:
    bindir = Path(sys.executable).parent
    port = free_port()
    env = {**os.environ, "TIPLINE_INSTANCE": str(tmp_path / "instance"), "PORT": str(port),
           "WEB_CONCURRENCY": "1"}
    env.pop("TIPLINE_DATABASE_URL", None)
    subprocess.run([str(bindir / "tipline"), "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                  env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_http_ready(f"http://127.0.0.1:{port}/help", timeout=120)
            for path in ("/", "/followup"):
                for body in BROKEN:
                    answer = _raw_post(port, path, body)
                    assert answer.split(b"\r\n", 1)[0].startswith(b"HTTP/1.1 400"), (path, body, answer[:300])
                    assert b"arrived broken, so nothing was stored" in answer, answer[:300]
        finally:
            server.terminate()
            server.wait(timeout=20)
    assert b"ERROR in app" not in log_path.read_bytes()
