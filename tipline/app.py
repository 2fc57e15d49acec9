"""The app factory: settings, plugins, database, limiter and the two audiences' blueprints."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pluggy
from flask import Flask

from tipline import db, forms, security
from tipline import plugins as hooks
from tipline.config import Settings, load_settings

ROOT = Path(__file__).resolve().parent.parent


def create_app(test_config: dict[str, Any] | None = None, plugin_manager: pluggy.PluginManager | None = None,
               settings: Settings | None = None) -> Flask:
    """Build the app. ``test_config`` overrides settings; ``plugin_manager`` is injected in tests."""
    settings = settings or load_settings(overrides=test_config)
    app = Flask(__name__, template_folder=str(ROOT / "templates"),
                static_folder=str(Path(__file__).parent / "static"),
                instance_path=str(settings.instance_path))
    app.config.update(
        SECRET_KEY=settings.secret_key,
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        MAX_FORM_MEMORY_SIZE=forms.MAX_FORM_MEMORY,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.secure_cookies,
        SESSION_COOKIE_NAME="tl",
        # A stressed reporter may take a long time to write; the form keeps their words anyway.
        WTF_CSRF_TIME_LIMIT=6 * 3600,
        WTF_CSRF_SSL_STRICT=False,
    )
    app.request_class = forms.TiplineRequest
    app.extensions["tipline.settings"] = settings
    pm = plugin_manager or hooks.make_manager(settings.plugins)
    app.extensions["tipline.pm"] = pm
    app.extensions["tipline.workflows"] = hooks.workflows(pm)
    _quiet_logs()
    _log_exception_without_values(app)

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    db.init_app(app, settings.database_url)
    limiter = security.init_app(app, settings.redis_url,
                                key_prefix=str(settings.extra.get("limiter_prefix", "tipline")),
                                enabled=settings.rate_limits)
    app.extensions["tipline.limiter"] = limiter

    from tipline import reporter

    reporter.init_app(app, limiter)
    from tipline import console

    console.init_app(app, limiter)
    return app


def _log_exception_without_values(app: Flask) -> None:
    """Log where an error happened, never its message: messages can quote what was sent."""

    def log_exception(exc_info: Any) -> None:
        from flask import request

        kind, _value, tb = exc_info
        frames = " < ".join(f"{f.filename.rsplit('/', 1)[-1]}:{f.lineno} {f.name}"
                            for f in reversed(traceback.extract_tb(tb)[-6:]))
        app.logger.error("error on %s [%s]: %s at %s", request.path, request.method,
                         getattr(kind, "__name__", "error"), frames)

    app.log_exception = log_exception  # type: ignore[method-assign]


def _quiet_logs() -> None:
    # Werkzeug's request log starts with the client address: never let it out.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

