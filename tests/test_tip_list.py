"""The tip list for a working team: the district's time and each tip's age, most pressing
first across pages, signals in words, who has it, and links that say which tip they open."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from console_support import Member, create_member, login, setup_admin
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from tipline import intake, receipts
from tipline.console import tips as tip_views
from tipline.models import Staff, Tip
from tipline.orm import to_minute

EVIDENCE = "he said he will bring his dads gun to school tomorrow and shoot kevin"
BULLY = "girls keep making fake accounts to message my daughter that everyone hates her"
LIBRARY = "can the library stay open later during exam week"
ZONE = ZoneInfo("America/New_York")
LINK = re.compile(r'<a class="tip-link" href="/console/tips/([0-9a-f]{32})">([^<]+)</a>')


@pytest.fixture(autouse=True)
def _csrf_off(app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = False


@pytest.fixture
def admin(client: FlaskClient, instance: Path) -> Member:
    member = setup_admin(client, instance)
    assert login(client, member) == 302
    return member


def receive(app: Flask, message: str, at: datetime, school: str | None = "SHS") -> str:
    settings = app.extensions["tipline.settings"]
    with app.extensions["tipline.sessionmaker"]() as session, session.begin():
        return intake.receive(session, app.extensions["tipline.pm"], settings.district,
                              receipts.pepper_from_secret(settings.secret_key),
                              intake.Report(message=message, category="other", school=school, contact=""),
                              at).tip_id


def links(html: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2).replace("&amp;", "&")) for m in LINK.finditer(html)]


def row_of(html: str, tip_id: str) -> str:
    found = re.search(rf'<tr class="tip-row[^"]*">\s*<td><a class="tip-link" href="/console/tips/{tip_id}">.*?</tr>',
                      html, re.S)
    assert found, tip_id
    return found.group(0)


def test_times_in_the_district_zone_with_each_tips_age(app: Flask, client: FlaskClient, admin: Member) -> None:
    now = datetime.now(UTC)
    ages = {"3 h": now - timedelta(hours=3, minutes=5), "2 d": now - timedelta(days=2, hours=1),
            "25 min": now - timedelta(minutes=25, seconds=30)}
    ids = {label: receive(app, LIBRARY + f" ({label})", at) for label, at in ages.items()}
    html = client.get("/console/").get_data(as_text=True)
    assert "America/New_York" in html and " UTC" not in html
    for label, tip_id in ids.items():
        row = row_of(html, tip_id)
        local = to_minute(ages[label]).astimezone(ZONE)
        assert f">{local:%Y-%m-%d %H:%M}</time>" in row, row
        # Stored to the minute, so a tip 25 min 30 s old reads 25 or 26 min, as the clock's seconds fall.
        accepted = ("25 min", "26 min", "27 min") if label == "25 min" else (label,)
        assert any(f'<td class="age">{a}</td>' in row for a in accepted), row


def test_age_reads_like_a_team_says_it() -> None:
    now = datetime(2026, 10, 6, 14, 0, tzinfo=UTC)
    assert tip_views.age(now, now) == "0 min"
    assert tip_views.age(now - timedelta(minutes=59), now) == "59 min"
    assert tip_views.age(now - timedelta(hours=1), now) == "1 h"
    assert tip_views.age(now - timedelta(hours=23, minutes=59), now) == "23 h"
    assert tip_views.age(now - timedelta(days=2, hours=5), now) == "2 d"
    assert tip_views.age(now + timedelta(minutes=3), now) == "0 min"  # a clock a little ahead


def test_urgent_first_and_every_tip_once_across_small_pages(app: Flask, client: FlaskClient, admin: Member,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tip_views, "PAGE", 3)
    start = datetime.now(UTC) - timedelta(hours=5)
    for i in range(10):
        text = EVIDENCE if i % 4 == 0 else BULLY if i % 4 == 1 else LIBRARY + f" in room {i}"
        # Two tips in the same minute: the id breaks the tie, so paging neither skips nor repeats.
        receive(app, text, start + timedelta(minutes=(i // 2) * 7))
    seen: list[str] = []
    url = "/console/"
    pages = 0
    while url:
        html = client.get(url).get_data(as_text=True)
        found = [tip_id for tip_id, _ in links(html)]
        assert 0 < len(found) <= 3
        seen.extend(found)
        pages += 1
        nxt = re.search(r'id="next-page" href="([^"]+)"', html)
        url = nxt.group(1).replace("&amp;", "&") if nxt else ""
    assert pages == 4 and len(seen) == len(set(seen)) == 10
    db: Session = app.extensions["tipline.sessionmaker"]()
    try:
        listed = [db.get(Tip, t) for t in seen]
        keys = [(t.priority_rank, t.received_at, t.id) for t in listed if t is not None]
    finally:
        db.close()
    assert keys == sorted(keys, reverse=True)
    assert keys[0][0] == 3  # urgent at the top


@pytest.mark.parametrize("cursor", [
    base64.urlsafe_b64encode(json.dumps([3, "2026-10-06T14:00:00+00:00"]).encode()).decode(),  # a key short
    base64.urlsafe_b64encode(json.dumps([3, "2026-10-06T14:00:00", "ab12"]).encode()).decode(),  # no zone
    base64.urlsafe_b64encode(json.dumps([9, "2026-10-06T14:00:00+00:00", "ab12"]).encode()).decode(),
    base64.urlsafe_b64encode(json.dumps({"rank": 3}).encode()).decode(),
    "not base64 at all!",
])
def test_a_broken_page_link_is_a_clear_400(client: FlaskClient, admin: Member, cursor: str) -> None:
    page = client.get("/console/", query_string={"after": cursor})
    assert page.status_code == 400 and "page link is broken" in page.get_data(as_text=True)


def test_signals_in_words_assignee_and_descriptive_links(app: Flask, client: FlaskClient, admin: Member,
                                                         db: Session) -> None:
    today = datetime.now(UTC).astimezone(ZONE).replace(hour=9, minute=5, second=0, microsecond=0)
    if today > datetime.now(UTC):
        today -= timedelta(days=1)
    threat = receive(app, EVIDENCE, today)
    older = receive(app, BULLY, datetime(2026, 3, 2, 19, 45, tzinfo=UTC), school="BMS")
    unsorted = receive(app, LIBRARY, today, school=None)
    counselor = create_member(app, db, "threat.shs@westport.example.org", "threat-team", "SHS", admin)
    member_id = db.scalars(select(Staff.id).where(Staff.email == counselor.email)).one()
    db.execute(update(Tip).where(Tip.id == threat).values(assigned_to=member_id))
    db.execute(update(Tip).where(Tip.id == older).values(signals=["cyberbullying.fake_account", "vendor.odd_flag"]))
    db.commit()

    html = client.get("/console/").get_data(as_text=True)
    assert ">Open<" not in html
    text = dict(links(html))
    local = today.astimezone(ZONE)
    same_day = local.date() == datetime.now(UTC).astimezone(ZONE).date()
    when = f"{local:%H:%M}" if same_day else f"{local:%Y-%m-%d %H:%M}"
    assert text[threat] == f"Tip from SHS, {when} — threat, urgent"
    assert text[older] == "Tip from BMS, 2026-03-02 14:45 — cyberbullying, normal"
    assert text[unsorted].startswith("Tip from the district, ") and "not yet sorted" in text[unsorted]
    assert len(set(text.values())) == 3  # each link tells its tip apart

    threat_row = row_of(html, threat)
    assert "weapon mentioned" in threat_row and "time or place given" in threat_row
    assert "threat.weapon" not in threat_row
    assert '<td class="assignee">threat.shs@westport.example.org</td>' in threat_row
    older_row = row_of(html, older)
    assert "fake account" in older_row and "vendor.odd_flag" in older_row  # unknown names as they are
    assert '<td class="assignee">unassigned</td>' in older_row
    assert "new from reporter" not in html  # no tip has anything new from its reporter
