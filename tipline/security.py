"""Response headers and rate-limit keys that keep reporters anonymous."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from datetime import UTC, datetime
from typing import Any, cast

from flask import Flask, Response, current_app, request
from flask_limiter import Limiter

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")


def set_headers(response: Response) -> Response:
    h = response.headers
    h["Content-Security-Policy"] = CSP
    h["Referrer-Policy"] = "no-referrer"
    h["X-Content-Type-Options"] = "nosniff"
    h["X-Frame-Options"] = "DENY"
    h["Cross-Origin-Opener-Policy"] = "same-origin"
    h["Cross-Origin-Resource-Policy"] = "same-origin"
    h["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(), interest-cohort=()"
    # Nothing a reporter or staff member sees belongs in a shared phone's or proxy's cache.
    if not request.path.startswith("/static/"):
        h["Cache-Control"] = "no-store"
        h["Pragma"] = "no-cache"
    if request.is_secure:
        h["Strict-Transport-Security"] = "max-age=63072000; includeSubDomains"
    return response


class DailySecret:
    """A secret that changes each UTC day, shared through Redis when configured.

    Rate limits count by HMAC(secret, address): the address itself is never kept, and
    yesterday's counts cannot be linked to today's.
    """

    def __init__(self, redis_url: str | None) -> None:
        self._lock = threading.Lock()
        self._cache: tuple[str, bytes] | None = None
        self._redis = None
        if redis_url:
            import redis

            self._redis = redis.Redis.from_url(redis_url)

    def today(self) -> bytes:
        day = datetime.now(UTC).strftime("%Y-%m-%d")
        cached = self._cache
        if cached and cached[0] == day:
            return cached[1]
        with self._lock:
            value = secrets.token_bytes(32)
            if self._redis is not None:
                name = f"tipline:rate-secret:{day}"
                self._redis.set(name, value, nx=True, ex=2 * 86400)
                stored = self._redis.get(name)
                value = stored if isinstance(stored, bytes) else value
            self._cache = (day, value)
            return value


def address_key() -> str:
    secret: DailySecret = current_app.extensions["tipline.daily_secret"]
    addr = (request.remote_addr or "unknown").encode()
    return hmac.new(secret.today(), addr, hashlib.sha256).hexdigest()[:32]


def limit_view(app: Flask, endpoint: str, decorator: Any) -> None:
    """Apply a limit to a registered view: the limiter belongs to the app, not the module."""
    app.view_functions[endpoint] = cast(Any, decorator(app.view_functions[endpoint]))


def init_app(app: Flask, redis_url: str | None, key_prefix: str = "tipline", enabled: bool = True) -> Limiter:
    app.extensions["tipline.daily_secret"] = DailySecret(redis_url)
    limiter = Limiter(
        address_key,
        app=app,
        storage_uri=redis_url or "memory://",
        strategy="moving-window",
        key_prefix=key_prefix,
        headers_enabled=False,
        # A limiter outage must not stop a tip; the limits are a nuisance filter.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=enabled,
    )
    app.after_request(set_headers)
    return limiter
