"""The staff console, under /console. Imports nothing from the reporter side."""

from __future__ import annotations

from flask import Blueprint, Flask, render_template
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError

from tipline.security import limit_view

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.errorhandler(CSRFError)
def _expired(_exc: CSRFError) -> tuple[str, int]:
    return render_template("console/expired.html"), 400


def init_app(app: Flask, limiter: Limiter) -> None:
    from tipline.console import auth, disclosures, team, tips  # noqa: F401  (registers the views on bp)

    app.register_blueprint(bp)
    # Per address (HMAC'd like everywhere else), on top of the per-account lockout.
    limit_view(app, "console.login", limiter.limit("20/minute;200/hour", methods=["POST"]))
