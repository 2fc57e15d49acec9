"""Malformed chunked bodies on the reporter's pages, through the server the README runs."""

from __future__ import annotations

from pathlib import Path

from servers import served_app
from test_console_errors import _raw_post

BROKEN = (b"zz\r\nmessage=a\r\n0\r\n\r\n", b"5\r\nmessage=abcdef\r\n0\r\n\r\n", b"40\r\nmessage=a",
          b"3;x=\"\r\nabc\r\n0\r\n\r\n")


def test_reporter_pages_answer_a_broken_body_with_a_clear_400(tmp_path: Path) -> None:
    with served_app(tmp_path) as (port, log_path):
        for path in ("/", "/followup"):
            for body in BROKEN:
                answer = _raw_post(port, path, body)
                assert answer.split(b"\r\n", 1)[0].startswith(b"HTTP/1.1 400"), (path, body, answer[:300])
                assert b"arrived broken, so nothing was stored" in answer, answer[:300]
    assert b"ERROR in app" not in log_path.read_bytes()
