"""Small helpers the reporter tests share."""

from __future__ import annotations

import io
import re
from typing import Any

from flask.testing import FlaskClient
from PIL import Image

RECEIPT = re.compile(r'id="receipt-code">([0-9A-Z-]+)<')


def token(client: FlaskClient, path: str = "/") -> str:
    html = client.get(path).get_data(as_text=True)
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the form carries a CSRF token"
    return match.group(1)


def submit(client: FlaskClient, message: str = "Someone keeps writing mean things on my locker",
           files: list[tuple[bytes, str]] | None = None, headers: dict[str, str] | None = None,
           environ: dict[str, str] | None = None, **fields: Any) -> tuple[int, str]:
    data: dict[str, Any] = {"csrf_token": token(client), "message": message, "category": "other",
                            "school": "SHS", **fields}
    if files:
        data["attachment"] = [(io.BytesIO(content), name) for content, name in files]
    response = client.post("/", data=data, content_type="multipart/form-data", headers=headers or {},
                           environ_base=environ or {})
    return response.status_code, response.get_data(as_text=True)


def receipt_of(html: str) -> str:
    match = RECEIPT.search(html)
    assert match, "the receipt page shows the code"
    return match.group(1)


def jpeg_with_gps() -> bytes:
    img = Image.new("RGB", (64, 48), (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    exif[0x0110] = "SecretPhone 9"  # Model
    gps = {1: "N", 2: (41.0, 8.0, 30.0), 3: "W", 4: (73.0, 21.0, 10.0)}
    exif[0x8825] = gps  # GPSInfo IFD
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    return out.getvalue()


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 32), (10, 120, 200)).save(out, format="PNG")
    return out.getvalue()


def refused_after(answers: list[int], limit: int = 10) -> int:
    """How many answers came before the first 429, checking that it came at the limit and held.

    The limiter counts by sliding window counter: at a minute boundary the previous window's
    count is weighted down and rounded, so one more attempt can pass there. ``limit + 1`` is
    accepted for that reason, never more.
    """
    assert 429 in answers, answers
    first = answers.index(429)
    assert first in (limit, limit + 1), answers
    assert set(answers[:first]) == {404} and set(answers[first:]) == {429}, answers
    return first

