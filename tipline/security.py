"""Response headers, cookies and rate-limit keys that keep reporters anonymous."""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, Response, current_app, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter

from tipline.config import Settings

CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
       "frame-ancestors 'none'; base-uri 'none'")
# A hung limiter store may cost a reporter this long, once; then it is skipped for a while.
LIMITER_SOCKET_TIMEOUT = 0.2


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
    if cookies_secure():
        _mark_cookies_secure(response)
    return response


def cookies_secure() -> bool:
    """Cookies are Secure when the request came over HTTPS (directly or through a trusted proxy)
    or when the deployment says it is always behind HTTPS."""
    settings: Settings = current_app.extensions["tipline.settings"]
    return settings.secure_cookies or (has_request_context() and request.is_secure)


def _mark_cookies_secure(response: Response) -> None:
    # Every cookie any view sets (language, console sign-in), not only the ones set here.
    cookies = response.headers.getlist("Set-Cookie")
    if any(not _has_secure(c) for c in cookies):
        response.headers.setlist("Set-Cookie", [c if _has_secure(c) else c + "; Secure" for c in cookies])


def _has_secure(cookie: str) -> bool:
    return any(part.strip().lower() == "secure" for part in cookie.split(";")[1:])


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie session (which also carries the CSRF token), Secure over HTTPS."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(super().get_cookie_secure(app)) or (has_request_context() and request.is_secure)


@lru_cache(maxsize=4)
def day_key(secret_key: str, day: date) -> bytes:
    """The rate-limit key of one UTC day, derived from the server secret and never stored.

    Counts are kept under HMAC(day key, network): anyone reading the limiter's store sees
    neither the key nor an address, and yesterday's counts cannot be linked to today's.
    """
    hkdf = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"tipline rate-limit day key",
                info=day.isoformat().encode())
    return hkdf.derive(secret_key.encode())


def client_network(address: str | None) -> str:
    """What a limit counts: an IPv4 address, or the /64 an IPv6 host can pick addresses from."""
    try:
        ip = ipaddress.ip_address((address or "").split("%", 1)[0])
    except ValueError:
        return "unknown"
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, 64), strict=False))
    return str(ip)


def address_key() -> str:
    settings: Settings = current_app.extensions["tipline.settings"]
    key = day_key(settings.secret_key, datetime.now(UTC).date())
    return hmac.new(key, client_network(request.remote_addr).encode(), hashlib.sha256).hexdigest()[:32]


def limit_view(app: Flask, endpoint: str, decorator: Any) -> None:
    """Apply a limit to a registered view: the limiter belongs to the app, not the module."""
    app.view_functions[endpoint] = cast(Any, decorator(app.view_functions[endpoint]))


def limiter_storage(settings: Settings) -> tuple[str, dict[str, Any]]:
    """Redis when configured (short timeouts, no retries), else a SQLite file in instance/."""
    if settings.redis_url:
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        return settings.redis_url, {"socket_timeout": LIMITER_SOCKET_TIMEOUT,
                                    "socket_connect_timeout": LIMITER_SOCKET_TIMEOUT,
                                    "retry": Retry(NoBackoff(), 0), "health_check_interval": 0}
    from tipline import rate_store

    settings.instance_path.mkdir(parents=True, exist_ok=True)
    return f"{rate_store.SCHEME}://{settings.instance_path.resolve() / 'limits.db'}", {}


class _NoDetails(logging.Filter):
    """Flask-Limiter logs the limit key (an HMAC of the address) at info level and tracebacks
    on errors; neither may reach a log, hashed or not."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.exc_info, record.exc_text = None, None
        return record.levelno >= logging.WARNING


def init_app(app: Flask, settings: Settings, key_prefix: str = "tipline") -> Limiter:
    limiter_log = logging.getLogger("flask-limiter")
    if not any(isinstance(f, _NoDetails) for f in limiter_log.filters):
        limiter_log.addFilter(_NoDetails())
    uri, options = limiter_storage(settings)
    limiter = Limiter(
        address_key,
        app=app,
        storage_uri=uri,
        storage_options=options,
        # Counts per window, never a time per hit (a moving window keeps one per request).
        strategy="sliding-window-counter",
        key_prefix=key_prefix,
        headers_enabled=False,
        # A limiter outage must not stop a tip; the limits are a nuisance filter. After a
        # failure the limiter counts in memory and retries its store after 1, 2, 4… seconds.
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        enabled=settings.rate_limits,
    )
    app.session_interface = SessionInterface()
    app.after_request(set_headers)
    return limiter
