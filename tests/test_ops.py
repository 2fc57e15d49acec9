"""What the served tip line writes and announces: the access log, the Server header, the control
socket, and error logs that name our own line but never a message or a request."""

from __future__ import annotations

import http.cookiejar
import logging
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from console_support import login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from gunicorn.config import Config
from servers import free_port
from sqlalchemy import event

from tipline import keyring
from tipline.weblog import AccessLogger

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Path, Path, Path]]:
    """The app served as `make run` serves it (gunicorn.conf.py), with its own home folder.
    Yields the base URL, the log file, the instance folder and the home folder."""
    home = tmp_path / "home"
    home.mkdir()
    instance = tmp_path / "instance"
    env = {**os.environ, "TIPLINE_INSTANCE": str(instance), "PORT": str(free_port()), "WEB_CONCURRENCY": "1",
           "HOME": str(home)}
    for name in ("TIPLINE_DATABASE_URL", "XDG_RUNTIME_DIR"):
        env.pop(name, None)
    subprocess.run([str(BIN / "tipline"), "init"], cwd=ROOT, env=env, check=True, capture_output=True)
    log_path = tmp_path / "server.log"
    with open(log_path, "wb") as log:
        server = subprocess.Popen([str(BIN / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{env['PORT']}"
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    urllib.request.urlopen(base + "/help", timeout=2).read()
                    break
                except OSError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise AssertionError(log_path.read_text()) from None
                    time.sleep(0.05)  # polling readiness, not waiting for a fixed time
            yield base, log_path, instance, home
        finally:
            server.terminate()
            server.wait(timeout=20)


def test_access_log_has_no_reporter_request_and_no_url_carrying_a_value(
        served: tuple[str, Path, Path, Path]) -> None:
    base, log_path, instance, home = served
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    form = opener.open(base + "/", timeout=10).read().decode()
    fields = dict(re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', form))
    fields.update(message="Someone wrote a threat on the bathroom wall near room 12", category="other",
                  school="SHS", contact="")
    receipt = opener.open(base + "/", data=urllib.parse.urlencode(fields).encode(), timeout=30)
    assert receipt.status == 200 and "receipt" in receipt.read().decode().lower()
    for path in ("/help", "/followup", "/console/login", "/console/login?next=%2Fconsole%2Ftips%2Fabc"):
        with urllib.request.urlopen(base + path, timeout=10) as response:
            assert response.status == 200
    token = keyring.setup_token_path(instance).read_text().strip()
    with opener.open(f"{base}/console/setup/{token}", timeout=10) as response:  # then /console/setup
        assert response.status == 200 and response.url.endswith("/console/setup")
    with pytest.raises(urllib.error.HTTPError):
        urllib.request.urlopen(base + "/console/invite/made-up-token-Z7", timeout=10)
    time.sleep(0)  # nothing to wait for: gunicorn writes the line before the response ends

    lines = [line for line in log_path.read_text().splitlines() if '"' in line]
    # Only console pages whose address carries no value: the login page, once, and the setup
    # page the token redirected to (the token itself never).
    assert [line.split('"')[1] for line in lines] == ["GET /console/login", "GET /console/setup"], lines
    logged = log_path.read_text()
    for needle in ("POST", '"GET /"', "/help", "/followup", token, "made-up-token", "next=", "abc"):
        assert needle not in logged, needle


def test_no_server_banner_and_no_control_socket_in_the_home_folder(served: tuple[str, Path, Path, Path]) -> None:
    base, _log, _instance, home = served
    for path in ("/", "/console/login", "/no-such-page"):
        try:
            response = urllib.request.urlopen(base + path, timeout=10)
        except urllib.error.HTTPError as exc:
            response = exc
        with response:
            assert response.headers.get("Server") is None, path
            assert "gunicorn" not in str(response.headers).lower()
    assert list(home.iterdir()) == [], "nothing is created in the home folder (gunicorn's control socket)"


# --- the access logger itself -------------------------------------------------------------------


class _Response:
    """What gunicorn hands its logger: a status, headers and the bytes sent."""

    def __init__(self, status: str) -> None:
        self.status = status
        self.headers: list[tuple[str, str]] = []
        self.sent = 512


def _logger(tmp_path: Path) -> tuple[AccessLogger, Path]:
    cfg = Config()
    access, errors = tmp_path / "access.log", tmp_path / "error.log"
    cfg.set("accesslog", str(access))
    cfg.set("errorlog", str(errors))
    cfg.set("access_log_format", '%(t)s "%(m)s %(U)s" %(s)s %(B)s')
    return AccessLogger(cfg), access


def _environ(path: str, **extra: Any) -> dict[str, Any]:
    return {"REQUEST_METHOD": "POST", "PATH_INFO": path, "RAW_URI": path, "QUERY_STRING": "",
            "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "203.0.113.9", **extra}


def test_errors_are_kept_without_request_details(tmp_path: Path) -> None:
    logger, access = _logger(tmp_path)
    logger.access(_Response("200 OK"), [], _environ("/"), timedelta(milliseconds=30))
    logger.access(_Response("500 INTERNAL SERVER ERROR"), [], _environ("/followup"), timedelta(seconds=1))
    logger.access(_Response("200 OK"), [], _environ("/console/login", **{"tipline.access_log": True}),
                  timedelta(milliseconds=5))
    logger.warning("Invalid request from ip=203.0.113.9: Invalid HTTP method: 'FOO /?code=ABCD'")
    for handler in (*logger.access_log.handlers, *logger.error_log.handlers):
        handler.flush()
    lines = access.read_text().splitlines()
    assert len(lines) == 2
    assert "server error 500" in lines[0] and "/followup" not in lines[0] and "POST" not in lines[0]
    assert re.search(r"\[\d\d/\w+/\d{4}:\d\d:\d\d [+-]\d{4}\]", lines[0]), "the minute only"
    assert '"POST /console/login" 200' in lines[1]
    errors = (tmp_path / "error.log").read_text()
    assert "Invalid request" in errors and "203.0.113.9" not in errors and "ABCD" not in errors


# --- the application's error log ---------------------------------------------------------------


def test_a_database_error_names_our_line_never_its_message_or_the_request(
        csrf_off: Flask, client: FlaskClient, instance: Path, caplog: pytest.LogCaptureFixture) -> None:
    admin = setup_admin(client, instance)
    assert login(client, admin) == 302
    engine = csrf_off.extensions["tipline.engine"]

    def broken(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> tuple[str, Any]:
        # The database refuses the deliveries page's first query (a table gone missing).
        if "FROM delivery" in statement:
            return "SELECT secret_column_Q17 FROM no_such_table_Q17", params
        return statement, params

    event.listen(engine, "before_cursor_execute", broken, retval=True)
    csrf_off.config["PROPAGATE_EXCEPTIONS"] = False
    caplog.set_level(logging.DEBUG)
    try:
        response = client.get("/console/deliveries?page=2")
    finally:
        event.remove(engine, "before_cursor_execute", broken)
    assert response.status_code == 500
    [line] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("tipline")]
    assert re.search(r"in our code at tipline/console/team\.py:\d+ deliveries", line), line
    assert re.search(r"entered at flask/app\.py:\d+ \w+", line), line
    assert re.search(r"raised at (sqlalchemy|psycopg)/[\w/]+\.py:\d+ \w+", line), line  # the driver's call
    assert "raised at" in line and "Error" in line
    everything = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert "Q17" not in everything, "the error's message is never logged"
    assert "/console/deliveries" not in everything and "page=2" not in everything


def test_the_apps_own_log_lines_are_stamped_to_the_minute(app: Flask) -> None:
    import io

    from tipline.weblog import minute_app_log

    stream = io.StringIO()
    handler = minute_app_log(stream)
    try:
        app.logger.error("error: OperationalError; raised at somewhere")
    finally:
        logging.getLogger("tipline").removeHandler(handler)
    line = stream.getvalue()
    assert re.match(r"\[\d{4}-\d\d-\d\d \d\d:\d\d [+-]\d{4}\] \[ERROR\] tipline\.app: error", line), line
