"""Shared fixtures: a real database (SQLite by default, PostgreSQL when offered), a real
limiter store (memory, or Redis when offered), and a fresh instance folder per test."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pluggy
import pytest
from flask import Flask
from flask.testing import FlaskClient
from servers import HTTPServer, SMTPServer
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from tipline import keyring, migrate
from tipline import plugins as hooks
from tipline.app import create_app
from tipline.config import load_settings
from tipline.orm import Base, make_engine

PG_URL = os.environ.get("TIPLINE_TEST_DATABASE_URL")
REDIS_URL = os.environ.get("TIPLINE_TEST_REDIS_URL")
SECRET = "test-secret-key-" + "x" * 40


def _pg_url_with_schema(url: str, schema: str) -> str:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options=-csearch_path%3D{schema}"


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database migrated once per session: a SQLite file to copy, or a PostgreSQL schema."""
    if PG_URL:
        schema = f"tl_test_{uuid.uuid4().hex[:10]}"
        admin = create_engine(_pg_url_with_schema(PG_URL, "public"))
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _pg_url_with_schema(PG_URL, schema)
        migrate.upgrade(url)
        yield url
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        migrate.upgrade(f"sqlite:///{path}")
        yield str(path)


@pytest.fixture
def db_url(migrated_template: str, tmp_path: Path) -> str:
    if PG_URL:
        engine = create_engine(migrated_template)
        tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
        with engine.begin() as conn:
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_template
    target = tmp_path / "tipline.db"
    shutil.copy(migrated_template, target)
    return f"sqlite:///{target}"


@pytest.fixture
def pm() -> pluggy.PluginManager:
    only = os.environ.get("TIPLINE_PLUGINS")
    return hooks.make_manager(tuple(only.split(",")) if only else None)


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    path = tmp_path / "instance"
    path.mkdir()
    return path


@pytest.fixture
def config(db_url: str, instance: Path) -> dict[str, Any]:
    return {
        "database_url": db_url,
        "instance_path": str(instance),
        "secret_key": SECRET,
        "redis_url": REDIS_URL,
        "limiter_prefix": f"tl-test-{uuid.uuid4().hex[:8]}",
    }


@pytest.fixture
def app(config: dict[str, Any], pm: pluggy.PluginManager, instance: Path) -> Iterator[Flask]:
    settings = load_settings(environ={}, overrides=dict(config))
    engine = make_engine(settings.database_url)
    with sessionmaker(engine)() as session, session.begin():
        titles = {k: w.title for k, w in hooks.workflows(pm).items()}
        assert settings.dispatch_key_path is not None
        keyring.ensure_inboxes(session, settings.district, titles, instance, settings.dispatch_key_path)
    engine.dispose()
    application = create_app(plugin_manager=pm, settings=settings)
    application.config.update(TESTING=True)
    yield application
    application.extensions["tipline.engine"].dispose()


@pytest.fixture
def csrf_off(app: Flask) -> Flask:
    app.config["WTF_CSRF_ENABLED"] = False
    return app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db(app: Flask) -> Iterator[Session]:
    with app.extensions["tipline.sessionmaker"]() as session:
        yield session


@pytest.fixture
def smtp_server() -> Iterator[SMTPServer]:
    """A real SMTP server (aiosmtpd) on a free loopback port."""
    server = SMTPServer().start()
    yield server
    server.stop()


@pytest.fixture
def http_server() -> Iterator[HTTPServer]:
    """A real HTTP server on a free loopback port that records what it receives."""
    server = HTTPServer().start()
    yield server
    server.stop()


def csrf_token(client: FlaskClient, path: str = "/") -> str:
    import re

    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "form has a CSRF token"
    return match.group(1)
