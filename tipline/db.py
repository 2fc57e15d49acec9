"""The request's database session: one engine and sessionmaker per app, a session per request."""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy.orm import Session, sessionmaker

from tipline.orm import STATEMENT_TIMEOUT, make_engine, to_minute, utcnow

__all__ = ["init_app", "session", "to_minute", "utcnow"]


def init_app(app: Flask, url: str) -> None:
    engine = make_engine(url, statement_timeout=STATEMENT_TIMEOUT)
    app.extensions["tipline.engine"] = engine
    app.extensions["tipline.sessionmaker"] = sessionmaker(engine, expire_on_commit=False)

    @app.teardown_appcontext
    def _close(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.close()


def session() -> Session:
    """The request's session, opened on first use and closed at teardown."""
    if "db_session" not in g:
        from flask import current_app

        g.db_session = current_app.extensions["tipline.sessionmaker"]()
    s: Session = g.db_session
    return s
