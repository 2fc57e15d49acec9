"""A reporter on a phone attaches what phones really make, in a real browser with JavaScript off.

A 4 MB 12-megapixel camera photo with GPS in its EXIF and a 1-2 MB screenshot on the form;
five files at the 10 MB limit on a follow-up, and again on a new tip. Drives Debian's
Chromium through Playwright against the app served on a loopback port.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import photos
from browser_support import PHONE, launch, serve
from flask import Flask
from PIL import Image
from playwright.sync_api import expect, sync_playwright
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_reporter import open_with_inbox

from tipline import reading
from tipline.models import Tip

MARKER = photos.MARKER_PREFIX.encode()


def _submit(page: Any) -> Any:
    with page.expect_navigation(timeout=120_000) as nav:
        page.click("button[type=submit]")
    return nav.value


def _write(tmp_path: Path, name: str, data: bytes) -> str:
    target = tmp_path / name
    target.write_bytes(data)
    return str(target)


def _stored(db: Session, instance: Path) -> list[list[tuple[str, bytes]]]:
    """Each tip's stored files, opened as staff would; the tip with most files first (times are
    kept to the minute, so two tips of one test can carry the same time)."""
    db.expire_all()
    found = []
    for tip in db.scalars(select(Tip)):
        key = open_with_inbox(db, instance, tip)
        found.append([(reading.attachment_meta(a, key).filename, reading.attachment_content(a, key))
                      for a in tip.attachments])
    return sorted(found, key=len, reverse=True)


def test_phone_sized_files_on_the_form_and_a_followup(app: Flask, db: Session, instance: Path,
                                                      tmp_path: Path) -> None:
    camera, shot = photos.camera_jpeg(), photos.screenshot_png()
    with Image.open(io.BytesIO(camera)) as img:
        assert img.getexif().get_ifd(0x8825)[2] == photos.GPS_LATITUDE and len(camera) > 3_500_000
    assert 1_000_000 < len(shot) < 2_000_000
    first = [_write(tmp_path, "IMG_2041.JPG", camera), _write(tmp_path, "Screenshot 2026-03-02.png", shot)]
    limit = app.extensions["tipline.settings"].max_attachment_bytes
    near = photos.camera_jpeg_near_limit()
    assert 0.85 * limit < len(near) <= limit
    five = [_write(tmp_path, f"IMG_30{n}.JPG", near) for n in range(5)]

    with serve(app) as base, sync_playwright() as p:
        browser = launch(p)
        try:
            context = browser.new_context(java_script_enabled=False, **PHONE)
            page = context.new_page()
            page.set_default_timeout(120_000)

            page.goto(base + "/")
            page.check("input[name=category][value=threat]")
            page.fill("#message", "He showed a gun in this photo and the chat")
            page.set_input_files("#attachment", first)
            sent = _submit(page)
            assert sent.status == 200, f"the form answered {sent.status}: {page.inner_text('main')}"
            code = page.inner_text("#receipt-code").strip()

            page.goto(base + "/followup")
            page.fill("#receipt", code)
            _submit(page)
            page.fill("#message", "All the photos from this morning")
            page.set_input_files("#attachment", five)
            answered = _submit(page)
            assert answered.status == 200, f"the follow-up answered {answered.status}: {page.inner_text('main')}"
            expect(page.locator("p.notice")).to_contain_text("Your message was added")

            page.goto(base + "/")
            page.fill("#message", "Five more photos of the wall")
            page.set_input_files("#attachment", five)
            again = _submit(page)
            assert again.status == 200, f"the form answered {again.status}: {page.inner_text('main')}"
            expect(page.locator("#receipt-code")).to_be_visible()
            context.close()
        finally:
            browser.close()

    tips = _stored(db, instance)
    assert [sorted(name for name, _ in files) for files in tips] == [
        ["IMG_2041.jpg", "IMG_300.jpg", "IMG_301.jpg", "IMG_302.jpg", "IMG_303.jpg", "IMG_304.jpg",
         "Screenshot 2026-03-02.png"],
        ["IMG_300.jpg", "IMG_301.jpg", "IMG_302.jpg", "IMG_303.jpg", "IMG_304.jpg"],
    ]
    for files in tips:
        for name, data in files:
            assert MARKER not in data, name
            with Image.open(io.BytesIO(data)) as img:
                assert not img.getexif(), f"{name} still has EXIF"
                assert "icc_profile" not in img.info and "comment" not in img.info
