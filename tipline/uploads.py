"""Checking and cleaning uploaded files before they are sealed.

Images are decoded and re-encoded from their pixels alone, which drops EXIF (GPS, camera
serials, maker notes), XMP, IPTC, comments, text chunks and anything hidden after the image
data; colours are converted to sRGB before the ICC profile (whose description can name a
person or a device) is dropped; HEIC photos from iPhones become JPEG; large photos are stored
at a size staff and police can read without mailing megabytes. PDFs are rewritten without
their Info dictionary, XMP streams and the metadata segments of embedded JPEGs. Anything else
is refused with a sentence a reporter understands.

Decoding is the expensive part, and a small file can claim a huge picture, so its cost is
read from the headers first: each picture, each request's pictures together, and the number
of requests doing picture work at once across all worker processes are bounded before any
pixel is decoded.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import io
import threading
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pikepdf
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

try:  # HEIC support is optional: without it HEIC photos are refused, not mis-read.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover
    HEIC = False

# A phone photo is 12-48 megapixels; Pillow refuses more than twice this before decoding.
MAX_SOURCE_PIXELS = 50_000_000
Image.MAX_IMAGE_PIXELS = MAX_SOURCE_PIXELS
# Photos are stored at most this many pixels on their long side (a 12 MP photo becomes about
# 5 MP, some hundreds of KB: five still fit one e-mail to police). Screenshots (PNG) keep more,
# so small text in a chat stays readable.
PHOTO_SIDE = 2560
SCREEN_SIDE = 4096
# Decoding cost in pixels, doubled for more than 8 bits per sample: what one picture may cost,
# by format, and what all pictures of one request may cost together. JPEGs are decoded at a
# reduced scale when they are much larger than they will be stored, so their cost is after
# that reduction; PNG and HEIC are decoded whole.
MAX_COST = {"jpeg": 50_000_000, "heic": 50_000_000, "png": 25_000_000}
REQUEST_BUDGET = 100_000_000
# Requests doing picture work at once on this server (all worker processes together), and how
# long one waits for its turn before the reporter is asked to try again (long enough for a few
# phone photos sent at once to queue rather than fail). A flood of pictures
# then keeps at most this many workers busy, and the pages stay quick for everyone else.
IMAGE_SLOTS = 2
SLOT_WAIT_SECONDS = 4.0

ACCEPT = ".jpg,.jpeg,.png,.heic,.heif,.pdf,image/jpeg,image/png,image/heic,image/heif,application/pdf"
KINDS_TEXT = "photos (JPEG, PNG, HEIC) and PDF files"
FORMATS = {"jpeg": ["JPEG", "MPO"], "png": ["PNG"], "heic": ["HEIF"]}
SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))

TOO_LARGE_PICTURE = "“{name}” is too large a picture. Please send a screenshot or a smaller photo."
TOO_MANY_PICTURES = ("“{name}” and the pictures before it are too much to check in one message. Please send "
                     "fewer pictures now and the rest as a follow-up with your receipt code.")
BUSY = ("We are checking many pictures right now and could not check yours. Your words are kept: please "
        "attach the files again and send in a minute.")
BAD_PICTURE = ("“{name}” says it is a picture but could not be opened as one. Please send a screenshot or "
               "photo again.")
BAD_PDF = "“{name}” could not be opened as a PDF. Please send a screenshot of it instead."
LOCKED_PDF = "“{name}” is locked with a password. Please send it without the password, or a screenshot."


class UploadRejected(ValueError):
    """The sentence to show the reporter: ``template`` filled with ``params`` (str() is English)."""

    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template.format(**params))


@dataclass(frozen=True)
class CleanFile:
    filename: str
    content_type: str
    data: bytes


@dataclass
class Cleaned:
    files: list[CleanFile] = field(default_factory=list)
    rejected: list[UploadRejected] = field(default_factory=list)


@dataclass(frozen=True)
class _Pending:
    shown: str
    kind: str
    data: bytes
    cost: int


def _kind(head: bytes) -> str | None:
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[4:8] == b"ftyp" and head[8:12] in (b"heic", b"heix", b"mif1", b"msf1", b"heim", b"heis", b"hevc"):
        return "heic"
    if head.startswith(b"%PDF-"):
        return "pdf"
    return None


def safe_filename(name: str, fallback: str) -> str:
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = "".join(ch for ch in base if ch.isprintable() and ch not in "<>:\"|?*").strip(" .")
    return cleaned[:120] or fallback


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


class ImageGate:
    """At most ``slots`` holders at once among every process that shares ``directory``.

    Each slot is a lock file held with ``flock``, which the kernel releases when a worker dies,
    so a crashed worker never keeps a slot. Without a directory the slots are this process's.
    """

    def __init__(self, directory: Path | None, slots: int = IMAGE_SLOTS, wait: float = SLOT_WAIT_SECONDS) -> None:
        self.directory, self.slots, self.wait = directory, slots, wait
        self._local = threading.BoundedSemaphore(slots)

    def paths(self) -> list[Path]:
        assert self.directory is not None
        return [self.directory / f"image-work-{n}.lock" for n in range(self.slots)]

    @contextlib.contextmanager
    def hold(self) -> Iterator[bool]:
        """Yield True while holding a slot, or False when none came free in time."""
        if self.directory is None:
            got = self._local.acquire(timeout=self.wait)
            try:
                yield got
            finally:
                if got:
                    self._local.release()
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        held = self._take()
        try:
            yield held is not None
        finally:
            if held is not None:
                held.close()  # closing the file releases its lock

    def _take(self) -> IO[bytes] | None:
        deadline = time.monotonic() + self.wait
        while True:
            for path in self.paths():
                handle = path.open("ab")
                try:
                    fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    handle.close()
                    continue
                return handle
            if time.monotonic() >= deadline:
                return None
            time.sleep(0.02)  # a slot is held for a fraction of a second to a few seconds


@functools.cache
def gate_for(directory: Path | None) -> ImageGate:
    return ImageGate(directory)


def clean_all(uploads: Sequence[tuple[str, bytes]], limit: int, gate: ImageGate | None = None) -> Cleaned:
    """Check, then clean, every file of one request; nothing is decoded unless all pass the checks."""
    result = Cleaned()
    pending: list[_Pending] = []
    spent = 0
    for filename, data in uploads:
        try:
            item = _precheck(safe_filename(filename, "file"), data, limit)
        except UploadRejected as exc:
            result.rejected.append(exc)
            continue
        spent += item.cost
        if spent > REQUEST_BUDGET:
            result.rejected.append(UploadRejected(TOO_MANY_PICTURES, name=item.shown))
            continue
        pending.append(item)
    if result.rejected or not pending:
        return result  # the message is refused anyway: spend no decoding on it
    with (gate or gate_for(None)).hold() as got:
        if not got:
            result.rejected.append(UploadRejected(BUSY))
            return result
        for item in pending:
            try:
                result.files.append(_clean_pdf(item) if item.kind == "pdf" else _reencode(item))
            except UploadRejected as exc:
                result.rejected.append(exc)
    return result


def clean(filename: str, data: bytes, limit: int) -> CleanFile:
    """Clean one file on its own (raises UploadRejected)."""
    result = clean_all([(filename, data)], limit)
    if result.rejected:
        raise result.rejected[0]
    return result.files[0]


def _precheck(shown: str, data: bytes, limit: int) -> _Pending:
    """Size, type and, for pictures, what decoding will cost, from the headers alone."""
    if len(data) > limit:
        raise UploadRejected("“{name}” is larger than {mb} MB. Please send a smaller file.", name=shown,
                             mb=limit // (1024 * 1024))
    if not data:
        raise UploadRejected("“{name}” is empty.", name=shown)
    kind = _kind(data[:16])
    if kind is None:
        raise UploadRejected("“{name}” is not a type we accept. You can send " + KINDS_TEXT + ".", name=shown)
    if kind == "pdf":
        return _Pending(shown, kind, data, 0)
    if kind == "heic" and not HEIC:
        raise UploadRejected("“{name}” is a HEIC photo we cannot read here. Please send a screenshot instead.",
                             name=shown)
    try:
        with _opened(data, kind) as img:
            cost = img.size[0] * img.size[1] * (2 if _bits(img, kind, data) > 8 else 1)
    except Image.DecompressionBombError as exc:
        raise UploadRejected(TOO_LARGE_PICTURE, name=shown) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadRejected(BAD_PICTURE, name=shown) from exc
    if cost > MAX_COST[kind]:
        raise UploadRejected(TOO_LARGE_PICTURE, name=shown)
    return _Pending(shown, kind, data, cost)


@contextlib.contextmanager
def _opened(data: bytes, kind: str) -> Iterator[Image.Image]:
    """The picture opened lazily (headers only), JPEGs set to decode at a reduced scale when large."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own limits apply
        img = Image.open(io.BytesIO(data), formats=FORMATS[kind])
    with img:
        if kind == "jpeg":
            img.draft(None, (PHOTO_SIDE, PHOTO_SIDE))
        yield img


def _bits(img: Image.Image, kind: str, data: bytes) -> int:
    if kind == "png":
        return data[24]  # IHDR's bit depth: Pillow opened it, so the header is where it belongs
    if kind == "heic":
        return int(img.info.get("bit_depth", 8))
    return 8


def _reencode(item: _Pending) -> CleanFile:
    shown, kind = item.shown, item.kind
    try:
        with _opened(item.data, kind) as img:
            img.load()
            icc = img.info.get("icc_profile")
            transparent = "transparency" in img.info
            side = SCREEN_SIDE if kind == "png" else PHOTO_SIDE
            img.thumbnail((side, side))
            # Apply the camera's rotation before the EXIF that records it is dropped.
            upright = ImageOps.exif_transpose(img)
    except Image.DecompressionBombError as exc:
        raise UploadRejected(TOO_LARGE_PICTURE, name=shown) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as exc:
        raise UploadRejected(BAD_PICTURE, name=shown) from exc
    if upright.mode == "P":
        upright = upright.convert("RGBA" if transparent else "RGB")
    upright = _to_srgb(upright, icc)
    if kind != "png" and upright.mode not in ("RGB", "L"):
        upright = upright.convert("RGB")
    # Only the pixels go out: Pillow would otherwise write a JPEG comment or a PNG's ICC
    # profile from what it read.
    upright.info = {}
    out = io.BytesIO()
    if kind == "png":
        upright.save(out, format="PNG", optimize=False)
        return CleanFile(_stem(shown) + ".png", "image/png", out.getvalue())
    upright.save(out, format="JPEG", quality=90)
    return CleanFile(_stem(shown) + ".jpg", "image/jpeg", out.getvalue())


def _to_srgb(img: Image.Image, icc: bytes | None) -> Image.Image:
    """The picture's colours in sRGB, so they look the same once its own profile is gone.

    A profile that cannot be read, or does not fit the picture, is dropped as it is: the
    colours may shift a little, which is better than refusing the evidence."""
    if not icc or img.mode not in ("RGB", "RGBA", "CMYK"):
        return img
    try:
        source = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        if img.mode == "RGBA":
            converted = ImageCms.profileToProfile(img.convert("RGB"), source, SRGB, outputMode="RGB")
            assert converted is not None
            converted.putalpha(img.getchannel("A"))
            return converted
        converted = ImageCms.profileToProfile(img, source, SRGB, outputMode="RGB")
        assert converted is not None
        return converted
    except (ImageCms.PyCMSError, OSError, ValueError):
        return img


# JPEG segments that only describe a picture (EXIF, XMP, IPTC, maker data, comments). APP0
# (JFIF) and APP14 (Adobe: how to read the colours) are kept.
_JPEG_DROP = {*range(0xE1, 0xEE), 0xEF, 0xFE}


def strip_jpeg_metadata(data: bytes) -> bytes:
    """A JPEG without its metadata segments, the compressed image itself untouched."""
    if data[:2] != b"\xff\xd8":
        return data
    out, pos = [data[:2]], 2
    while pos + 4 <= len(data) and data[pos] == 0xFF:
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        if marker not in _JPEG_DROP:
            out.append(data[pos:pos + 2 + length])
        pos += 2 + length
    out.append(data[pos:])
    return b"".join(out)


def _clean_pdf(item: _Pending) -> CleanFile:
    shown = item.shown
    try:
        with pikepdf.open(io.BytesIO(item.data)) as pdf:
            if "/Info" in pdf.trailer:
                del pdf.trailer["/Info"]
            for obj in pdf.objects:
                if not isinstance(obj, pikepdf.Dictionary | pikepdf.Stream):
                    continue
                for key in ("/Metadata", "/PieceInfo"):
                    if key in obj:
                        del obj[key]
                if (isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == pikepdf.Name.Image
                        and obj.get("/Filter") == pikepdf.Name.DCTDecode):
                    raw = obj.read_raw_bytes()
                    stripped = strip_jpeg_metadata(raw)
                    if stripped != raw:
                        parms = obj.get("/DecodeParms")
                        obj.write(stripped, filter=pikepdf.Name.DCTDecode,
                                  decode_parms=parms if isinstance(parms, pikepdf.Dictionary) else None)
            out = io.BytesIO()
            # A new document ID too: the old one can tie the file to the author's copy.
            pdf.save(out, fix_metadata_version=False, preserve_pdfa=False, deterministic_id=True)
    except pikepdf.PasswordError as exc:
        raise UploadRejected(LOCKED_PDF, name=shown) from exc
    except (pikepdf.PdfError, RuntimeError, ValueError, TypeError, KeyError, OSError) as exc:
        raise UploadRejected(BAD_PDF, name=shown) from exc
    return CleanFile(_stem(shown) + ".pdf", "application/pdf", out.getvalue())
