"""The baseline for bench/submit.py: the least a Flask app can do for the same form.

GET / renders a form with the tip line's fields; POST / reads them (multipart, like a browser
sends) and answers with a receipt page. No CSRF, database, sealing or triage: what is left is
the cost of Flask, Jinja and gunicorn, which the tip line is compared against.
"""

from __future__ import annotations

import secrets

from flask import Flask, render_template_string, request

app = Flask(__name__)

FORM = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Send a tip</title></head><body>
<p>In an emergency call 911 · 988</p>
<form method="post" action="/" enctype="multipart/form-data">
{% for key in categories %}<label><input type="radio" name="category" value="{{ key }}"> {{ key }}</label>{% endfor %}
<select name="school">{% for code in schools %}<option value="{{ code }}">{{ code }}</option>{% endfor %}</select>
<textarea name="message"></textarea>
<input type="file" name="attachment" multiple>
<input type="text" name="contact"><input type="text" name="website">
<button type="submit">Send tip</button>
</form></body></html>"""

RECEIPT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Tip received</title></head><body>
<p>Thank you ({{ length }} characters about {{ category }}).</p>
<p class="receipt"><code id="receipt-code">{{ code }}</code></p>
</body></html>"""

CATEGORIES = ("threat", "bullying", "bias", "crisis", "other", "unsure")
SCHOOLS = ("outside", "SHS", "BMS")


@app.get("/")
def form() -> str:
    return render_template_string(FORM, categories=CATEGORIES, schools=SCHOOLS)


@app.post("/")
def submit() -> tuple[str, int]:
    message = request.form.get("message", "")
    files = [f for f in request.files.getlist("attachment") if f and f.filename]
    if not message.strip() or request.form.get("website"):
        return render_template_string(FORM, categories=CATEGORIES, schools=SCHOOLS), 400
    code = "-".join(secrets.token_hex(2).upper() for _ in range(4))
    return render_template_string(RECEIPT, code=code, length=len(message) + len(files),
                                  category=request.form.get("category", "unsure")), 200
