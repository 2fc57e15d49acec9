"""The staff console, under /console. Imports nothing from the reporter side."""

from __future__ import annotations

from flask import Blueprint, Flask, Response, g, render_template, request
from flask_limiter import Limiter
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import SQLAlchemyError

from tipline.security import limit_view
from tipline.weblog import LOGGABLE

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.context_processor
def _police_alarm() -> dict[str, object]:
    """Every console page a signed-in member sees says when a police forward is failing."""
    if g.get("staff") is None:
        return {}
    from tipline import db, worker

    session = db.session()
    try:
        return {"police_alarm": worker.police_alarm(session, db.utcnow())}
    except SQLAlchemyError:
        # The database is failing: the page (or its error page) still renders; the error is
        # already being logged by the view that met it first.
        session.rollback()
        return {}


@bp.after_request
def _access_log(response: Response) -> Response:
    """Only console requests whose URL carries no value may reach the access log: a setup or
    invitation token, a tip id or a list filter never does (see ``tipline.weblog``)."""
    if request.url_rule is not None and not request.view_args and not request.query_string:
        request.environ[LOGGABLE] = True
    return response


@bp.errorhandler(CSRFError)
def _expired(_exc: CSRFError) -> tuple[str, int]:
    return render_template("console/expired.html"), 400


def init_app(app: Flask, limiter: Limiter) -> None:
    from tipline.console import accuracy, auth, disclosures, oncall, team, tips  # noqa: F401  (registers the views on bp)

    app.register_blueprint(bp)
    # Per address (HMAC'd like everywhere else), on top of the per-account lockout.
    limit_view(app, "console.login", limiter.limit("20/minute;200/hour", methods=["POST"]))
