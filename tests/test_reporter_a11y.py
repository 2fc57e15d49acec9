"""Server side of the reporter's accessibility fixes: files carried sealed across an error, the
receipt shown again only from what its page carries, and a Spanish entry for every string."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from flask.testing import FlaskClient
from helpers import png, receipt_of, submit, token
from jinja2 import Environment, nodes
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline import i18n, kept_files
from tipline.models import Tip
from tipline.uploads import CleanFile

ROOT = Path(__file__).resolve().parent.parent
SECRET = "s" * 48
NONCE = "n" * 32


def test_kept_file_opens_only_for_its_form_its_server_and_a_few_hours() -> None:
    f = CleanFile("chat.png", "image/png", png())
    chunks = kept_files.seal(SECRET, NONCE, f, now=1_000_000)
    assert all(len(c) <= kept_files.CHUNK for c in chunks)
    assert b"chat.png" not in "".join(chunks).encode(), "the name is sealed too"
    assert kept_files.open_kept(SECRET, NONCE, chunks, now=1_000_100) == f
    assert kept_files.open_kept(SECRET, "m" * 32, chunks, now=1_000_100) is None, "another form"
    assert kept_files.open_kept("t" * 48, NONCE, chunks, now=1_000_100) is None, "another server"
    assert kept_files.open_kept(SECRET, NONCE, chunks, now=1_000_000 + 7 * 3600) is None, "too old"
    assert kept_files.open_kept(SECRET, NONCE, chunks[:-1] + [chunks[-1][:-4]], now=1_000_100) is None
    assert kept_files.open_kept(SECRET, NONCE, ["not base64 !"], now=1_000_100) is None


def test_an_error_keeps_the_cleaned_files_and_a_forged_one_is_refused(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="", files=[(png(), "proof.png")], submission=NONCE)
    assert status == 400 and "proof.png" in html and "attach them again" not in html
    chunks = re.findall(r'name="kept-0" value="([^"]+)"', html)
    assert chunks
    status, html = submit(client, message="now with words", keep="0", submission=NONCE,
                          **{"kept-0": chunks})
    assert status == 200
    assert db.scalars(select(Tip)).one().attachments[0].id
    # Carried to another form, the sealed file does not open: the reporter is told, nothing is sent.
    status, html = submit(client, message="words", keep="0", submission="x" * 32, **{"kept-0": chunks})
    assert status == 400 and "could not be kept" in html


def test_receipt_shown_again_only_from_its_page(client: FlaskClient, db: Session) -> None:
    status, html = submit(client, message="the receipt in Spanish, please", submission=NONCE)
    code = receipt_of(html)
    digest = re.search(r'name="digest" value="([0-9a-f]{64})"', html)
    assert digest
    data = {"csrf_token": token(client), "submission": NONCE, "digest": digest.group(1), "switch_lang": "es"}
    again = client.post("/receipt", data=data)
    assert again.status_code == 200 and code in again.get_data(as_text=True)
    assert "Gracias. Recibimos su aviso." in again.get_data(as_text=True)
    as_file = client.post("/receipt/file", data=data)
    assert as_file.status_code == 200 and code in as_file.get_data(as_text=True)
    assert as_file.headers["Content-Disposition"].startswith("attachment")
    assert "no-store" in as_file.headers["Cache-Control"]
    for forged in ({**data, "digest": "0" * 64}, {**data, "submission": "m" * 32}, {**data, "digest": "zz"}):
        refused = client.post("/receipt", data=forged)
        assert refused.status_code == 404 and code not in refused.get_data(as_text=True)
    assert int(db.scalar(select(func.count()).select_from(Tip)) or 0) == 1


def _template_strings() -> set[str]:
    env = Environment(autoescape=True)
    found: set[str] = set()
    for path in [ROOT / "templates/base.html", ROOT / "templates/error.html",
                 *sorted((ROOT / "templates/reporter").glob("*.html"))]:
        for call in env.parse(path.read_text()).find_all(nodes.Call):
            if isinstance(call.node, nodes.Name) and call.node.name == "_" and call.args \
                    and isinstance(call.args[0], nodes.Const) and isinstance(call.args[0].value, str):
                found.add(call.args[0].value)
    return found


def _python_strings() -> set[str]:
    found: set[str] = set()
    tree = ast.parse((ROOT / "tipline/reporter.py").read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "_t" and node.args \
                and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            found.add(node.args[0].value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "render_template":
            for kw in node.keywords:  # error.html translates its title and text
                if kw.arg in ("title", "text") and isinstance(kw.value, ast.Constant):
                    found.add(str(kw.value.value))
    from tipline import reporter, uploads

    found.update(label for _, label in reporter.CATEGORIES)
    found.update(reporter.STATUS_WORDS.values())
    found.update(v for k, v in vars(uploads).items() if k.isupper() and isinstance(v, str) and "{name}" in v)
    return found


def test_every_reporter_string_has_spanish() -> None:
    strings = _template_strings() | _python_strings()
    assert len(strings) > 100
    missing = sorted(s for s in strings if s not in i18n.ES)
    assert missing == []
