"""How fast the staff console stays as tips pile up: the filtered tip list and a tip's page.

    .venv/bin/python bench/console.py [--sizes 1000,10000,100000] [--requests 50] [--warmup 10]
                                      [--enforce-targets]

For each size: a fresh SQLite database in a temporary folder, migrated and keyed as
`tipline init` does; that many tips bulk-inserted with SQLAlchemy core (realistic metadata:
eight schools, 0-2 workflows each, priorities, statuses, outcomes, a year of arrival times,
random ciphertext where the sealed report goes), plus a few real tips sent through
``tipline.intake.receive`` so a tip's page can be opened and decrypted. Then, with Flask's
test client, as a district admin (who sees everything, so the least selective scope) and as
the school administrator of SHS (who holds the SHS inbox keys, granted by the admin):

  list  GET /console/?school=SHS&workflow=threat   (first page)
  tip   GET /console/tips/<a real SHS threat tip>

``--warmup`` untimed requests, then ``--requests`` timed ones; prints p50/p95 in ms. Every
console request also appends an audit entry, as in production. At the end: the ratio of the
largest size's list p95 to the smallest size's (targets: list p95 <= 100 ms at 100k, ratio
<= 1.5), and SQLite's query plan and timing for each query the list request ran at the
largest size. Exits 1 when a request fails; with --enforce-targets also when a target is
missed. CSRF checks and rate limits are off for the bench client.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, event, insert, select
from sqlalchemy.orm import Session

import tipline.app
import tipline.config
import tipline.plugins
from tipline import access, intake, keyring, migrate, receipts, staff
from tipline.models import Staff, Tip, TipWorkflow
from tipline.types import PRIORITIES

SCHOOLS = ("SHS", "BMS", "CMS", "CES", "GFS", "KHS", "LLS", "SES")
# A high school, two middle schools and five elementary schools: older students send more tips;
# a few tips name no school ("Not sure / outside school").
SCHOOL_WEIGHTS = (30, 14, 14, 7, 7, 7, 7, 7)
NO_SCHOOL = 0.06
WORKFLOWS = ("threat", "deib", "cyberbullying", "wellbeing")
WORKFLOW_WEIGHTS = (18, 20, 37, 25)
WORKFLOW_COUNT = ((0, 30), (1, 55), (2, 15))
SIGNALS = {
    "threat": ("threat.weapon", "threat.target", "threat.time_or_place", "threat.fight", "immediate.dispatch"),
    "deib": ("deib.slur", "deib.race", "deib.religion", "deib.gender_identity", "deib.disability"),
    "cyberbullying": ("cyber.group_chat", "cyber.image", "cyber.impersonation", "cyber.sextortion"),
    "wellbeing": ("wellbeing.self_harm", "wellbeing.suicide", "wellbeing.abuse", "wellbeing.crisis"),
}
OUTCOMES = (("valid", 70), ("false", 8), ("misuse", 4), ("duplicate", 12), ("self-report", 6))
REAL_TIPS = (
    ("SHS", "threat", "a boy in my class said he will bring a knife friday and stab kevin"),
    ("SHS", "threat", "someone wrote a list of names in the boys bathroom and said they would shoot them"),
    ("SHS", "bullying", "some kids keep posting mean edits of a girl in the 10th grade group chat"),
    ("BMS", "threat", "un chico dijo que va a traer una pistola a la escuela mañana"),
    ("CMS", "crisis", "my friend told me she has been cutting herself and doesn't want to live anymore"),
)
PASSWORD = secrets.token_urlsafe(18)  # staff passwords for this run only
LIST_PATH = "/console/?school=SHS&workflow=threat"
TARGET_P95_MS = 100.0
TARGET_RATIO = 1.5


@dataclass
class Member:
    email: str
    totp: pyotp.TOTP
    step: int = 0

    def code(self) -> str:
        """A code for a step not used yet: each TOTP step is accepted once."""
        self.step += 1
        return self.totp.at(time.time() + 30 * self.step)


@dataclass
class Result:
    size: int
    role: str
    what: str
    ms: list[float] = field(default_factory=list)

    @property
    def p50(self) -> float:
        return statistics.median(self.ms)

    @property
    def p95(self) -> float:
        ordered = sorted(self.ms)
        return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


class BenchError(RuntimeError):
    pass


# --- seeding ----------------------------------------------------------------------------------


T = TypeVar("T")


def _pick(rng: random.Random, pairs: tuple[tuple[T, int], ...]) -> T:
    return rng.choices([v for v, _ in pairs], [w for _, w in pairs])[0]


def _priority(rng: random.Random, wfs: list[str]) -> str:
    if "threat" in wfs:
        return _pick(rng, (("normal", 15), ("high", 45), ("urgent", 40)))
    if "wellbeing" in wfs:
        return _pick(rng, (("normal", 30), ("high", 50), ("urgent", 20)))
    if wfs:
        return _pick(rng, (("low", 10), ("normal", 60), ("high", 30)))
    return _pick(rng, (("low", 45), ("normal", 55)))


def _status(rng: random.Random, age_days: float) -> str:
    if age_days < 3:
        return _pick(rng, (("new", 55), ("in_review", 35), ("action_taken", 10)))
    if age_days < 30:
        return _pick(rng, (("new", 5), ("in_review", 35), ("action_taken", 30), ("closed", 30)))
    return _pick(rng, (("in_review", 4), ("action_taken", 8), ("closed", 88)))


def generate(count: int, now: datetime, seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows for ``tip`` and ``tip_workflow``: metadata as the app stores it, random ciphertext."""
    rng = random.Random(seed)
    tips: list[dict[str, Any]] = []
    links: list[dict[str, Any]] = []
    lookups: set[str] = set()
    year = 365 * 24 * 60
    for _ in range(count):
        tip_id = uuid.UUID(int=rng.getrandbits(128), version=4).hex
        lookup = rng.randbytes(32).hex()
        while lookup in lookups:
            lookup = rng.randbytes(32).hex()
        lookups.add(lookup)
        school = None if rng.random() < NO_SCHOOL else rng.choices(SCHOOLS, SCHOOL_WEIGHTS)[0]
        n_wf = _pick(rng, WORKFLOW_COUNT)
        wfs: list[str] = []
        while len(wfs) < n_wf:
            wf = rng.choices(WORKFLOWS, WORKFLOW_WEIGHTS)[0]
            if wf not in wfs:
                wfs.append(wf)
        priority = _priority(rng, wfs)
        minutes_ago = rng.randrange(year)
        received = (now - timedelta(minutes=minutes_ago)).replace(second=0, microsecond=0)
        age_days = minutes_ago / 1440
        status = _status(rng, age_days)
        updated = min(now, received + timedelta(minutes=rng.randrange(0, 60 * 24 * 14)))
        updated = updated.replace(second=0, microsecond=0)
        outcome = _pick(rng, OUTCOMES) if status == "closed" else None
        signals = sorted({s for wf in wfs for s in rng.sample(SIGNALS[wf], rng.randint(1, 2))})
        police = "threat" in wfs and priority == "urgent" and rng.random() < 0.6
        in_hours = rng.random() < 0.55
        inboxes = ["admin"] + [f"wf:{wf}" for wf in wfs] + ([f"{school}:{wf}" for wf in wfs] if school else [])
        tips.append({
            "id": tip_id, "lookup_id": lookup, "school": school, "status": status, "priority": priority,
            "priority_rank": PRIORITIES.index(priority), "police": police, "signals": signals,
            "routing": {"in_school_hours": in_hours, "inboxes": inboxes or ["admin", "general"], "actions": []},
            "outcome": outcome, "duplicate_of": None, "legal_hold": False, "assigned_to": None,
            "received_at": received, "updated_at": updated,
            "closed_at": updated if status == "closed" else None,
            "sealed_report": rng.randbytes(rng.randint(240, 380)),
        })
        links.extend({"tip_id": tip_id, "workflow": wf} for wf in wfs)
    return tips, links


def seed_bulk(engine: Engine, count: int, now: datetime) -> float:
    tips, links = generate(count, now, seed=count)
    started = time.perf_counter()
    with engine.begin() as conn:
        for i in range(0, len(tips), 10_000):
            conn.execute(insert(Tip), tips[i:i + 10_000])
        for i in range(0, len(links), 20_000):
            conn.execute(insert(TipWorkflow), links[i:i + 20_000])
    return time.perf_counter() - started


def seed_real(app: Flask) -> str:
    """Tips sent the way the reporter form sends them; returns an SHS threat tip's id."""
    settings = app.extensions["tipline.settings"]
    pm = app.extensions["tipline.pm"]
    pepper = receipts.pepper_from_secret(settings.secret_key)
    wanted: str | None = None
    with app.extensions["tipline.sessionmaker"]() as session:
        for school, category, text in REAL_TIPS:
            received = intake.receive(session, pm, settings.district, pepper,
                                      intake.Report(message=text, category=category, school=school, contact=""),
                                      datetime.now(UTC))
            if wanted is None and school == "SHS" and "threat" in received.triage.workflows:
                wanted = received.tip_id
                tip = session.get(Tip, received.tip_id)
                assert tip is not None
                data_key = _reporter_data_key(session, received.tip_id, received.receipt)
                intake.add_reporter_message(session, tip, data_key, "He said it again at lunch today.", (),
                                            datetime.now(UTC))
        session.commit()
    if wanted is None:
        raise BenchError("triage did not open the threat workflow for any SHS threat tip")
    return wanted


def _reporter_data_key(session: Session, tip_id: str, receipt: str) -> bytes:
    from tipline import crypto
    from tipline.models import TipKey

    code = receipts.normalise(receipt)
    assert code is not None
    private, _ = receipts.reporter_keypair(code)
    sealed = session.scalars(select(TipKey.sealed).where(TipKey.tip_id == tip_id,
                                                         TipKey.inbox_key_id.is_(None))).one()
    return crypto.open_sealed(private, sealed, intake.reporter_context(tip_id))


# --- staff -------------------------------------------------------------------------------------


def _check(response: Any, what: str, needle: str | None = None) -> str:
    html = str(response.get_data(as_text=True))
    if response.status_code != 200 or (needle is not None and needle not in html):
        raise BenchError(f"{what}: HTTP {response.status_code}, {html[:300]!r}")
    return html


def setup_admin(app: Flask, client: FlaskClient, instance: Path) -> Member:
    """The first district admin, through the setup page, as a person would."""
    import re

    token = keyring.setup_token_path(instance).read_text().strip()
    email = "admin@westport.example.org"
    html = _check(client.post(f"/console/setup/{token}", data={"step": "password", "email": email,
                                                                "password": PASSWORD, "password2": PASSWORD}),
                  "setup step 1", 'id="totp-uri"')
    match = re.search(r'id="totp-uri">([^<]+)<', html)
    assert match is not None
    totp = pyotp.parse_uri(match.group(1).replace("&amp;", "&"))
    assert isinstance(totp, pyotp.TOTP)
    _check(client.post(f"/console/setup/{token}", data={"step": "confirm", "email": email, "code": totp.now()}),
           "setup step 2", "Setup complete")
    return Member(email, totp)


def create_school_admin(app: Flask, admin_email: str) -> Member:
    """An SHS school administrator, created as `tipline users create` does, holding every key
    their role needs, granted by the district admin."""
    settings = app.extensions["tipline.settings"]
    workflows = app.extensions["tipline.workflows"]
    with app.extensions["tipline.sessionmaker"]() as session:
        enrolment = staff.create(session, email="principal.shs@westport.example.org", role="school-admin",
                                 school="SHS", password=PASSWORD, secret_key=settings.secret_key,
                                 schools=set(settings.district.schools))
        admin = session.scalars(select(Staff).where(Staff.email == admin_email)).one()
        granter = access.Keychain(admin, staff.personal_private(admin, PASSWORD))
        names = access.inbox_keys_for(enrolment.staff, workflows)
        for name in names:
            access.grant(session, granter, enrolment.staff, keyring.current_key(session, name))
        session.commit()
        if not {"SHS:threat", "SHS:general"} <= set(names):
            raise BenchError(f"the SHS school administrator's inboxes are {names}")
    totp = pyotp.parse_uri(enrolment.totp_uri)
    assert isinstance(totp, pyotp.TOTP)
    return Member(enrolment.staff.email, totp)


def login(app: Flask, member: Member) -> FlaskClient:
    client = app.test_client()
    _check(client.post("/console/login", data={"email": member.email, "password": PASSWORD, "code": member.code()},
                       follow_redirects=True), f"signing in as {member.email}", 'id="tip-count"')
    return client


# --- measuring ---------------------------------------------------------------------------------


def timed(client: FlaskClient, path: str, needle: str, warmup: int, count: int) -> list[float]:
    for _ in range(warmup):
        _check(client.get(path), f"GET {path}", needle)
    times: list[float] = []
    for _ in range(count):
        started = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - started) * 1000)
        _check(response, f"GET {path}", needle)
    return times


@contextmanager
def captured(engine: Engine) -> Iterator[list[tuple[str, Any]]]:
    statements: list[tuple[str, Any]] = []

    def listen(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def explain(app: Flask, client: FlaskClient, role: str) -> None:
    """SQLite's plan and the time of each query a list request runs that reads ``tip``."""
    engine: Engine = app.extensions["tipline.engine"]
    with captured(engine) as statements:
        _check(client.get(LIST_PATH), f"GET {LIST_PATH}", 'id="tip-count"')
    reads = [(s, p) for s, p in statements
             if s.lstrip().upper().startswith("SELECT") and "FROM tip" in " ".join(s.split())]
    with engine.connect() as conn:
        for n, (statement, params) in enumerate(reads, 1):
            runs = []
            for _ in range(5):
                started = time.perf_counter()
                conn.exec_driver_sql(statement, params).fetchall()
                runs.append((time.perf_counter() - started) * 1000)
            flat = " ".join(statement.split())
            print(f"\n  [{role}] query {n}: {statistics.median(runs):.2f} ms (median of 5)")
            print(f"    {flat}")
            shown = ", ".join(repr(v) for v in list(params)[:8])
            print(f"    params: ({shown}{', …' if len(params) > 8 else ''})  [{len(params)}]")
            rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", params).fetchall()
            depth: dict[int, int] = {0: 0}
            for node_id, parent, _unused, detail in rows:
                depth[node_id] = depth.get(parent, 0) + 1
                print(f"    {'  ' * depth[node_id]}{detail}")


def build_app(folder: Path) -> Flask:
    instance = folder / "instance"
    instance.mkdir()
    url = f"sqlite:///{folder / 'tipline.db'}"
    migrate.upgrade(url)
    settings = tipline.config.load_settings(environ={}, overrides={
        "database_url": url, "instance_path": str(instance), "secret_key": secrets.token_urlsafe(48),
        "rate_limits": False, "limiter_prefix": f"bench-{uuid.uuid4().hex[:8]}",
    })
    only = os.environ.get("TIPLINE_PLUGINS")  # as in the tests: restrict to these entry points
    pm = tipline.plugins.make_manager(tuple(only.split(",")) if only else None)
    titles = {k: w.title for k, w in tipline.plugins.workflows(pm).items()}
    from sqlalchemy.orm import sessionmaker

    from tipline.orm import make_engine

    engine = make_engine(url)
    try:
        with sessionmaker(engine)() as session, session.begin():
            assert settings.dispatch_key_path is not None
            keyring.ensure_inboxes(session, settings.district, titles, instance, settings.dispatch_key_path)
    finally:
        engine.dispose()
    app = tipline.app.create_app(plugin_manager=pm, settings=settings)
    app.config["WTF_CSRF_ENABLED"] = False
    return app


def run_size(size: int, args: argparse.Namespace, plan: bool) -> list[Result]:
    with tempfile.TemporaryDirectory(prefix="tipline-bench-console-") as tmp:
        folder = Path(tmp)
        app = build_app(folder)
        try:
            engine: Engine = app.extensions["tipline.engine"]
            seconds = seed_bulk(engine, size, datetime.now(UTC))
            tip_id = seed_real(app)
            setup = app.test_client()
            admin = setup_admin(app, setup, folder / "instance")
            principal = create_school_admin(app, admin.email)
            with engine.connect() as conn:
                shs_threat = conn.exec_driver_sql(
                    "SELECT count(*) FROM tip JOIN tip_workflow ON tip_workflow.tip_id = tip.id "
                    "WHERE tip.school = 'SHS' AND tip_workflow.workflow = 'threat'").scalar_one()
            print(f"\n{size:,} tips seeded in {seconds:.1f} s (+{len(REAL_TIPS)} real); "
                  f"{shs_threat:,} match school=SHS&workflow=threat", flush=True)
            results: list[Result] = []
            clients = {"admin": login(app, admin), "school-admin": login(app, principal)}
            for role, client in clients.items():
                list_html = client.get(LIST_PATH).get_data(as_text=True)
                if 'class="tip-row"' not in list_html or tip_id not in list_html:
                    raise BenchError(f"{role}: the filtered list does not show the real SHS threat tip")
                for what, path, needle in (("list", LIST_PATH, 'class="tip-row"'),
                                           ("tip", f"/console/tips/{tip_id}", 'id="report-message"')):
                    result = Result(size, role, what, timed(client, path, needle, args.warmup, args.requests))
                    results.append(result)
                    print(f"  {role:<13} {what:<5} p50 {result.p50:7.2f} ms   p95 {result.p95:7.2f} ms",
                          flush=True)
            if plan:
                print(f"\nQueries of one list request at {size:,} tips ({LIST_PATH}):")
                for role, client in clients.items():
                    explain(app, client, role)
            return results
        finally:
            app.extensions["tipline.engine"].dispose()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000", help="tip counts, comma-separated")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per measurement")
    parser.add_argument("--warmup", type=int, default=10, help="untimed requests before each measurement")
    parser.add_argument("--enforce-targets", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args()
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    if not sizes or args.requests < 1:
        parser.error("give at least one size and one request")
    results: list[Result] = []
    try:
        for size in sizes:
            results += run_size(size, args, plan=size == sizes[-1])
    except BenchError as exc:
        print(f"FAILED: {exc}", file=sys.stderr)
        return 1

    print("\nSummary (ms)")
    print(f"  {'tips':>8}  {'role':<13} {'page':<5} {'p50':>8} {'p95':>8}")
    for r in results:
        print(f"  {r.size:>8,}  {r.role:<13} {r.what:<5} {r.p50:8.2f} {r.p95:8.2f}")
    missed = []
    small, large = sizes[0], sizes[-1]
    for role in ("admin", "school-admin"):
        by = {(r.size, r.what): r for r in results if r.role == role}
        p95 = by[(large, "list")].p95
        ratio = p95 / by[(small, "list")].p95
        ok_p95, ok_ratio = p95 <= TARGET_P95_MS, ratio <= TARGET_RATIO
        print(f"  {role}: list p95 at {large:,} = {p95:.2f} ms (target <= {TARGET_P95_MS:.0f}: "
              f"{'met' if ok_p95 else 'MISSED'}); p95 {large:,}/{small:,} = {ratio:.2f} "
              f"(target <= {TARGET_RATIO}: {'met' if ok_ratio else 'MISSED'})")
        if not ok_p95:
            missed.append(f"{role} list p95")
        if not ok_ratio:
            missed.append(f"{role} list ratio")
    if missed and args.enforce_targets:
        print(f"targets missed: {', '.join(missed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
