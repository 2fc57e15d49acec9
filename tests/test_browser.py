"""A reporter on a phone, in a real browser with JavaScript off: send a tip with two photos,
keep the receipt, come back with it, read the tip and answer.

Drives Debian's Chromium through Playwright against the app served on a loopback port.
A missing Chromium fails this test (CI installs it); it is never skipped.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from browser_support import PHONE, PHONE_HEIGHT, PHONE_SCALE, PHONE_WIDTH, launch, serve
from flask import Flask
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline.models import Message, Tip

CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MESSAGE = ("Someone keeps posting mean edits of a girl in my class on a group chat.\n"
           "Alguien también escribió cosas feas en español. It started Monday after lunch.")
REPLY = "It was the 7th grade group chat, and it happened again this morning."


def _images(tmp_path: Path) -> tuple[Path, Path]:
    """A PNG screenshot and a JPEG photo named .jpeg (stored re-encoded, as .jpg)."""
    png = tmp_path / "chat-screenshot.png"
    Image.new("RGB", (64, 48), (200, 30, 30)).save(png, format="PNG")
    jpeg = tmp_path / "hallway photo.jpeg"
    Image.new("RGB", (80, 60), (20, 90, 200)).save(jpeg, format="JPEG", quality=85)
    return png, jpeg


def _submit(page: Any, selector: str = "button[type=submit]") -> Any:
    """Press a submit button (a native form post: no JavaScript) and return the page's response."""
    with page.expect_navigation() as nav:
        page.click(selector)
    return nav.value


def _check_crisis_line(page: Any) -> None:
    crisis = page.locator("p.crisis")
    expect(crisis).to_be_visible()
    expect(crisis).to_contain_text("In an emergency call 911")
    expect(crisis).to_contain_text("988")
    box = crisis.bounding_box()
    assert box is not None
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE_HEIGHT, (
        f"the crisis line must be on the first screen of a phone, it is at {box}")


def test_reporter_on_a_phone_without_javascript(app: Flask, db: Session, tmp_path: Path) -> None:
    png, jpeg = _images(tmp_path)
    school_code, school_name = next((c, s.name) for c, s in app.extensions["tipline.settings"]
                                    .district.schools.items())
    shot = tmp_path / "receipt.png"

    with serve(app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(java_script_enabled=False, **PHONE)
            requests: list[tuple[str, str]] = []
            documents: list[Any] = []
            context.on("request", lambda r: requests.append((r.method, r.url)))
            context.on("response", lambda r: documents.append(r) if r.request.resource_type == "document"
                       else None)
            page = context.new_page()

            # The form.
            first = page.goto(base + "/")
            assert first is not None and first.status == 200
            _check_crisis_line(page)
            page.check("input[name=category][value=bullying]")
            page.select_option("#school", school_code)
            expect(page.locator("#school option:checked")).to_have_text(school_name)
            page.locator("#message").press_sequentially(MESSAGE)
            page.set_input_files("#attachment", [str(png), str(jpeg)])
            expect(page.locator("#website")).to_have_value("")
            sent = _submit(page)
            assert sent.status == 200, f"submitting the form answered {sent.status}: {page.inner_text('main')}"

            # The receipt.
            code = page.inner_text("#receipt-code").strip()
            assert CODE.match(code), f"receipt code {code!r} is not 4 groups of 4 Crockford characters"
            _check_crisis_line(page)
            page.screenshot(path=str(shot), full_page=True)

            # Coming back with the code.
            assert page.goto(base + "/followup") is not None
            _check_crisis_line(page)
            page.fill("#receipt", code)
            opened = _submit(page)
            assert opened.status == 200, f"opening the tip answered {opened.status}: {page.inner_text('main')}"
            assert page.inner_text("#tip-message") == MESSAGE
            expect(page.locator("#tip-status")).to_contain_text("Received")
            assert sorted(page.locator(".card .file").all_inner_texts()) == [
                "chat-screenshot.png", "hallway photo.jpg"]
            expect(page.locator("#messages")).to_have_count(0)

            # Answering.
            page.fill("#message", REPLY)
            answered = _submit(page)
            assert answered.status == 200, f"replying answered {answered.status}: {page.inner_text('main')}"
            expect(page.locator("p.notice")).to_contain_text("Your message was added")
            expect(page.locator("#messages li")).to_have_count(1)
            expect(page.locator("#messages li").first).to_contain_text(REPLY)
            expect(page.locator("#messages li").first).to_contain_text("You")
            assert page.inner_text("#tip-message") == MESSAGE
            _check_crisis_line(page)

            # Every request went to this server, and every page carried the protective headers.
            posts = [u for m, u in requests if m == "POST"]
            assert posts == [base + "/", base + "/followup", base + "/followup"], posts
            assert (("GET", base + "/static/style.css") in requests), "the stylesheet request was recorded"
            foreign = [u for _, u in requests if not u.startswith(base + "/")]
            assert foreign == [], f"requests left 127.0.0.1: {foreign}"
            assert len(documents) == 5, [d.url for d in documents]
            for doc in documents:
                headers = doc.all_headers()
                csp = headers.get("content-security-policy", "")
                assert "default-src 'none'" in csp, f"{doc.request.method} {doc.url} has CSP {csp!r}"
                assert headers.get("referrer-policy") == "no-referrer", doc.url
                assert "no-store" in headers.get("cache-control", ""), doc.url
            context.close()

            # Layout at phone width: measuring needs JavaScript, so a second context has it on.
            measuring = browser.new_context(java_script_enabled=True, **PHONE)
            measured: list[str] = []
            measuring.on("request", lambda r: measured.append(r.url))
            mpage = measuring.new_page()
            widths: dict[str, tuple[int, int]] = {}

            def width(label: str) -> None:
                widths[label] = mpage.evaluate(
                    "[document.documentElement.scrollWidth, document.documentElement.clientWidth]")

            mpage.goto(base + "/")
            width("form")
            mpage.goto(base + "/help")
            width("help")
            mpage.goto(base + "/followup")
            mpage.fill("#receipt", code)
            _submit(mpage)
            expect(mpage.locator("#messages li")).to_have_count(1)
            width("opened tip")
            measuring.close()
            for label, (scroll, client) in widths.items():
                assert client == PHONE_WIDTH, f"{label}: the page is laid out {client}px wide, not at phone width"
                assert scroll <= PHONE_WIDTH, f"{label}: scrolls sideways at phone width ({scroll}px)"
            foreign = [u for u in measured if not u.startswith(base + "/")]
            assert foreign == [], f"requests left 127.0.0.1: {foreign}"
        finally:
            browser.close()

    data = shot.read_bytes()
    assert data.startswith(PNG_SIGNATURE) and len(data) > 1000, "the screenshot is a non-empty PNG"
    with Image.open(shot) as img:
        assert img.width == PHONE_WIDTH * PHONE_SCALE

    # What the browser saw was stored: one tip, one answer from the reporter.
    assert db.scalar(select(func.count()).select_from(Tip)) == 1
    assert db.scalar(select(func.count()).select_from(Message).where(Message.direction == "reporter")) == 1
