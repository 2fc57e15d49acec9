"""The reporter pages for a frightened reporter on a 360-px phone, in a real browser, JavaScript off
and on: the receipt code survives a language switch and Back, typed words survive a language switch,
a quick exit comes first, 911/988 can be tapped, errors reach a screen reader, the code can be kept,
and every control is big enough for a thumb.

Drives Debian's Chromium through Playwright against the app served on a loopback port.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from browser_support import launch, serve
from flask import Flask
from PIL import Image
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from test_reporter import open_with_inbox

from tipline import reading
from tipline.models import Tip

WIDTH, HEIGHT = 360, 740
CODE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){3}$")
MESSAGE = "A boy in 8th grade said he will bring his dad's gun on Friday. He showed a photo."
HALF = "He said it again in the\nlunch line, and"
# WCAG 2.5.5 (AAA, and Apple's and Google's guidance) asks 44 px; radios and checkboxes are 24 px
# (2.5.8 AA) inside a row of 44 px that is their label, so the row is what a thumb hits.
TARGET, SMALL_TARGET = 44, 24


@pytest.fixture(params=[False, True], ids=["js-off", "js-on"])
def phone(request: pytest.FixtureRequest, app: Flask) -> Iterator[tuple[Any, str]]:
    """A 360-px touch phone against the served app: (browser context, base URL)."""
    with serve(app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(java_script_enabled=request.param, viewport={"width": WIDTH,
                                          "height": HEIGHT}, is_mobile=True, has_touch=True,
                                          device_scale_factor=2, accept_downloads=True)
            yield context, base
            context.close()
        finally:
            browser.close()


def _press(page: Any, selector: str) -> Any:
    """Press a button or link that loads a page (no JavaScript needed) and return the response."""
    with page.expect_navigation() as nav:
        page.click(selector)
    return nav.value


def _png(tmp_path: Path, name: str = "chat-screenshot.png") -> str:
    path = tmp_path / name
    Image.new("RGB", (60, 40), (200, 30, 30)).save(path, format="PNG")
    return str(path)


def _send(page: Any, base: str, message: str = MESSAGE) -> str:
    page.goto(base + "/")
    page.fill("#message", message)
    sent = _press(page, "#tip-form button[type=submit]")
    assert sent.status == 200, page.inner_text("main")
    code = page.inner_text("#receipt-code").strip()
    assert CODE.match(code), code
    return code


def _tips(db: Session) -> int:
    db.expire_all()
    return int(db.scalar(select(func.count()).select_from(Tip)) or 0)


def _box(page: Any, selector: str) -> dict[str, float]:
    box = page.locator(selector).first.bounding_box()
    assert box is not None, f"{selector} is not displayed"
    return dict(box)


def test_receipt_survives_language_switch_and_back(phone: tuple[Any, str], db: Session) -> None:
    context, base = phone
    page = context.new_page()
    code = _send(page, base)

    # The language button posts the receipt's own hidden fields: the same code, in Spanish.
    switched = _press(page, "header button[name=switch_lang]")
    assert switched.request.method == "POST" and code not in switched.url
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Gracias. Recibimos su aviso.")
    assert page.inner_text("#receipt-code").strip() == code
    _press(page, "header button[name=switch_lang]")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    assert page.inner_text("#receipt-code").strip() == code

    # Leaving and coming back with Back: the browser asks to send the form again (the page is
    # never cached); sending it again shows the same code and stores nothing twice.
    _press(page, "a.button-link")
    expect(page.locator("#tip-form")).to_be_visible()
    try:
        page.go_back()
    except PlaywrightError as exc:
        assert "ERR_CACHE_MISS" in str(exc)  # Chromium's "Confirm Form Resubmission" page
    page.wait_for_load_state()
    expect(page.locator("body.neterror")).to_have_count(1)
    again = page.reload()
    assert again is not None and again.request.method == "POST"
    assert page.inner_text("#receipt-code").strip() == code
    assert _tips(db) == 1


def test_language_switch_keeps_what_was_typed_and_the_open_tip(phone: tuple[Any, str], db: Session,
                                                               instance: Path, tmp_path: Path) -> None:
    context, base = phone
    page = context.new_page()
    page.goto(base + "/")
    page.check("input[name=category][value=threat]")
    page.select_option("#school", "SHS")
    page.fill("#message", HALF)
    page.fill("#contact", "a parent")
    page.set_input_files("#attachment", [_png(tmp_path)])
    switched = _press(page, "header button[name=switch_lang]")
    assert switched.status == 200
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Cuéntenos qué está pasando")
    expect(page.locator("#message")).to_have_value(HALF)
    expect(page.locator("#contact")).to_have_value("a parent")
    expect(page.locator("#school")).to_have_value("SHS")
    expect(page.locator("input[name=category][value=threat]")).to_be_checked()
    expect(page.locator("#kept-files")).to_contain_text("chat-screenshot.png")
    expect(page.locator("#errors")).to_have_count(0)
    assert _tips(db) == 0, "switching the language sends nothing"

    # The kept file goes with the tip.
    page.fill("#message", HALF + " it was real.")
    _press(page, "#tip-form button[type=submit]")
    code = page.inner_text("#receipt-code").strip()
    assert _tips(db) == 1
    tip = db.scalars(select(Tip)).one()
    key = open_with_inbox(db, instance, tip)
    [attachment] = tip.attachments
    assert reading.attachment_meta(attachment, key).filename == "chat-screenshot.png"
    assert reading.attachment_content(attachment, key).startswith(b"\x89PNG")

    # The code box keeps a half-typed code through a switch.
    page.goto(base + "/followup")
    page.fill("#receipt", code[:9])
    _press(page, "header button[name=switch_lang]")
    expect(page.locator("#receipt")).to_have_value(code[:9])
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # An opened tip stays open, with the half-written answer.
    page.fill("#receipt", code)
    _press(page, "#open-form button[type=submit]")
    page.fill("#message", HALF)
    _press(page, "header button[name=switch_lang]")
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.locator("h1")).to_have_text("Su aviso")
    expect(page.locator("#tip-message")).to_have_text(HALF + " it was real.")
    expect(page.locator("#message")).to_have_value(HALF)
    assert len(tip.messages) == 0


def _reporter_pages(page: Any, base: str) -> Iterator[str]:
    """Visit each reporter page in turn, yielding its name."""
    for path in ("/", "/help", "/followup", "/no-such-page"):
        page.goto(base + path)
        yield path
    _send(page, base)
    yield "receipt"
    code = page.inner_text("#receipt-code").strip()
    page.goto(base + "/followup")
    page.fill("#receipt", code)
    _press(page, "#open-form button[type=submit]")
    yield "opened tip"


def test_quick_exit_is_first_and_visible_on_every_page(phone: tuple[Any, str]) -> None:
    context, base = phone
    page = context.new_page()
    seen = []
    for name in _reporter_pages(page, base):
        exit_link = page.locator("a.quick-exit")
        expect(exit_link).to_have_count(1)
        expect(exit_link).to_have_text("Leave this site")
        href = exit_link.get_attribute("href") or ""
        assert href.startswith("https://") and "127.0.0.1" not in href, href
        page.keyboard.press("Tab")
        expect(exit_link).to_be_focused()
        box = _box(page, "a.quick-exit")
        assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH and box["y"] + box["height"] <= HEIGHT, (
            name, box)
        assert box["height"] >= TARGET and box["width"] >= TARGET, (name, box)
        # Still on screen at the bottom of a long page.
        page.mouse.wheel(0, 5000)
        expect(exit_link).to_be_in_viewport()
        seen.append(name)
    assert len(seen) == 6
    page.goto(base + "/help")
    expect(page.locator("main")).to_contain_text("History")
    expect(page.locator("#leaving")).to_be_visible()


def test_crisis_numbers_can_be_tapped(phone: tuple[Any, str]) -> None:
    context, base = phone
    page = context.new_page()
    response = page.goto(base + "/")
    assert response is not None
    banner = page.locator("p.crisis")
    for href in ("tel:911", "tel:988", "sms:988"):
        link = banner.locator(f'a[href="{href}"]')
        expect(link).to_have_count(1)
        box = link.bounding_box()
        assert box is not None and box["height"] >= TARGET and box["width"] >= TARGET, (href, box)
    expect(banner).to_contain_text("In an emergency call 911")
    # The CSP limits fetches and form posts; following a tel: or sms: link is neither.
    csp = response.all_headers()["content-security-policy"]
    assert "navigate-to" not in csp and "form-action 'self'" in csp


def test_failed_submit_is_announced_and_keeps_files(phone: tuple[Any, str], db: Session, instance: Path,
                                                     tmp_path: Path) -> None:
    context, base = phone
    page = context.new_page()
    page.goto(base + "/")
    expect(page.locator("#errors")).to_have_count(0)  # no alert box until there is something to say
    page.set_input_files("#attachment", [_png(tmp_path, "proof.png")])
    failed = _press(page, "#tip-form button[type=submit]")
    assert failed.status == 400
    assert page.title().startswith("Error: ")
    summary = page.locator("#errors")
    expect(summary).to_be_focused()
    expect(summary).to_have_attribute("role", "alert")
    expect(summary).to_have_attribute("tabindex", "-1")
    link = summary.locator('a[href="#message"]')
    expect(link).to_contain_text("the message box is empty")
    message = page.locator("#message")
    expect(message).to_have_attribute("aria-invalid", "true")
    expect(message).to_have_attribute("aria-describedby", "message-error")
    expect(page.locator("#message-error")).to_contain_text("the message box is empty")
    expect(page.locator("#contact")).not_to_have_attribute("aria-invalid", "true")
    expect(page.locator("#kept-files")).to_contain_text("proof.png")
    link.click()
    expect(message).to_be_focused()
    page.keyboard.type(MESSAGE)
    _press(page, "#tip-form button[type=submit]")
    assert not page.title().startswith("Error")
    tip = db.scalars(select(Tip)).one()
    [attachment] = tip.attachments
    assert reading.attachment_meta(attachment, open_with_inbox(db, instance, tip)).filename == "proof.png"

    # A wrong receipt code: the same pattern on the follow-up page.
    page.goto(base + "/followup")
    page.fill("#receipt", "AAAA-BBBB-CCCC-DDDD")
    _press(page, "#open-form button[type=submit]")
    assert page.title().startswith("Error: ")
    expect(page.locator("#errors")).to_be_focused()
    expect(page.locator("#receipt")).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#receipt")).to_have_attribute("aria-describedby", "receipt-error")


def test_the_code_can_be_kept_without_javascript(phone: tuple[Any, str], tmp_path: Path) -> None:
    context, base = phone
    page = context.new_page()
    code = _send(page, base)
    posts: list[str] = []
    page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)
    with page.expect_download() as download_info:
        page.click("#keep button[type=submit]")
    download = download_info.value
    assert download.suggested_filename == "receipt-code.txt"
    saved = tmp_path / "code.txt"
    download.save_as(saved)
    text = saved.read_text()
    assert code in text and "/followup" in text
    assert posts == [base + "/receipt/file"], "the code is asked for by POST, never in a URL"
    # The page is still there, and prints only the code and how to use it.
    assert page.inner_text("#receipt-code").strip() == code
    page.emulate_media(media="print")
    expect(page.locator("#receipt-code")).to_be_visible()
    for hidden in (".exit-bar", "p.crisis", "header nav", "#keep", "footer"):
        expect(page.locator(hidden)).to_be_hidden()
    page.emulate_media(media="screen")
    # A long press selects the whole code.
    assert page.locator("#receipt-code").evaluate("e => getComputedStyle(e).userSelect") == "all"


def test_tap_targets(phone: tuple[Any, str], tmp_path: Path) -> None:
    context, base = phone
    page = context.new_page()
    page.goto(base + "/")
    sizes: dict[str, tuple[float, float]] = {}

    def measure(selector: str, minimum: int = TARGET) -> None:
        for n, locator in enumerate(page.locator(selector).all()):
            box = locator.bounding_box()
            assert box is not None, selector
            sizes[f"{selector}[{n}]"] = (box["width"], box["height"])
            assert box["height"] >= minimum and box["width"] >= minimum, (selector, n, box)

    measure("header a")
    measure("header button")
    measure("a.quick-exit")
    measure("p.crisis a")
    measure("label.choice")
    measure("input[type=radio]", SMALL_TARGET)
    measure("#attachment")
    measure("#school")
    measure("#tip-form button[type=submit]")
    page.set_input_files("#attachment", [_png(tmp_path)])
    _press(page, "#tip-form button[type=submit]")
    measure("#kept-files label.choice")
    measure("#kept-files input[type=checkbox]", SMALL_TARGET)
    measure("#errors a")
    page.fill("#message", MESSAGE)
    _press(page, "#tip-form button[type=submit]")
    measure("#keep button")
    measure("a.button-link")
    # Nothing is wider than the phone.
    scroll = page.locator("html").evaluate("e => e.scrollWidth") if context_js(page) else None
    assert scroll is None or scroll <= WIDTH
    assert len(sizes) > 20


def context_js(page: Any) -> bool:
    try:
        return bool(page.evaluate("1 + 1 == 2"))
    except PlaywrightError:
        return False
