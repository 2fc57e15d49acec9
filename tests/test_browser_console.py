"""Staff and reporter together, in a real browser: a threat tip from a phone (JavaScript off),
the first district admin set up and signed in with a TOTP code, the tip opened and worked
through a CSTAG step, a reply, the reporter's answer, and an audit log that verifies, on the
page and with ``tipline audit verify``.

Drives Debian's Chromium through Playwright against the app served on a loopback port.
A missing Chromium fails this test (CI installs it); it is never skipped.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyotp
from browser_support import PHONE, launch, serve
from flask import Flask
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from tipline import keyring
from tipline.models import AuditEntry, Message, StepRecord, Tip, TipWorkflow

TIP_TEXT = "a boy in my class said he will bring a knife friday and stab kevin"
ADMIN_EMAIL = "first.admin@westport.example.org"
PASSWORD = "a long district admin passphrase"
EXACT_WORDS = "He said: I'll bring a knife Friday and stab Kevin."
CLASSIFICATION = "serious substantive"
FACTORS = ["Specificity of the threat", "Evidence of preparatory steps"]
UNTICKED_FACTOR = "Historical context"
STAFF_REPLY = "Thank you for telling us. Which class was this in, and did anyone else hear it?"
REPORTER_ANSWER = "It was 3rd period science, and two other kids heard him say it."
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
VERIFIED = re.compile(r"^Chain verified: (\d+) entries intact\.$")
EXPECTED_ACTIONS = {"setup_completed", "login", "view_list", "view_tip", "decrypt", "step_recorded",
                    "message_sent"}
DESKTOP: dict[str, Any] = {"viewport": {"width": 1280, "height": 900}}


def _submit(page: Any, locator: Any) -> Any:
    """Press a submit button (a native form post) and return the final page's response."""
    with page.expect_navigation() as nav:
        locator.click()
    response = nav.value
    assert response is not None, "the form post produced no page"
    return response


def _audit_cli(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "tipline"
    assert exe.is_file(), f"the tipline command is not installed next to {sys.executable}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("TIPLINE_")}
    env.update(env_extra)
    return subprocess.run([str(exe), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120,
                          check=False)


def test_staff_work_a_threat_tip_with_the_reporter(app: Flask, db: Session, instance: Path,
                                                   config: dict[str, Any]) -> None:
    token_file = keyring.setup_token_path(instance)
    setup_token = token_file.read_text().strip()
    assert setup_token, "the instance folder holds a setup token"
    requests: list[str] = []

    with serve(app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            # (a) The reporter, on a phone with JavaScript off.
            reporter = browser.new_context(java_script_enabled=False, **PHONE)
            reporter.on("request", lambda r: requests.append(r.url))
            rpage = reporter.new_page()
            first = rpage.goto(base + "/")
            assert first is not None and first.status == 200
            rpage.check("input[name=category][value=threat]")
            rpage.select_option("#school", "SHS")
            rpage.fill("#message", TIP_TEXT)
            sent = _submit(rpage, rpage.locator("button[type=submit]"))
            assert sent.status == 200, f"sending the tip answered {sent.status}: {rpage.inner_text('main')}"
            receipt = rpage.inner_text("#receipt-code").strip()
            assert CODE.match(receipt), f"receipt {receipt!r} is not 4 groups of 4 Crockford characters"
            reporter.close()

            # (b) The first district admin: setup with the token, then sign in with a TOTP code.
            staff = browser.new_context(**DESKTOP)
            staff.on("request", lambda r: requests.append(r.url))
            page = staff.new_page()
            opened = page.goto(f"{base}/console/setup/{setup_token}")
            assert opened is not None and opened.status == 200, "the setup link opens"
            page.fill("#email", ADMIN_EMAIL)
            page.fill("#password", PASSWORD)
            page.fill("#password2", PASSWORD)
            step1 = _submit(page, page.get_by_role("button", name="Continue"))
            assert step1.status == 200, page.inner_text("main")
            uri = page.inner_text("#totp-uri").strip()
            totp = pyotp.parse_uri(uri)
            assert isinstance(totp, pyotp.TOTP), f"#totp-uri is not a TOTP URI: {uri!r}"
            assert ADMIN_EMAIL.replace("@", "%40") in uri or ADMIN_EMAIL in uri, uri
            expect(page.locator("#recovery-key")).not_to_be_empty()
            page.fill("#code", totp.now())
            step2 = _submit(page, page.get_by_role("button", name="Finish"))
            assert step2.status == 200, page.inner_text("main")
            expect(page.locator("h1")).to_have_text("Setup complete")
            assert not token_file.exists(), "the setup token is deleted once the first admin exists"
            again = page.goto(f"{base}/console/setup/{setup_token}")
            assert again is not None and again.status == 404, "the setup link works only once"

            page.goto(base + "/console/login")
            page.fill("#email", ADMIN_EMAIL)
            page.fill("#password", PASSWORD)
            # Each TOTP step is accepted once: setup used the current one, so sign in with the next.
            page.fill("#code", totp.at(time.time() + 30))
            signed_in = _submit(page, page.get_by_role("button", name="Sign in"))
            assert signed_in.status == 200, page.inner_text("main")
            assert page.url.rstrip("/") == base + "/console", f"sign-in landed on {page.url}"
            expect(page.locator("header .who")).to_contain_text(ADMIN_EMAIL)

            # (c) The tip in the list, opened; a CSTAG step filled in and saved.
            expect(page.locator("#tip-count")).to_have_text("1")
            rows = page.locator("#tips tr.tip-row")
            expect(rows).to_have_count(1)
            expect(rows.first).to_contain_text("SHS")
            expect(rows.first).to_contain_text("threat")
            # The link says which tip it opens: school, time, workflows and priority.
            described = re.compile(r"^Tip from SHS, (\d{4}-\d\d-\d\d )?\d\d:\d\d — .*threat.*, urgent$")
            link = rows.first.get_by_role("link", name=described)
            tip_page = _submit(page, link)
            assert tip_page.status == 200, page.inner_text("main")
            assert re.fullmatch(re.escape(base) + r"/console/tips/[0-9a-f]{32}", page.url), page.url
            tip_url = page.url
            assert page.inner_text("#report-message") == TIP_TEXT

            evaluate = page.locator("details#step-threat-evaluate")
            evaluate.locator("textarea[name=r_exact_words]").fill(EXACT_WORDS)
            _submit(page, evaluate.get_by_role("button", name="Save step"))

            classify = page.locator("details#step-threat-classify")
            expect(classify).to_have_attribute("open", "")
            classify.locator("select[name=r_classification]").select_option(CLASSIFICATION)
            for factor in FACTORS:
                classify.locator(f"input[name=r_credibility][value='{factor}']").check()
            classify.locator("input[name=done]").check()
            saved = _submit(page, classify.get_by_role("button", name="Save step"))
            assert saved.status == 200, page.inner_text("main")

            reloaded = page.reload()
            assert reloaded is not None and reloaded.status == 200
            classify = page.locator("details#step-threat-classify")
            expect(classify.locator("summary")).to_contain_text("☑")
            expect(classify).not_to_have_attribute("open", "")  # a finished step folds away
            expect(classify.locator("select[name=r_classification]")).to_have_value(CLASSIFICATION)
            for factor in FACTORS:
                expect(classify.locator(f"input[name=r_credibility][value='{factor}']")).to_be_checked()
            expect(classify.locator(f"input[name=r_credibility][value='{UNTICKED_FACTOR}']")).not_to_be_checked()
            expect(classify.locator("input[name=done]")).to_be_checked()
            evaluate = page.locator("details#step-threat-evaluate")
            expect(evaluate.locator("textarea[name=r_exact_words]")).to_have_value(EXACT_WORDS)
            expect(evaluate.locator("summary")).to_contain_text("☐")
            expect(page.locator("#status")).to_have_text("In review")

            # (d) A reply to the reporter.
            page.fill("#reply-text", STAFF_REPLY)
            replied = _submit(page, page.get_by_role("button", name="Send reply"))
            assert replied.status == 200, page.inner_text("main")
            staff_msgs = page.locator("#messages li.msg.staff")
            expect(staff_msgs).to_have_count(1)
            expect(staff_msgs.first).to_contain_text(STAFF_REPLY)
            expect(staff_msgs.first).to_contain_text(f"Reply by {ADMIN_EMAIL}")

            # (e) The reporter comes back (a fresh phone context, JavaScript off) and answers.
            back = browser.new_context(java_script_enabled=False, **PHONE)
            back.on("request", lambda r: requests.append(r.url))
            bpage = back.new_page()
            bpage.goto(base + "/followup")
            bpage.fill("#receipt", receipt)
            found = _submit(bpage, bpage.get_by_role("button", name="Open my tip"))
            assert found.status == 200, bpage.inner_text("main")
            assert bpage.inner_text("#tip-message") == TIP_TEXT
            expect(bpage.locator("#tip-status")).to_contain_text("looking into it")
            items = bpage.locator("#messages li")
            expect(items).to_have_count(1)
            expect(items.first).to_contain_text("Staff")
            expect(items.first.locator("p.message")).to_have_text(STAFF_REPLY)
            bpage.fill("#message", REPORTER_ANSWER)
            answered = _submit(bpage, bpage.get_by_role("button", name="Send", exact=True))
            assert answered.status == 200, bpage.inner_text("main")
            expect(bpage.locator("p.notice")).to_contain_text("Your message was added")
            expect(bpage.locator("#messages li")).to_have_count(2)
            expect(bpage.locator("#messages li").nth(1).locator("p.message")).to_have_text(REPORTER_ANSWER)
            back.close()

            # (f) Staff reload the tip and see the answer below their reply.
            assert page.goto(tip_url) is not None
            msgs = page.locator("#messages li.msg")
            expect(msgs).to_have_count(2)
            expect(msgs.nth(0)).to_have_class(re.compile(r"\bstaff\b"))
            expect(msgs.nth(1)).to_have_class(re.compile(r"\breporter\b"))
            expect(msgs.nth(1).locator("p.who")).to_contain_text("Reporter")
            expect(msgs.nth(1).locator("p.message")).to_have_text(REPORTER_ANSWER)

            # (g) The audit log: verified on the page, and lists what was done.
            audit_page = page.goto(base + "/console/audit?verify=1")
            assert audit_page is not None and audit_page.status == 200
            status_text = page.inner_text("#audit-status").strip()
            verified = VERIFIED.match(status_text)
            assert verified, f"the audit page does not say the chain is verified: {status_text!r}"
            actions = page.locator("#audit td.action").all_inner_texts()
            missing = EXPECTED_ACTIONS - set(actions)
            assert not missing, f"the audit log lacks {sorted(missing)}; it lists {sorted(set(actions))}"
            assert actions.count("step_recorded") == 2, actions
            assert actions.count("message_sent") == 1, actions
            staff.close()
        finally:
            browser.close()

    foreign = [u for u in requests if not u.startswith(base + "/")]
    assert foreign == [], f"requests left 127.0.0.1: {foreign}"
    assert any(u.startswith(base + "/console/") for u in requests), "the staff requests were recorded"

    # What the browsers did is what the database holds.
    tip = db.scalars(select(Tip)).one()
    assert tip.school == "SHS"
    assert db.scalars(select(TipWorkflow.workflow).where(TipWorkflow.tip_id == tip.id)).all() == ["threat"]
    row = db.scalars(select(StepRecord).where(StepRecord.tip_id == tip.id, StepRecord.step == "classify")).one()
    assert row.done is True
    assert row.choices == {"classification": CLASSIFICATION, "credibility": FACTORS}
    directions = db.scalars(select(Message.direction).where(Message.tip_id == tip.id).order_by(Message.id)).all()
    assert directions == ["staff", "reporter"]
    entries = db.scalar(select(func.count()).select_from(AuditEntry))
    # Reading the audit log is not itself logged: the page checked every entry there is.
    assert int(verified.group(1)) == entries == len(actions), (verified.group(1), entries, len(actions))
    db.commit()

    # The same chain checks out from the command line, against the app's database.
    env = {"TIPLINE_DATABASE_URL": str(config["database_url"]), "TIPLINE_SECRET_KEY": str(config["secret_key"]),
           "TIPLINE_INSTANCE": str(instance)}
    ok = _audit_cli(env)
    assert ok.returncode == 0, f"tipline audit verify failed ({ok.returncode}): {ok.stdout}{ok.stderr}"
    assert f"audit log OK: {entries} entries" in ok.stdout, ok.stdout

    # And the command notices an edited entry: the check above is not a rubber stamp.
    edited = db.scalars(select(AuditEntry.id).where(AuditEntry.action == "decrypt").order_by(AuditEntry.id)).first()
    assert edited is not None
    db.execute(update(AuditEntry).where(AuditEntry.id == edited).values(actor="someone.else@example.org"))
    db.commit()
    broken = _audit_cli(env)
    assert broken.returncode == 1, f"an edited entry went unnoticed: {broken.stdout}{broken.stderr}"
    assert f"BROKEN at entry {edited}" in broken.stderr, broken.stderr
