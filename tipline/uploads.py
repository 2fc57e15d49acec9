"""Checking and cleaning uploaded files before they are sealed.

Images are decoded and re-encoded, which drops EXIF (GPS, camera serials) and anything
hidden after the image data; HEIC photos from iPhones become JPEG. PDFs are accepted by
their signature. Anything else is refused with a sentence a reporter understands.
"""

from __future__ import annotations

import io
import threading
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

try:  # HEIC support is optional: without it HEIC photos are refused, not mis-read.
    import pillow_heif

    pillow_heif.register_heif_opener()
    HEIC = True
except ImportError:  # pragma: no cover
    HEIC = False

# A phone photo is 12-48 megapixels. Anything larger is refused before it is decoded, large
# JPEGs are decoded at reduced scale, and one image at a time is decoded per process, so a
# small file that claims huge dimensions cannot take the server's memory.
MAX_PIXELS = 50_000_000
MAX_SIDE = 4096
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
_decoding = threading.Semaphore(1)

ACCEPT = ".jpg,.jpeg,.png,.heic,.heif,.pdf,image/jpeg,image/png,image/heic,image/heif,application/pdf"
KINDS_TEXT = "photos (JPEG, PNG, HEIC) and PDF files"


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


def clean(filename: str, data: bytes, limit: int) -> CleanFile:
    shown = safe_filename(filename, "file")
    if len(data) > limit:
        raise UploadRejected("“{name}” is larger than {mb} MB. Please send a smaller file.", name=shown,
                             mb=limit // (1024 * 1024))
    if not data:
        raise UploadRejected("“{name}” is empty.", name=shown)
    kind = _kind(data[:16])
    if kind is None:
        raise UploadRejected("“{name}” is not a type we accept. You can send " + KINDS_TEXT + ".", name=shown)
    if kind == "pdf":
        return CleanFile(_stem(shown) + ".pdf", "application/pdf", data)
    if kind == "heic" and not HEIC:
        raise UploadRejected("“{name}” is a HEIC photo we cannot read here. Please send a screenshot instead.",
                             name=shown)
    return _reencode(shown, data, kind)


def _reencode(shown: str, data: bytes, kind: str) -> CleanFile:
    try:
        with _decoding, warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused just below
            with Image.open(io.BytesIO(data)) as img:
                width, height = img.size
                if width * height > MAX_PIXELS:
                    raise UploadRejected("“{name}” is too large a picture. Please send a screenshot or a "
                                         "smaller photo.", name=shown)
                if img.format == "JPEG":
                    img.draft("RGB", (MAX_SIDE, MAX_SIDE))
                img.load()
                # Apply the camera's rotation before the EXIF that records it is dropped.
                upright = ImageOps.exif_transpose(img)
                upright.thumbnail((MAX_SIDE, MAX_SIDE))
                out = io.BytesIO()
                if kind == "png":
                    upright.save(out, format="PNG", optimize=False)
                    return CleanFile(_stem(shown) + ".png", "image/png", out.getvalue())
                if upright.mode not in ("RGB", "L"):
                    upright = upright.convert("RGB")
                upright.save(out, format="JPEG", quality=90)
                return CleanFile(_stem(shown) + ".jpg", "image/jpeg", out.getvalue())
    except UploadRejected:
        raise
    except Image.DecompressionBombError as exc:
        raise UploadRejected("“{name}” is too large a picture. Please send a screenshot or a smaller "
                             "photo.", name=shown) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise UploadRejected("“{name}” says it is a picture but could not be opened as one. "
                             "Please send a screenshot or photo again.", name=shown) from exc
