"""Rate-limit counts shared by every server process through a small SQLite file in instance/.

The embedded default for `make run`: gunicorn's workers each count on their own with memory
storage, so a limit of 10 a minute became 10 per worker. This file is apart from the tip
database, so counting never waits on (or adds to) the tip database's writes.

Only counts are kept, per key and window, never a time per hit; keys are already HMACs of a
network under the day's key. A locked or broken file raises, and the limiter falls back to
memory for a while (see ``security``): the limits are a nuisance filter, never a reason to
keep a reporter waiting.
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from math import floor
from urllib.parse import urlparse

from limits.storage import SlidingWindowCounterSupport, Storage
from limits.storage.base import TimestampedSlidingWindow

SCHEME = "tipline+sqlite"
# Contention between a handful of processes clears in milliseconds; longer means trouble.
BUSY_TIMEOUT = 0.25
PURGE_EVERY = 60.0


class SQLiteStorage(Storage, SlidingWindowCounterSupport, TimestampedSlidingWindow):
    """A ``limits`` storage: fixed-window counters and sliding-window counters in one table."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **options: float | str | bool) -> None:
        self.path = urlparse(uri or "").path
        if not self.path:
            raise ValueError(f"{SCHEME}: give a file, e.g. {SCHEME}:///srv/tipline/instance/limits.db")
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        self._purged = 0.0
        super().__init__(uri, wrap_exceptions=wrap_exceptions, **options)

    @property
    def base_exceptions(self) -> type[Exception] | tuple[type[Exception], ...]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        # One connection per process: a connection must not cross a fork (gunicorn, the CLI).
        if self._conn is None or self._pid != os.getpid():
            conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA secure_delete=ON")
            conn.execute("CREATE TABLE IF NOT EXISTS counts (key TEXT PRIMARY KEY, value INTEGER NOT NULL, "
                         "expires REAL NOT NULL) WITHOUT ROWID")
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def _incr(self, conn: sqlite3.Connection, key: str, expiry: float, amount: int, now: float) -> int:
        row = conn.execute(
            "INSERT INTO counts (key, value, expires) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET "
            "value = CASE WHEN expires <= ? THEN excluded.value ELSE max(value + excluded.value, 0) END, "
            "expires = CASE WHEN expires <= ? THEN excluded.expires ELSE expires END RETURNING value",
            (key, max(amount, 0), now + expiry, now, now)).fetchone()
        self._purge(conn, now)
        return int(row[0])

    def _get(self, conn: sqlite3.Connection, key: str, now: float) -> tuple[int, float]:
        row = conn.execute("SELECT value, expires FROM counts WHERE key = ? AND expires > ?", (key, now)).fetchone()
        return (int(row[0]), float(row[1])) if row else (0, now)

    def _purge(self, conn: sqlite3.Connection, now: float) -> None:
        if now - self._purged > PURGE_EVERY:
            self._purged = now
            conn.execute("DELETE FROM counts WHERE expires <= ?", (now,))

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        with self._lock:
            return self._incr(self._connection(), key, expiry, amount, time.time())

    def get(self, key: str) -> int:
        with self._lock:
            return self._get(self._connection(), key, time.time())[0]

    def get_expiry(self, key: str) -> float:
        with self._lock:
            return self._get(self._connection(), key, time.time())[1]

    def check(self) -> bool:
        try:
            with self._lock:
                self._connection().execute("SELECT 1").fetchone()
            return True
        except sqlite3.Error:
            return False

    def reset(self) -> int | None:
        with self._lock:
            return self._connection().execute("DELETE FROM counts").rowcount

    def clear(self, key: str) -> None:
        with self._lock:
            self._connection().execute("DELETE FROM counts WHERE key = ?", (key,))

    # --- sliding window counter: this window's count and the last one's, weighted ------------

    def _window(self, conn: sqlite3.Connection, key: str, expiry: int, now: float) -> tuple[int, float, int, float]:
        previous_key, current_key = self.sliding_window_keys(key, expiry, now)
        previous = self._get(conn, previous_key, now)[0]
        current = self._get(conn, current_key, now)[0]
        previous_ttl = 0.0 if previous == 0 else (1 - (((now - expiry) / expiry) % 1)) * expiry
        current_ttl = (1 - ((now / expiry) % 1)) * expiry + expiry
        return previous, previous_ttl, current, current_ttl

    def acquire_sliding_window_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        if amount > limit:
            return False
        with self._lock:
            conn = self._connection()
            now = time.time()
            # One write transaction: two processes cannot both take the last place.
            conn.execute("BEGIN IMMEDIATE")
            try:
                previous, previous_ttl, current, _ = self._window(conn, key, expiry, now)
                allowed = floor(previous * previous_ttl / expiry + current) + amount <= limit
                if allowed:
                    self._incr(conn, self.sliding_window_keys(key, expiry, now)[1], 2 * expiry, amount, now)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            return allowed

    def get_sliding_window(self, key: str, expiry: int) -> tuple[int, float, int, float]:
        with self._lock:
            return self._window(self._connection(), key, expiry, time.time())

    def clear_sliding_window(self, key: str, expiry: int) -> None:
        previous_key, current_key = self.sliding_window_keys(key, expiry, time.time())
        with self._lock:
            self._connection().execute("DELETE FROM counts WHERE key IN (?, ?)", (previous_key, current_key))
