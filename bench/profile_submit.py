"""Where a submission's server time goes: the tip line's GET + POST, in process, under cProfile.

    .venv/bin/python bench/profile_submit.py [--tips 300]

Builds the app on a fresh instance (as `tipline init` does), warms it up, then profiles N
reporters' GET / and multipart POST / through Flask's test client (no sockets, so the figures
are the app's own work). Prints the share of profiled time in each part of the path, then the
top functions. cProfile slows Python code more than C code, so shares are a guide to where
time goes, not exact costs; bench/submit.py gives the real throughput.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
NONCE = re.compile(r'name="submission" value="([^"]+)"')

# (label, a function whose cumulative time is that part), outermost first.
PARTS = (
    ("whole request (Flask, Werkzeug, WSGI)", "flask/app.py", "wsgi_app"),
    ("multipart form parsing", "werkzeug/formparser.py", "parse"),
    ("CSRF check and token", "flask_wtf/csrf.py", "protect"),
    ("page rendering (Jinja)", "flask/templating.py", "render_template"),
    ("intake.receive (triage, sealing, SQL)", "tipline/intake.py", "receive"),
    ("  triage (all plugins)", "tipline/plugins.py", "triage"),
    ("  routing", "tipline/plugins.py", "route"),
    ("  sealing to every inbox", "tipline/crypto.py", "seal_to_many"),
    ("  SQL statements", "sqlalchemy/orm/session.py", "execute"),
    ("commit", "sqlalchemy/orm/session.py", "commit"),
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tips", type=int, default=300)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="tipline-profile-"))
    os.environ.update(TIPLINE_INSTANCE=str(work / "instance"), TIPLINE_RATE_LIMITS="off")
    for name in ("TIPLINE_DATABASE_URL", "TIPLINE_REDIS_URL", "TIPLINE_SECRET_KEY"):
        os.environ.pop(name, None)
    subprocess.run([str(BIN / "tipline"), "init"], cwd=ROOT, check=True, capture_output=True)
    sys.path.insert(0, str(ROOT))
    from tipline.app import create_app

    client = create_app().test_client()

    def one(i: int) -> None:
        client._cookies.clear()  # a new phone for each tip, as bench/submit.py does
        page = client.get("/").get_data(as_text=True)
        token, nonce = CSRF.search(page), NONCE.search(page)
        assert token and nonce
        response = client.post("/", content_type="multipart/form-data", data={
            "csrf_token": token.group(1), "submission": nonce.group(1), "category": "bullying", "school": "SHS",
            "message": f"some kids from the soccer team keep posting mean edits of a girl in the group chat "
                       f"on the late bus. It has happened {i % 9 + 2} times.", "contact": "", "website": ""})
        assert response.status_code == 200, response.status_code

    for i in range(30):
        one(i)
    started = time.process_time()
    for i in range(args.tips):
        one(10_000 + i)
    plain = (time.process_time() - started) / args.tips * 1000
    profile = cProfile.Profile()
    profile.enable()
    for i in range(args.tips):
        one(20_000 + i)
    profile.disable()
    stats = pstats.Stats(profile)
    total = max(v[3] for v in stats.stats.values())  # type: ignore[attr-defined]
    print(f"{plain:.2f} ms CPU per GET + POST without the profiler ({args.tips} tips)\n")
    print("share of profiled time, by part of the path:")
    for label, path, func in PARTS:
        cum = sum(v[3] for (file, _line, name), v in stats.stats.items()  # type: ignore[attr-defined]
                  if name == func and file.endswith(path))
        print(f"  {label:<42} {100 * cum / total:5.1f} %")
    print()
    stats.sort_stats("tottime").print_stats(15)
    return 0


if __name__ == "__main__":
    sys.exit(main())
