"""A database that is down, read-only, full or frozen: every reporter gets the designed 503 page
(their words kept, the files to attach again named, "nothing was stored"), within 10 seconds."""

from __future__ import annotations

import io
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from conftest import PG_URL
from flask import Flask
from flask.testing import FlaskClient
from helpers import png, receipt_of, submit, token
from outage_support import TCPProxy, build_app, within
from sqlalchemy import event, func, make_url, select
from sqlalchemy.orm import Session

from tipline.models import Message, Tip
from tipline.orm import make_engine

WORDS = "Marcus said he will bring a knife to the bus stop tomorrow, please help"
REPLY = "It is the blue backpack, he showed it at lunch today"
# The bound: a frozen database answers the reporter within 10 seconds.
ANSWER_WITHIN = 10.0
FILES = [(png(), "screenshot-of-chat.png")]
# Every real form carries a one-time submission nonce; the failure path used to look it up.
NONCE = "Zq3" + "n" * 29


def count(db_url: str, model: Any) -> int:
    engine = make_engine(db_url)
    try:
        with Session(engine) as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)
    finally:
        engine.dispose()


def assert_designed_503(status: int, html: str, words: str, file_name: str | None = None) -> None:
    assert status == 503, html[:2000]
    assert "nothing was stored" in html.lower() or "Nothing was stored" in html
    assert words in html, "the reporter's words are still on the page"
    if file_name:
        assert "attach them again" in html and file_name in html, "the files to attach again are named"
    assert "Something went wrong" not in html


def reply(client: FlaskClient, code: str, message: str = REPLY,
          files: list[tuple[bytes, str]] | None = None) -> tuple[int, str]:
    data: dict[str, Any] = {"csrf_token": token(client, "/followup"), "receipt": code, "action": "reply",
                            "message": message, "submission": "n" * 30}
    if files:
        data["attachment"] = [(io.BytesIO(content), name) for content, name in files]
    r = client.post("/followup", data=data, content_type="multipart/form-data")
    return r.status_code, r.get_data(as_text=True)


def open_tip(client: FlaskClient, code: str) -> tuple[int, str]:
    r = client.post("/followup", data={"csrf_token": token(client, "/followup"), "receipt": code})
    return r.status_code, r.get_data(as_text=True)


def break_connections(app: Flask, *pragmas: str) -> None:
    """Every new connection of the app runs ``pragmas``; the pool starts afresh."""
    engine = app.extensions["tipline.engine"]

    @event.listens_for(engine, "connect")
    def _apply(dbapi_conn: Any, _record: Any) -> None:
        for pragma in pragmas:
            dbapi_conn.execute(pragma)

    engine.dispose()


def sqlite_path(db_url: str) -> str:
    return db_url.removeprefix("sqlite:///")


@pytest.fixture
def sqlite_only() -> None:
    if PG_URL:
        pytest.skip("a SQLite failure; the PostgreSQL ones are below")


def test_sqlite_read_only(sqlite_only: None, app: Flask, client: FlaskClient, db_url: str) -> None:
    status, html = submit(client, message="an earlier tip")
    code = receipt_of(html)
    # SQLite's own read-only state (SQLITE_READONLY), on every connection the app opens.
    break_connections(app, "PRAGMA query_only = ON")

    status, html = submit(client, message=WORDS, files=FILES, submission=NONCE)
    assert_designed_503(status, html, WORDS, "screenshot-of-chat.png")
    status, html = reply(client, code, files=FILES)
    assert_designed_503(status, html, REPLY, "screenshot-of-chat.png")
    assert code in html, "the receipt code is kept for the next press"
    assert count(db_url, Tip) == 1 and count(db_url, Message) == 0


def test_sqlite_disk_full(sqlite_only: None, app: Flask, client: FlaskClient, db_url: str) -> None:
    status, html = submit(client, message="an earlier tip")
    code = receipt_of(html)
    with sqlite3.connect(sqlite_path(db_url)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
    # The file may not grow by a single page: SQLITE_FULL, as on a full disk.
    break_connections(app, f"PRAGMA max_page_count = {pages}")

    long_words = WORDS + " " + "x" * 9000
    status, html = submit(client, message=long_words, files=FILES, submission=NONCE)
    assert_designed_503(status, html, long_words, "screenshot-of-chat.png")
    status, html = reply(client, code, message=REPLY + " " + "y" * 9000, files=FILES)
    assert_designed_503(status, html, REPLY, "screenshot-of-chat.png")
    assert count(db_url, Tip) == 1 and count(db_url, Message) == 0


def test_sqlite_frozen_by_a_lock(sqlite_only: None, app: Flask, client: FlaskClient, db_url: str) -> None:
    status, html = submit(client, message="an earlier tip")
    code = receipt_of(html)
    app.extensions["tipline.engine"].dispose()
    token_page = token(client)
    # Another process holds the whole file: not even readers get in.
    holder = sqlite3.connect(sqlite_path(db_url), isolation_level=None)
    try:
        holder.execute("PRAGMA locking_mode = EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("CREATE TABLE held_by_another_process (x INTEGER)")
        data = {"csrf_token": token_page, "message": WORDS, "category": "threat", "school": "SHS",
                "attachment": [(io.BytesIO(FILES[0][0]), FILES[0][1])], "submission": NONCE}
        response, took = within(2 * ANSWER_WITHIN, lambda: client.post("/", data=data,
                                                                        content_type="multipart/form-data"))
        assert_designed_503(response.status_code, response.get_data(as_text=True), WORDS,
                            "screenshot-of-chat.png")
        assert took < ANSWER_WITHIN, f"answered after {took:.1f} s"
        (status, html), took = within(2 * ANSWER_WITHIN, lambda: open_tip(client, code))
        assert status == 503 and "Nothing was stored" in html and code in html
        assert took < ANSWER_WITHIN, f"answered after {took:.1f} s"
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert count(db_url, Tip) == 1


# --- PostgreSQL: through a loopback proxy that we can shut or freeze -----------------------------


@pytest.fixture
def pg_proxy() -> Iterator[TCPProxy]:
    if not PG_URL:
        pytest.skip("set TIPLINE_TEST_DATABASE_URL to run the PostgreSQL outage tests")
    url = make_url(PG_URL)
    proxy = TCPProxy((url.host or "127.0.0.1", url.port or 5432)).start()
    yield proxy
    proxy.close()


@pytest.fixture
def proxied_app(pg_proxy: TCPProxy, config: dict[str, Any], pm: pluggy.PluginManager,
                instance: Path) -> Iterator[Flask]:
    """The app as usual, but its database connections go through the proxy."""
    proxied = re.sub(r"@[^/]+/", f"@127.0.0.1:{pg_proxy.port}/", str(config["database_url"]), count=1)
    application = build_app(config, pm, instance, database_url=proxied)
    yield application
    pg_proxy.close()  # lets any call still waiting on a frozen connection end
    application.extensions["tipline.engine"].dispose()


def test_postgresql_refusing_connections_mid_session(proxied_app: Flask, pg_proxy: TCPProxy, db_url: str) -> None:
    client = proxied_app.test_client()
    status, html = submit(client, message="an earlier tip")
    assert status == 200
    code = receipt_of(html)
    assert open_tip(client, code)[0] == 200, "the pool holds a live connection now"

    pg_proxy.close()  # the server goes away: live connections drop, new ones are refused

    status, html = submit(client, message=WORDS, files=FILES, submission=NONCE)
    assert_designed_503(status, html, WORDS, "screenshot-of-chat.png")
    status, html = open_tip(client, code)
    assert status == 503 and "Nothing was stored" in html and code in html
    status, html = reply(client, code, files=FILES)
    assert_designed_503(status, html, REPLY, "screenshot-of-chat.png")
    assert count(db_url, Tip) == 1 and count(db_url, Message) == 0


def test_postgresql_frozen_mid_session(proxied_app: Flask, pg_proxy: TCPProxy, db_url: str) -> None:
    client = proxied_app.test_client()
    status, html = submit(client, message="an earlier tip")
    code = receipt_of(html)
    csrf = token(client)

    pg_proxy.freeze()  # connections stay open, and nothing comes back

    data = {"csrf_token": csrf, "message": WORDS, "category": "threat", "school": "SHS",
            "attachment": [(io.BytesIO(FILES[0][0]), FILES[0][1])], "submission": NONCE}
    response, took = within(3 * ANSWER_WITHIN, lambda: client.post("/", data=data,
                                                                   content_type="multipart/form-data"))
    assert_designed_503(response.status_code, response.get_data(as_text=True), WORDS, "screenshot-of-chat.png")
    assert took < ANSWER_WITHIN, f"answered after {took:.1f} s"
    (status, html), took = within(3 * ANSWER_WITHIN, lambda: open_tip(client, code))
    assert status == 503 and "Nothing was stored" in html
    assert took < ANSWER_WITHIN, f"answered after {took:.1f} s"
    assert count(db_url, Tip) == 1
