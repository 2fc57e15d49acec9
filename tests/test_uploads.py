"""File checks below the web layer: what is accepted, converted or refused, and why."""

from __future__ import annotations

import io

import pytest
from helpers import jpeg_with_gps, png
from PIL import Image

from tipline.uploads import UploadRejected, clean, safe_filename


def test_heic_photo_becomes_jpeg_without_metadata() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 60, 90)).save(out, format="HEIF")
    cleaned = clean("IMG_4021.HEIC", out.getvalue(), 10 * 1024 * 1024)
    assert cleaned.filename == "IMG_4021.jpg" and cleaned.content_type == "image/jpeg"
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert img.size == (64, 48) and len(img.getexif()) == 0


def test_png_text_chunks_removed() -> None:
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Secret Name")
    out = io.BytesIO()
    Image.new("RGB", (8, 8)).save(out, format="PNG", pnginfo=info)
    assert b"Secret Name" in out.getvalue()
    assert b"Secret Name" not in clean("a.png", out.getvalue(), 10**7).data


def test_rotation_kept_when_exif_dropped() -> None:
    img = Image.new("RGB", (40, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: display rotated 90 degrees
    out = io.BytesIO()
    img.save(out, format="JPEG", exif=exif)
    with Image.open(io.BytesIO(clean("turned.jpg", out.getvalue(), 10**7).data)) as result:
        assert result.size == (20, 40)


def test_pdf_accepted_by_signature_and_others_refused() -> None:
    assert clean("notes.PDF", b"%PDF-1.7\n...", 10**7).content_type == "application/pdf"
    for data, name in ((b"GIF89a....", "x.gif"), (b"<html>", "x.jpg"), (b"", "empty.png")):
        with pytest.raises(UploadRejected):
            clean(name, data, 10**7)
    with pytest.raises(UploadRejected, match="larger than"):
        clean("big.jpg", jpeg_with_gps(), 100)


def test_filenames_are_made_safe() -> None:
    assert safe_filename("../../etc/passwd", "file") == "passwd"
    assert safe_filename("C:\\Users\\kid\\photo<1>.png", "file") == "photo1.png"
    assert safe_filename("\x00\x07", "file") == "file"
    assert clean("..\\evil.png", png(), 10**7).filename == "evil.png"
