"""Rate limits: counted across server processes, keyed by a day key that is derived and never
stored, kept as counts rather than hit times, logged nowhere, and never slow when their store is."""

from __future__ import annotations

import hashlib
import hmac
import http.cookiejar
import logging
import os
import re
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pluggy
import pytest
from conftest import REDIS_URL, SECRET
from flask import Flask
from flask.testing import FlaskClient
from helpers import refused_after, submit, token
from outage_support import build_app, hung_server, within
from servers import free_port, wait_http_ready

from tipline.security import address_key, day_key

ROOT = Path(__file__).resolve().parent.parent


def guess(client: FlaskClient, i: int, **environ: str) -> int:
    return client.post("/followup", data={"csrf_token": token(client, "/followup"),
                                          "receipt": f"AAAA-BBBB-CCCC-{i:04d}"},
                       environ_base=environ).status_code


def key_for(network: str, secret: str = SECRET) -> str:
    today = datetime.now(UTC).date()
    return hmac.new(day_key(secret, today), network.encode(), hashlib.sha256).hexdigest()[:32]


def test_day_key_is_derived_from_the_secret_not_stored(app: Flask, config: dict[str, Any],
                                                       pm: pluggy.PluginManager, instance: Path) -> None:
    # Two processes that share nothing but the secret agree on today's key.
    other = build_app(config, pm, instance)
    keys = []
    for application in (app, other):
        with application.test_request_context(environ_base={"REMOTE_ADDR": "198.51.100.7"}):
            keys.append(address_key())
    assert keys[0] == keys[1] == key_for("198.51.100.7")
    other.extensions["tipline.engine"].dispose()


def test_limiter_store_holds_counts_not_hit_times(app: Flask, client: FlaskClient, instance: Path) -> None:
    assert [guess(client, i) for i in range(3)] == [404] * 3
    key = key_for("127.0.0.1")
    if REDIS_URL:
        import redis

        store = redis.Redis.from_url(REDIS_URL)
        prefix = app.extensions["tipline.settings"].extra["limiter_prefix"]
        names = [n.decode() for n in store.scan_iter(match=f"*{prefix}*")]
        assert names and all(key in n for n in names)
        # (Other runs share this Redis, so its other keys are not ours to judge; the day key is
        # derived in each process, see the test above, and only counts are kept here.)
        for name in names:
            assert store.type(name) == b"string", "a count, not a list of hit times"
            assert (store.get(name) or b"").isdigit()
    else:
        with sqlite3.connect(instance / "limits.db") as conn:
            rows = conn.execute("SELECT key, value FROM counts").fetchall()
        assert rows and all(key in k and isinstance(v, int) for k, v in rows)
        assert sum(v for _k, v in rows) == 3 * 3, "three failed guesses counted in each of three limits"


def test_limit_key_never_logged(client: FlaskClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    statuses = [guess(client, i) for i in range(12)]
    assert statuses[-1] == 429
    logged = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert key_for("127.0.0.1") not in logged
    assert not re.search(r"[0-9a-f]{32}", logged), "no limit key, hashed or not"
    assert "127.0.0.1" not in logged


def test_ipv6_counted_by_64(client: FlaskClient) -> None:
    # A phone on IPv6 picks a new address from its /64 at will: all of them count as one.
    refused_after([guess(client, i, REMOTE_ADDR=f"2001:db8:7:9::{i + 1:x}") for i in range(12)]
                  + [guess(client, 12, REMOTE_ADDR="2001:db8:7:9:abcd::1")])
    assert guess(client, 13, REMOTE_ADDR="2001:db8:7:a::1") == 404, "the next /64 is someone else"


@pytest.fixture
def hung_redis() -> Iterator[str]:
    server = hung_server().start()
    yield f"redis://127.0.0.1:{server.port}/0"
    server.close()


def test_hung_redis_costs_a_fraction_of_a_second(hung_redis: str, config: dict[str, Any],
                                                 pm: pluggy.PluginManager, instance: Path) -> None:
    app = build_app(config, pm, instance, redis_url=hung_redis)
    client = app.test_client()
    took = []
    for i in range(4):
        (status, _html), seconds = within(30, lambda i=i: submit(client, message=f"fight after school {i}"))
        assert status == 200
        took.append(seconds)
    (status, seconds) = within(30, lambda: guess(client, 1))
    assert status == 404
    # Generous bounds: the first request pays one short socket timeout, later ones remember it.
    assert took[0] < 2.0, took
    assert max(took[1:] + [seconds]) < 1.0, took
    app.extensions["tipline.engine"].dispose()


# --- across real server processes ---------------------------------------------------------------


def start_server(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    bindir = Path(sys.executable).parent
    with open(log, "wb") as out:
        return subprocess.Popen([str(bindir / "gunicorn"), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                                env=env, stdout=out, stderr=subprocess.STDOUT)


def test_limits_hold_across_processes(tmp_path: Path) -> None:
    """`make run`'s defaults (no Redis): two server processes sharing one instance folder."""
    bindir = Path(sys.executable).parent
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    base_env.update(TIPLINE_INSTANCE=str(tmp_path / "instance"), WEB_CONCURRENCY="1")
    subprocess.run([str(bindir / "tipline"), "init"], cwd=ROOT, env=base_env, check=True, capture_output=True)
    ports = [free_port(), free_port()]
    servers = [start_server({**base_env, "PORT": str(p)}, tmp_path / f"server{p}.log") for p in ports]
    try:
        for port, server in zip(ports, servers, strict=True):
            try:
                wait_http_ready(f"http://127.0.0.1:{port}/help", timeout=120)
            except TimeoutError:
                server.kill()
                raise AssertionError((tmp_path / f"server{port}.log").read_text()) from None
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        page = opener.open(f"http://127.0.0.1:{ports[0]}/followup", timeout=30).read().decode()
        match = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert match
        statuses = []
        for i in range(24):
            body = urllib.parse.urlencode({"csrf_token": match.group(1), "receipt": f"AAAA-BBBB-CCCC-{i:04d}"})
            try:
                # Alternate between the two processes, as a load balancer or the kernel would.
                statuses.append(opener.open(f"http://127.0.0.1:{ports[i % 2]}/followup", body.encode(),
                                            timeout=30).status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
        refused_after(statuses)
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait(timeout=20)
    secret = (tmp_path / "instance" / "secret_key").read_text().strip()
    logged = b"".join(p.read_bytes() for p in tmp_path.glob("server*.log"))
    assert key_for("127.0.0.1", secret).encode() not in logged


def test_limiter_store_failure_falls_back_quickly(app: Flask, client: FlaskClient, instance: Path) -> None:
    """The SQLite limiter store locked by another process: tips still go through at once."""
    if REDIS_URL:
        pytest.skip("the embedded store only")
    assert guess(client, 0) == 404
    holder = sqlite3.connect(instance / "limits.db", isolation_level=None)
    try:
        # Another process holds the write lock: every count must wait for it.
        holder.execute("BEGIN IMMEDIATE")
        start = time.monotonic()
        for i in range(3):
            status, _ = submit(client, message=f"someone is selling vapes in the bathroom {i}")
            assert status == 200
        assert time.monotonic() - start < 5.0
    finally:
        holder.execute("ROLLBACK")
        holder.close()
