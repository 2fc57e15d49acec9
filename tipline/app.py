"""The app factory: settings, plugins, database, limiter and the two audiences' blueprints."""

from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any

import pluggy
from flask import Flask

from tipline import db, forms, packaged, security
from tipline import plugins as hooks
from tipline.config import ConfigError, Settings, channel_problems, load_settings


def create_app(test_config: dict[str, Any] | None = None, plugin_manager: pluggy.PluginManager | None = None,
               settings: Settings | None = None) -> Flask:
    """Build the app. ``test_config`` overrides settings; ``plugin_manager`` is injected in tests."""
    settings = settings or load_settings(overrides=test_config)
    app = Flask(__name__, template_folder=str(packaged.resource_dir("templates")),
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
    # Config loading knows no plugins: an endpoint nothing can send is refused here, at start.
    unsendable = channel_problems(settings.district, hooks.delivery_channels(pm))
    if unsendable:
        raise ConfigError(unsendable)
    app.extensions["tipline.pm"] = pm
    app.extensions["tipline.workflows"] = hooks.workflows(pm)
    _quiet_logs()
    _log_exception_without_values(app)

    from flask_wtf.csrf import CSRFProtect

    CSRFProtect(app)
    db.init_app(app, settings.database_url)
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the hops we were told about: the client address and scheme come from the
        # proxies' own headers, and everything further left is the client's to forge.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies,  # type: ignore[method-assign]
                                x_proto=settings.trusted_proxies)
    limiter = security.init_app(app, settings, key_prefix=str(settings.extra.get("limiter_prefix", "tipline")))
    app.extensions["tipline.limiter"] = limiter

    from tipline import reporter

    reporter.init_app(app, limiter)
    from tipline import console

    console.init_app(app, limiter)
    return app


def _log_exception_without_values(app: Flask) -> None:
    """Log where an error happened, never its message (messages can quote what was sent) nor
    the request (its path can hold a token, and a reporter's request must not be dated): the
    frame that raised, the deepest frame of our own code (tipline/ or plugins/), and the
    outermost, so a database error still names the line of ours that ran it."""

    def log_exception(exc_info: Any) -> None:
        kind, _value, tb = exc_info
        frames = traceback.extract_tb(tb)
        app.logger.error("error: %s; %s", getattr(kind, "__name__", "error"), where(frames))

    app.log_exception = log_exception  # type: ignore[method-assign]


PROJECT_DIRS = (Path(__file__).resolve().parent, Path(__file__).resolve().parent.parent / "plugins")


def _ours(frame: traceback.FrameSummary) -> bool:
    path = Path(frame.filename).resolve()
    return any(path.is_relative_to(top) for top in PROJECT_DIRS)


def _frame(frame: traceback.FrameSummary) -> str:
    path = Path(frame.filename).resolve()
    for top in PROJECT_DIRS:
        if path.is_relative_to(top):
            return f"{top.name}/{path.relative_to(top).as_posix()}:{frame.lineno} {frame.name}"
    parts = path.parts
    for marker in ("site-packages", "dist-packages"):
        if marker in parts:
            parts = parts[len(parts) - parts[::-1].index(marker):]
            break
    else:
        parts = parts[-2:]
    return f"{'/'.join(parts)}:{frame.lineno} {frame.name}"


def where(frames: list[traceback.FrameSummary]) -> str:
    """``raised at X; in our code at Y; entered at Z``: file:line function, innermost first."""
    if not frames:
        return "an unknown place"
    ours = [f for f in frames if _ours(f)]
    parts = [f"raised at {_frame(frames[-1])}"]
    if ours and ours[-1] is not frames[-1]:
        parts.append(f"in our code at {_frame(ours[-1])}")
    if len(frames) > 1:
        parts.append(f"entered at {_frame(frames[0])}")
    return "; ".join(parts)


def _quiet_logs() -> None:
    # Werkzeug's request log starts with the client address: never let it out.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

