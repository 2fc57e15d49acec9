"""The staff console (blueprint under /console)."""

from __future__ import annotations

from flask import Blueprint, Flask
from flask_limiter import Limiter

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.get("/login")
def login() -> tuple[str, int]:
    return "Staff console: coming soon", 200


def init_app(app: Flask, limiter: Limiter) -> None:
    app.register_blueprint(bp)
