"""File checks below the web layer: what is accepted, converted or refused, and why."""

from __future__ import annotations

import fcntl
import io
import struct
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import photos
import pikepdf
import pytest
from flask import Flask
from flask.testing import FlaskClient
from helpers import jpeg_with_gps, png, receipt_of, submit, token
from PIL import Image, ImageCms, ImageFile

from tipline import uploads
from tipline.uploads import UploadRejected, clean, clean_all, safe_filename

LIMIT = 10 * 1024 * 1024


def test_heic_photo_becomes_jpeg_without_metadata() -> None:
    pillow_heif = pytest.importorskip("pillow_heif")
    pillow_heif.register_heif_opener()
    out = io.BytesIO()
    Image.new("RGB", (64, 48), (30, 60, 90)).save(out, format="HEIF")
    cleaned = clean("IMG_4021.HEIC", out.getvalue(), LIMIT)
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
    assert clean("notes.PDF", photos.document_pdf(), 10**7).content_type == "application/pdf"
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


# ----- Defect: metadata survived re-encoding, and PDFs were stored as sent -----------------------------

MARKER = photos.MARKER_PREFIX.encode()


def jpeg_segments(data: bytes) -> list[int]:
    """The markers of a JPEG's segments before its image data."""
    found, pos = [], 2
    while data[pos] == 0xFF and data[pos + 1] != 0xDA:
        found.append(data[pos + 1])
        pos += 2 + struct.unpack(">H", data[pos + 2:pos + 4])[0]
    return found


def png_chunks(data: bytes) -> list[bytes]:
    found, pos = [], 8
    while pos < len(data):
        length = struct.unpack(">I", data[pos:pos + 4])[0]
        found.append(data[pos + 4:pos + 8])
        pos += 12 + length
    return found


def test_the_test_files_carry_every_marker() -> None:
    """The phone and word processor files really hold what the tests below look for."""
    jpeg = photos.camera_jpeg()
    with Image.open(io.BytesIO(jpeg)) as img:
        gps = img.getexif().get_ifd(0x8825)
        assert gps[2] == photos.GPS_LATITUDE and img.getexif()[0x0110] == photos.MARKERS["exif-model"]
        assert {"exif", "xmp", "photoshop", "comment", "icc_profile"} <= set(img.info)
        profile = ImageCms.ImageCmsProfile(io.BytesIO(img.info["icc_profile"]))
        assert ImageCms.getProfileDescription(profile).strip() == photos.MARKERS["icc-description"]
    for name in ("exif-make", "exif-model", "makernote", "gps-area", "xmp-creator", "iptc-byline",
                 "jpeg-comment", "icc-description", "exif-serial", "exif-owner"):
        assert photos.MARKERS[name].encode() in jpeg, name
    with Image.open(io.BytesIO(photos.screenshot_png())) as img:
        assert img.text == {"Author": photos.MARKERS["png-text"], "Description": photos.MARKERS["png-itxt"],
                            "Comment": photos.MARKERS["png-ztxt"]}
        assert "icc_profile" in img.info and "exif" in img.info
    assert {b"tEXt", b"iTXt", b"zTXt", b"iCCP", b"eXIf"} <= set(png_chunks(photos.screenshot_png()))
    with pikepdf.open(io.BytesIO(photos.document_pdf())) as pdf:
        assert str(pdf.docinfo["/Author"]) == photos.MARKERS["pdf-author"]
        assert "/Metadata" in pdf.Root and "/Metadata" in pdf.pages[0].obj


def test_camera_photo_keeps_no_metadata() -> None:
    cleaned = clean("IMG_2041.JPG", photos.camera_jpeg(), LIMIT)
    assert MARKER not in cleaned.data
    # Only what a plain JPEG needs: JFIF, tables, frame. No APP1 (EXIF, XMP), APP2 (ICC),
    # APP13 (IPTC) or COM.
    assert set(jpeg_segments(cleaned.data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD}
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert not img.getexif() and "icc_profile" not in img.info and "comment" not in img.info


def test_screenshot_keeps_no_metadata() -> None:
    cleaned = clean("Screenshot.png", photos.screenshot_png(), LIMIT)
    assert set(png_chunks(cleaned.data)) == {b"IHDR", b"IDAT", b"IEND"}
    assert MARKER not in cleaned.data


def test_heic_photo_keeps_no_metadata() -> None:
    if not (uploads.HEIC and photos.heic_available()):
        pytest.skip("pillow-heif cannot write HEIC here")
    heic = photos.heic_photo()
    with Image.open(io.BytesIO(heic)) as img:
        assert img.getexif()[0x0110] == photos.MARKERS["exif-model"] and "xmp" in img.info
    cleaned = clean("IMG_2043.HEIC", heic, LIMIT)
    assert cleaned.filename == "IMG_2043.jpg" and MARKER not in cleaned.data
    assert set(jpeg_segments(cleaned.data)) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD}
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert max(img.size) == uploads.PHOTO_SIDE


def _all_pdf_text(pdf: pikepdf.Pdf) -> bytes:
    """Every object of a PDF, streams decoded: where a marker could hide after compression."""
    parts = []
    for obj in pdf.objects:
        if isinstance(obj, pikepdf.Stream):
            parts.append(obj.read_bytes(pikepdf.StreamDecodeLevel.all) if obj.get("/Subtype") != pikepdf.Name.Image
                         else obj.read_raw_bytes())
            parts.append(obj.stream_dict.unparse())
        else:
            parts.append(obj.unparse())
    return b"\n".join(parts)


def test_pdf_keeps_no_metadata_and_its_content() -> None:
    cleaned = clean("chat-log.pdf", photos.document_pdf(), LIMIT)
    assert MARKER not in cleaned.data
    with pikepdf.open(io.BytesIO(cleaned.data)) as pdf:
        assert "/Info" not in pdf.trailer
        assert MARKER not in _all_pdf_text(pdf)
        assert not any("/Metadata" in obj for obj in pdf.objects if isinstance(obj, pikepdf.Dictionary))
        [page] = pdf.pages
        assert b"Screenshot of the group chat" in page.Contents.read_bytes()
        photo = page.Resources.XObject.Im1
        assert set(jpeg_segments(photo.read_raw_bytes())) <= {0xE0, 0xDB, 0xC0, 0xC4, 0xDD}
        with Image.open(io.BytesIO(photo.read_raw_bytes())) as img:
            assert img.size == (320, 240)
            img.load()


def test_broken_or_locked_pdf_refused_clearly() -> None:
    with pytest.raises(UploadRejected, match="could not be opened as a PDF"):
        clean("notes.pdf", b"%PDF-1.7\n" + b"\x00garbage" * 50, LIMIT)
    with pikepdf.open(io.BytesIO(photos.document_pdf())) as pdf:
        out = io.BytesIO()
        pdf.save(out, encryption=pikepdf.Encryption(user="secret", owner="secret"))
    with pytest.raises(UploadRejected, match="locked with a password"):
        clean("bank.pdf", out.getvalue(), LIMIT)


def p3_image(color: tuple[int, int, int], fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (64, 64), color).save(out, format=fmt, icc_profile=photos.icc_profile())
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_colours_converted_to_srgb_before_the_profile_goes(fmt: str) -> None:
    """A Display P3 photo looks the same once its profile is dropped."""
    p3 = (40, 170, 90)
    p3_profile = ImageCms.ImageCmsProfile(io.BytesIO(photos.icc_profile()))
    expected = ImageCms.profileToProfile(Image.new("RGB", (1, 1), p3), p3_profile,
                                         ImageCms.createProfile("sRGB"), outputMode="RGB")
    assert expected is not None
    want = expected.getpixel((0, 0))
    assert isinstance(want, tuple)
    assert max(abs(a - b) for a, b in zip(want, p3, strict=True)) > 12, "the test colour differs in sRGB"
    cleaned = clean("wide." + fmt.lower(), p3_image(p3, fmt), LIMIT)
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert "icc_profile" not in img.info
        got = img.convert("RGB").getpixel((32, 32))
    assert isinstance(got, tuple)
    assert max(abs(a - b) for a, b in zip(got, want, strict=True)) <= (0 if fmt == "PNG" else 3), (got, want)


def test_jpeg_metadata_stripping_keeps_the_picture() -> None:
    data = uploads.strip_jpeg_metadata(photos.camera_jpeg())
    assert MARKER not in data
    with Image.open(io.BytesIO(data)) as img:
        assert img.size == photos.CAMERA_SIZE


# ----- Defect: a small file could make the server decode a huge picture ----------------------------------

@pytest.fixture
def decodes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple[int, int]]]:
    """Records the size of every picture Pillow decodes (the decoding itself still runs)."""
    seen: list[tuple[int, int]] = []
    real = ImageFile.ImageFile.load

    def load(self: ImageFile.ImageFile) -> Any:
        if self.tile:  # pixels still to decode (a loaded picture's load() does nothing)
            seen.append(self.size)
        return real(self)

    monkeypatch.setattr(ImageFile.ImageFile, "load", load)
    yield seen


def test_flood_picture_refused_from_its_header(decodes: list[tuple[int, int]]) -> None:
    flood = photos.flood_png()
    assert len(flood) < 300_000
    with Image.open(io.BytesIO(flood)) as img:
        assert img.size[0] * img.size[1] >= 49_000_000
    assert flood[24] == 16, "16 bits per sample"
    with pytest.raises(UploadRejected, match="too large a picture"):
        clean("flood.png", flood, LIMIT)
    assert decodes == [], "nothing was decoded"


def test_one_request_pictures_share_a_budget(decodes: list[tuple[int, int]]) -> None:
    big = photos.plain_png((4900, 4900))  # 24 MP each: one alone is allowed
    result = clean_all([(f"p{n}.png", big) for n in range(5)], LIMIT)
    assert result.files == []
    assert [str(r) for r in result.rejected] == [
        "“p4.png” and the pictures before it are too much to check in one message. Please send fewer pictures "
        "now and the rest as a follow-up with your receipt code."]
    assert decodes == [], "nothing was decoded"


def test_large_jpeg_decoded_at_reduced_scale(decodes: list[tuple[int, int]]) -> None:
    out = io.BytesIO()
    Image.new("RGB", (8064, 6048), (120, 60, 30)).save(out, format="JPEG", quality=80)  # a 48 MP photo
    cleaned = clean("IMG_48MP.JPG", out.getvalue(), LIMIT)
    assert decodes == [(4032, 3024)]
    with Image.open(io.BytesIO(cleaned.data)) as img:
        assert img.size == (2560, 1920)


def hold_slots(directory: Path, stack: ExitStack) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for n in range(uploads.IMAGE_SLOTS):
        handle = stack.enter_context((directory / f"image-work-{n}.lock").open("ab"))
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)


def test_busy_picture_work_asks_to_send_again(app: Flask, client: FlaskClient, instance: Path) -> None:
    with ExitStack() as stack:
        hold_slots(instance / "locks", stack)  # as other worker processes would
        status, html = submit(client, message="keep these words", files=[(photos.small_photo(1), "a.jpg")])
        assert status == 400
        assert "checking many pictures right now" in html and "keep these words" in html
        assert "attach them again" in html
        status, html = submit(client, message="a tip without pictures still goes through")
        assert status == 200
        reply = client.post("/followup", data={
            "csrf_token": token(client, "/followup"), "receipt": receipt_of(html), "action": "reply",
            "message": "my answer, kept", "attachment": [(io.BytesIO(photos.small_photo(2)), "b.jpg")]},
            content_type="multipart/form-data")
        text = reply.get_data(as_text=True)
        assert reply.status_code == 400 and "my answer, kept" in text
        assert "checking many pictures right now" in text and "attach the files again" in text
    status, html = submit(client, message="keep these words", files=[(photos.small_photo(1), "a.jpg")])
    assert status == 200, "the slots are free again"

