"""Files the size and shape phones and word processors make, for tests and benchmarks.

Everything is generated from fixed seeds (the same bytes every run) and made once per
process: ``camera_jpeg()`` and friends return bytes, ``path(name)`` writes the same file into
a per-process folder for tests that need a path (a browser's file picker).

Every metadata field a phone or a word processor fills carries a marker from ``MARKERS``
(all start with ``MARKER_PREFIX``), so a test can look for any of them in what was stored.
"""

from __future__ import annotations

import atexit
import functools
import io
import random
import shutil
import struct
import tempfile
import zlib
from pathlib import Path

from PIL import Image, ImageDraw, PngImagePlugin

MARKER_PREFIX = "TLMARK"
MARKERS = {name: f"{MARKER_PREFIX}-{name}" for name in (
    "exif-make", "exif-model", "exif-software", "exif-artist", "exif-copyright", "exif-description",
    "exif-owner", "exif-serial", "exif-lens", "exif-comment", "makernote", "gps-area", "gps-method",
    "xmp-creator", "xmp-location", "iptc-byline", "iptc-caption", "iptc-city", "jpeg-comment", "icc-description",
    "png-text", "png-itxt", "png-ztxt", "pdf-title", "pdf-author", "pdf-subject", "pdf-keywords",
    "pdf-creator", "pdf-producer", "pdf-company", "pdf-xmp-creator", "pdf-xmp-tool", "pdf-page-xmp",
)}
# Where the camera photo says it was taken (a school's coordinates, in degrees, minutes, seconds).
GPS_LATITUDE = (41.0, 8.0, 30.0)
GPS_LONGITUDE = (73.0, 21.0, 10.0)

CAMERA_SIZE = (4032, 3024)  # a 12-megapixel phone camera, stored landscape with an orientation tag
SCREEN_SIZE = (1179, 2556)  # an iPhone 15 screenshot
# Display P3 primaries adapted to D50, as phones' own profiles carry them.
P3_COLORANTS = ((0.5151, 0.2412, -0.0011), (0.2919, 0.6922, 0.0419), (0.1572, 0.0666, 0.7841))


@functools.cache
def folder() -> Path:
    """One folder per process for files that need a path; removed when the process ends."""
    where = Path(tempfile.mkdtemp(prefix="tipline-photos-"))
    atexit.register(shutil.rmtree, where, ignore_errors=True)
    return where


def path(name: str) -> Path:
    """``name`` is one of FILES; the file is written once per process."""
    target = folder() / name
    if not target.exists():
        target.write_bytes(FILES[name]())
    return target


# ----- ICC, XMP and IPTC blocks, built by hand so each can carry a marker ----------------------------

def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def icc_profile(description: str = MARKERS["icc-description"]) -> bytes:
    """An ICC v2 display profile with Display P3 primaries (gamma 2.2) and the given description."""
    ascii_text = description.encode("ascii") + b"\0"
    desc = (b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text + struct.pack(">II", 0, 0)
            + struct.pack(">HB", 0, 0) + b"\0" * 67)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(2.2 * 256)) + b"\0\0"
    tags: list[tuple[bytes, bytes]] = [
        (b"desc", desc), (b"cprt", b"text\0\0\0\0" + b"No copyright\0"), (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", _xyz(*P3_COLORANTS[0])), (b"gXYZ", _xyz(*P3_COLORANTS[1])), (b"bXYZ", _xyz(*P3_COLORANTS[2])),
        (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve),
    ]
    table, body = b"", b""
    offset = 128 + 4 + 12 * len(tags)
    for sig, data in tags:
        padded = data + b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += padded
    size = offset + len(body)
    header = (struct.pack(">I", size) + b"lcms" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
              + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"lcms" + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body


def xmp_packet(creator: str, location: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/" xmlns:xmp="http://ns.adobe.com/xap/1.0/">'
        f'<dc:creator><rdf:Seq><rdf:li>{creator}</rdf:li></rdf:Seq></dc:creator>'
        f'<photoshop:City>{location}</photoshop:City><xmp:CreatorTool>{creator}</xmp:CreatorTool>'
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()


def _iptc() -> bytes:
    """A Photoshop APP13 block with IPTC-IIM by-line, caption and city."""
    records = b"".join(b"\x1c\x02" + bytes([tag]) + struct.pack(">H", len(v)) + v for tag, v in (
        (80, MARKERS["iptc-byline"].encode()), (120, MARKERS["iptc-caption"].encode()),
        (90, MARKERS["iptc-city"].encode())))
    resource = b"8BIM" + struct.pack(">H", 0x0404) + b"\0\0" + struct.pack(">I", len(records)) + records
    return b"Photoshop 3.0\0" + resource + b"\0" * (len(resource) % 2)


def _segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def _camera_exif() -> Image.Exif:
    exif = Image.Exif()
    exif[0x010F] = MARKERS["exif-make"]
    exif[0x0110] = MARKERS["exif-model"]
    exif[0x0131] = MARKERS["exif-software"]
    exif[0x013B] = MARKERS["exif-artist"]
    exif[0x8298] = MARKERS["exif-copyright"]
    exif[0x010E] = MARKERS["exif-description"]
    exif[0x0112] = 6  # held upright: shown turned 90 degrees clockwise
    sub = exif.get_ifd(0x8769)
    sub[0x9003] = "2026:03:02 07:41:09"
    sub[0xA430] = MARKERS["exif-owner"]
    sub[0xA431] = MARKERS["exif-serial"]
    sub[0xA434] = MARKERS["exif-lens"]
    sub[0x9286] = b"ASCII\0\0\0" + MARKERS["exif-comment"].encode()
    sub[0x927C] = b"Apple iOS\0\0\x01MM" + MARKERS["makernote"].encode() + bytes(64)
    gps = exif.get_ifd(0x8825)
    gps.update({1: "N", 2: GPS_LATITUDE, 3: "W", 4: GPS_LONGITUDE, 5: 0, 6: 38.5,
                27: b"ASCII\0\0\0" + MARKERS["gps-method"].encode(),
                28: b"ASCII\0\0\0" + MARKERS["gps-area"].encode()})
    return exif


def _photo_pixels(size: tuple[int, int], seed: int) -> Image.Image:
    """Fine grain over smooth colour: compresses like a camera photo (about 4 MB at quality 90)."""
    w, h = size
    rng = random.Random(seed)
    grain = Image.frombytes("L", (w // 2, h // 2), rng.randbytes((w // 2) * (h // 2))).resize(
        (w, h), Image.Resampling.BILINEAR)
    ramp = Image.linear_gradient("L").resize((w, h))
    return Image.merge("RGB", (Image.blend(grain, ramp, 0.55),
                               Image.blend(grain, ramp.transpose(Image.Transpose.ROTATE_180), 0.7), ramp))


def with_segments(jpeg: bytes, *segments: bytes) -> bytes:
    """Insert APPn/COM segments right after a JPEG's start-of-image marker."""
    assert jpeg[:2] == b"\xff\xd8"
    return jpeg[:2] + b"".join(segments) + jpeg[2:]


def camera_jpeg_at(quality: int = 90, seed: int = 12) -> bytes:
    out = io.BytesIO()
    _photo_pixels(CAMERA_SIZE, seed).save(out, format="JPEG", quality=quality, exif=_camera_exif(),
                                          icc_profile=icc_profile(), comment=MARKERS["jpeg-comment"])
    xmp = _segment(0xE1, b"http://ns.adobe.com/xap/1.0/\0" + xmp_packet(MARKERS["xmp-creator"],
                                                                         MARKERS["xmp-location"]))
    return with_segments(out.getvalue(), xmp, _segment(0xED, _iptc()))


@functools.cache
def small_photo(seed: int = 1, size: tuple[int, int] = (800, 600)) -> bytes:
    """A plain photo of about 100 KB (a messaging app's compressed copy), without metadata."""
    out = io.BytesIO()
    _photo_pixels(size, seed).save(out, format="JPEG", quality=75)
    return out.getvalue()


@functools.cache
def camera_jpeg() -> bytes:
    """A 12 MP phone photo of about 4 MB: EXIF with GPS, camera make and model, a maker note,
    orientation 6; XMP, IPTC, a JPEG comment and a Display P3 ICC profile."""
    return camera_jpeg_at()


@functools.cache
def camera_jpeg_near_limit() -> bytes:
    """A camera JPEG just under 10 MB (the per-file limit the form promises)."""
    return camera_jpeg_at(quality=98)


@functools.cache
def screenshot_png() -> bytes:
    """A 1-2 MB chat screenshot at an iPhone's resolution, with text chunks and an ICC profile."""
    rng = random.Random(2)
    w, h = SCREEN_SIZE
    img = Image.new("RGB", (w, h), (242, 242, 247))
    draw = ImageDraw.Draw(img)
    y = 260
    for i in range(14):
        mine = i % 2 == 0
        bw, bh = rng.randint(500, 900), rng.randint(90, 200)
        x = w - bw - 40 if mine else 40
        draw.rounded_rectangle((x, y, x + bw, y + bh), 36, fill=(10, 132, 255) if mine else (229, 229, 234))
        for line in range(bh // 44):
            words = "".join(rng.choice("abcdefghij klmnop qrstuv wxyz") for _ in range(bw // 14))
            draw.text((x + 30, y + 20 + line * 40), words, fill=(255, 255, 255) if mine else (0, 0, 0),
                      font_size=30)
        y += bh + 30
        if i == 5:  # a photo someone shared in the chat
            shared = Image.frombytes("RGB", (200, 150), rng.randbytes(200 * 150 * 3))
            img.paste(shared.resize((800, 600), Image.Resampling.BICUBIC), (40, y))
            y += 630
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", MARKERS["png-text"])
    info.add_itxt("Description", MARKERS["png-itxt"], lang="en")
    info.add_text("Comment", MARKERS["png-ztxt"], zip=True)
    exif = Image.Exif()
    exif[0x0110] = MARKERS["exif-model"]
    out = io.BytesIO()
    img.save(out, format="PNG", pnginfo=info, icc_profile=icc_profile(), exif=exif)
    return out.getvalue()


def heic_available() -> bool:
    try:
        import pillow_heif
    except ImportError:  # pragma: no cover
        return False
    return bool(pillow_heif.libheif_info().get("encoders", {}).get("x265"))


@functools.cache
def heic_photo() -> bytes:
    """A 12 MP HEIC photo (as an iPhone saves it) with EXIF (GPS, model), XMP and an ICC profile.

    Encoding takes seconds: call it only where HEIC is the point (``heic_available()`` first)."""
    import pillow_heif

    rng = random.Random(5)
    w, h = CAMERA_SIZE
    img = Image.frombytes("RGB", (w // 8, h // 8), rng.randbytes((w // 8) * (h // 8) * 3)).resize(
        (w, h), Image.Resampling.BICUBIC)
    exif = _camera_exif()
    del exif[0x0112]  # HEIC carries its rotation in the container
    out = io.BytesIO()
    pillow_heif.from_pillow(img).save(out, format="HEIF", quality=50, enc_params={"preset": "ultrafast"},
                                      exif=exif.tobytes(), icc_profile=icc_profile(),
                                      xmp=xmp_packet(MARKERS["xmp-creator"], MARKERS["xmp-location"]))
    return out.getvalue()


@functools.cache
def document_pdf() -> bytes:
    """A one-page PDF as a word processor saves it: Info fields, document and page XMP."""
    import pikepdf

    pdf = pikepdf.new()
    font = pdf.make_indirect(pikepdf.Dictionary(Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1,
                                                BaseFont=pikepdf.Name.Helvetica))
    # A phone photo pasted into the document: its EXIF (GPS, model) travels inside the PDF.
    pasted = io.BytesIO()
    _photo_pixels((320, 240), 9).save(pasted, format="JPEG", quality=80, exif=_camera_exif(),
                                      comment=MARKERS["jpeg-comment"])
    photo = pdf.make_stream(pasted.getvalue(), Type=pikepdf.Name.XObject, Subtype=pikepdf.Name.Image,
                            Width=320, Height=240, ColorSpace=pikepdf.Name.DeviceRGB, BitsPerComponent=8,
                            Filter=pikepdf.Name.DCTDecode)
    content = (b"BT /F1 18 Tf 72 720 Td (Screenshot of the group chat, Monday) Tj ET "
               b"q 320 0 0 240 72 400 cm /Im1 Do Q")
    page = pikepdf.Dictionary(Type=pikepdf.Name.Page, MediaBox=[0, 0, 612, 792],
                              Resources=pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font),
                                                           XObject=pikepdf.Dictionary(Im1=photo)),
                              Contents=pdf.make_stream(content))
    page_xmp = pdf.make_stream(xmp_packet(MARKERS["pdf-page-xmp"], "none"))
    page_xmp.Type, page_xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    page.Metadata = page_xmp
    pdf.pages.append(pikepdf.Page(page))
    pdf.docinfo = pdf.make_indirect(pikepdf.Dictionary({
        "/Title": MARKERS["pdf-title"], "/Author": MARKERS["pdf-author"], "/Subject": MARKERS["pdf-subject"],
        "/Keywords": MARKERS["pdf-keywords"], "/Creator": MARKERS["pdf-creator"],
        "/Producer": MARKERS["pdf-producer"], "/Company": MARKERS["pdf-company"],
        "/CreationDate": "D:20260302074109-05'00'", "/ModDate": "D:20260302074109-05'00'"}))
    doc_xmp = pdf.make_stream(xmp_packet(MARKERS["pdf-xmp-creator"], MARKERS["pdf-xmp-tool"]))
    doc_xmp.Type, doc_xmp.Subtype = pikepdf.Name.Metadata, pikepdf.Name.XML
    pdf.Root.Metadata = doc_xmp
    out = io.BytesIO()
    pdf.save(out, static_id=True, compress_streams=False, fix_metadata_version=False)
    return out.getvalue()


@functools.cache
def flood_png(side: int = 7000, bits: int = 16) -> bytes:
    """A picture made to flood a server: 49 megapixels of 16-bit RGB in under 300 KB."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    row = b"\0" * (1 + side * 3 * bits // 8)  # filter byte, then black pixels
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(side)) + packer.flush()
    header = struct.pack(">IIBBBBB", side, side, bits, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


@functools.cache
def plain_png(size: tuple[int, int]) -> bytes:
    """A flat 8-bit PNG of any size: small on the wire, costly to decode when large."""
    out = io.BytesIO()
    Image.new("RGB", size, (30, 90, 160)).save(out, format="PNG")
    return out.getvalue()


FILES = {
    "IMG_2041.JPG": camera_jpeg,
    "IMG_2042.JPG": camera_jpeg_near_limit,
    "Screenshot 2026-03-02 at 07.41.09.png": screenshot_png,
    "IMG_2043.HEIC": heic_photo,
    "chat-log.pdf": document_pdf,
}
