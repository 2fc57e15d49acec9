"""The declarative base, its naming conventions, UTC times and engines: no Flask here."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every backend (SQLite keeps no zone)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_minute(moment: datetime) -> datetime:
    """Stored times keep minute precision so they cannot be matched to an access log."""
    return moment.replace(second=0, microsecond=0)


# A reporter must hear back within 10 seconds even when the database is frozen: at most
# CONNECT_TIMEOUT to (re)connect plus STATEMENT_TIMEOUT for the statement that hangs.
CONNECT_TIMEOUT = 3
STATEMENT_TIMEOUT = 4.0
# Background jobs (worker, purge, migrations, benchmarks) may wait longer for SQLite's lock.
SQLITE_BUSY_TIMEOUT = 30


def make_engine(url: str, *, statement_timeout: float | None = None, **kwargs: Any) -> Engine:
    """An engine with connect timeouts; ``statement_timeout`` (seconds) also bounds each statement.

    The web app passes ``STATEMENT_TIMEOUT``; long jobs leave it unset.
    """
    if url.startswith("sqlite"):
        busy = statement_timeout if statement_timeout is not None else SQLITE_BUSY_TIMEOUT
        engine = create_engine(url, connect_args={"timeout": busy}, **kwargs)

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_conn: Any, _record: Any) -> None:
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            # Deleted tips are overwritten on disk, not left in free pages.
            cur.execute("PRAGMA secure_delete=ON")
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        if statement_timeout is not None:
            _sqlite_statement_deadline(engine, statement_timeout)
        return engine
    if url.startswith("postgresql"):
        kwargs["connect_args"] = {**_pg_timeouts(url, statement_timeout), **kwargs.get("connect_args", {})}
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
        if statement_timeout is not None:
            _pg_client_deadline(engine, statement_timeout)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_statement_deadline(engine: Engine, seconds: float) -> None:
    """Interrupt a statement still running after ``seconds`` (the busy timeout covers lock waits)."""

    @event.listens_for(engine, "connect")
    def _watch(dbapi_conn: Any, record: Any) -> None:
        info = record.info

        def overdue() -> int:
            deadline = info.get("deadline")
            return 1 if deadline is not None and time.monotonic() > deadline else 0

        # Checked every 10,000 virtual-machine steps: cheap, and often enough to stop in time.
        dbapi_conn.set_progress_handler(overdue, 10_000)

    @event.listens_for(engine, "before_cursor_execute")
    def _start(conn: Any, *_args: Any) -> None:
        conn.connection.info["deadline"] = time.monotonic() + seconds

    # Cleared after each statement, failed ones too, so COMMIT never meets an old deadline.
    @event.listens_for(engine, "after_cursor_execute")
    def _stop(conn: Any, *_args: Any) -> None:
        conn.connection.info.pop("deadline", None)

    @event.listens_for(engine, "handle_error")
    def _failed(context: Any) -> None:
        if context.connection is not None and not context.connection.invalidated:
            context.connection.connection.info.pop("deadline", None)


def _pg_timeouts(url: str, statement_timeout: float | None) -> dict[str, Any]:
    args: dict[str, Any] = {
        "connect_timeout": CONNECT_TIMEOUT,
        # A vanished server or network is noticed by the kernel, not after two hours.
        "keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 3, "keepalives_count": 3,
    }
    if statement_timeout is not None:
        ms = int(statement_timeout * 1000)
        args["tcp_user_timeout"] = ms
        # The server gives up a little before the client stops waiting, so a slow query
        # ends with a clean error and the connection stays usable.
        ours = (f"-c statement_timeout={ms * 9 // 10} -c lock_timeout={ms * 3 // 4} "
                f"-c idle_in_transaction_session_timeout={max(ms * 15, 60_000)}")
        # Options given in the URL (a search_path, say) are kept: connect_args would replace them.
        given = make_url(url).query.get("options")
        given_text = " ".join(given) if isinstance(given, tuple) else (given or "")
        args["options"] = f"{given_text} {ours}".strip()
    return args


def _pg_client_deadline(engine: Engine, seconds: float) -> None:
    """Connect through a connection class that stops waiting for a server that never answers.

    The server's own statement_timeout cannot help when nothing reaches it (a stuck pooler or
    proxy that accepts and never forwards); this bounds every wait, the pool's ping included.
    """
    import psycopg

    timeout_error: type[BaseException] = getattr(psycopg.errors, "_WaitTimeout", psycopg.errors.OperationalError)

    class AnsweringConnection(psycopg.Connection[Any]):
        def wait(self, gen: Any, interval: float = 0.1, timeout: float | None = None) -> Any:
            try:
                return super().wait(gen, interval=interval, timeout=seconds if timeout is None else timeout)
            except timeout_error:
                # The protocol is mid-message: the connection cannot be reused, so close it and
                # let the pool throw it away (closed connections count as disconnects).
                self.pgconn.finish()
                raise psycopg.errors.OperationalError(
                    f"the database did not answer within {seconds:g} seconds") from None

    @event.listens_for(engine, "do_connect")
    def _connect(_dialect: Any, _record: Any, cargs: Any, cparams: Any) -> Any:
        return AnsweringConnection.connect(*cargs, **cparams)
