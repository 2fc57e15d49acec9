"""Attached files carried across a form shown again, sealed, in the reporter's own page.

When a tip comes back with an error (an empty message, one file of three refused, a language
switch), the files already checked and cleaned would otherwise be lost: a browser cannot fill a
file input again. Storing them on the server until the next try would put a reporter's photo on
disk or in the database without a tip to belong to. Instead each cleaned file goes back to the
browser sealed (AES-256-GCM) under a key derived from the server secret, bound to the form's
one-time submission nonce and stamped with the time, in hidden fields; the next post brings it
back and only this server can open it, only for that form, only for a few hours.

Bytes in, bytes out: no Flask, no database. Werkzeug holds each text field of a multipart form
to a small limit, so a sealed file travels as several fields of at most ``CHUNK`` characters.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from collections.abc import Sequence
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline import crypto
from tipline.uploads import CleanFile

# Under the multipart text-field limit (tipline.forms.MAX_FORM_MEMORY, 64 KiB) with room to spare.
CHUNK = 48_000
# As long as the form's CSRF token lives (WTF_CSRF_TIME_LIMIT): a page left open that long is
# sent again anyway.
MAX_AGE_SECONDS = 6 * 3600
# What the browser may carry back at most, so the files kept and the ones added still fit one
# request: a share of the request's file allowance (base64 adds a third), and few enough fields.
SHARE_OF_ALLOWANCE = 0.3
MAX_CHUNKS = 600


@lru_cache(maxsize=4)
def _key(secret_key: str) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=crypto.KEY_BYTES, salt=b"tipline kept files",
                info=b"tipline/v1/kept-files").derive(secret_key.encode())


def budget(max_attachments: int, max_attachment_bytes: int) -> int:
    """How many bytes of cleaned files one form may carry."""
    return min(int(max_attachments * max_attachment_bytes * SHARE_OF_ALLOWANCE), MAX_CHUNKS * CHUNK * 3 // 4)


def seal(secret_key: str, nonce: str, f: CleanFile, now: float | None = None) -> list[str]:
    """The file sealed to this form, as the hidden-field values that carry it."""
    head = json.dumps({"n": f.filename, "t": f.content_type, "at": int(time.time() if now is None else now)}).encode()
    plaintext = len(head).to_bytes(4, "big") + head + f.data
    text = base64.urlsafe_b64encode(crypto.seal_field(_key(secret_key), "kept-files", nonce, plaintext)).decode()
    return [text[i : i + CHUNK] for i in range(0, len(text), CHUNK)] or [""]


def open_kept(secret_key: str, nonce: str, chunks: Sequence[str], now: float | None = None) -> CleanFile | None:
    """The file a form carried back, or None when it is not ours, not this form's, or too old."""
    try:
        blob = base64.urlsafe_b64decode("".join(chunks).encode("ascii"))
        plaintext = crypto.open_field(_key(secret_key), "kept-files", nonce, blob)
        size = int.from_bytes(plaintext[:4], "big")
        head = json.loads(plaintext[4 : 4 + size])
        name, kind, at = str(head["n"]), str(head["t"]), int(head["at"])
    except (ValueError, UnicodeEncodeError, binascii.Error, crypto.CryptoError, KeyError, TypeError):
        return None
    age = (time.time() if now is None else now) - at
    if not -60 <= age <= MAX_AGE_SECONDS:  # a minute of clock skew between workers
        return None
    return CleanFile(name, kind, plaintext[4 + size :])
