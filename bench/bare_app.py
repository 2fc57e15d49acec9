"""The floor for bench/submit.py: the least a Flask app can do for the same form, done as the app does it.

GET / renders a form from a file template (compiled once and cached, as the tip line's are)
and puts a random token in Flask's signed session cookie; POST / reads the multipart form a
browser sends, checks the token against the session, and answers with a receipt page from a
file template. No database, sealing or triage: what is left is the cost of Flask, Jinja, a
signed session and gunicorn, which the tip line is compared against.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from flask import Flask, render_template, request, session

app = Flask(__name__, template_folder=str(Path(__file__).resolve().parent / "bare_templates"))
# One key for every worker process, as the tip line reads its own from instance/: a session
# signed by one worker must verify in another. A benchmark's key, never a deployment's.
app.config.update(SECRET_KEY="tipline-bench-floor-" + "0" * 44, SESSION_COOKIE_HTTPONLY=True,
                  SESSION_COOKIE_SAMESITE="Lax")

CATEGORIES = ("threat", "bullying", "bias", "crisis", "other", "unsure")
SCHOOLS = ("outside", "SHS", "BMS", "CMS", "CES", "GFS", "KHS", "LLS", "SES")


def _token() -> str:
    if "token" not in session:
        session["token"] = secrets.token_urlsafe(32)
    token: str = session["token"]
    return token


@app.get("/")
def form() -> str:
    return render_template("form.html", categories=CATEGORIES, schools=SCHOOLS, token=_token())


@app.post("/")
def submit() -> tuple[str, int]:
    message = request.form.get("message", "")
    files = [f for f in request.files.getlist("attachment") if f and f.filename]
    sent = request.form.get("csrf_token", "")
    if not hmac.compare_digest(sent, session.get("token", "")):
        return render_template("form.html", categories=CATEGORIES, schools=SCHOOLS, token=_token()), 400
    if not message.strip() or request.form.get("website"):
        return render_template("form.html", categories=CATEGORIES, schools=SCHOOLS, token=_token()), 400
    size = sum(len(f.read()) for f in files)
    code = "-".join(secrets.token_hex(2).upper() for _ in range(4))
    return render_template("receipt.html", code=code, length=len(message) + size,
                           category=request.form.get("category", "unsure")), 200
