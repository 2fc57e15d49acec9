"""Receipt codes: the reporter's only way back, never stored.

A code is 16 Crockford base32 characters (80 random bits) shown in groups of four.
From it we derive two things: a lookup id (keyed with a server secret, so a copy of the
database alone cannot test guesses) and the reporter's X25519 key pair, to which the tip's
data key is sealed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tipline import crypto

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
LENGTH = 16
# Crockford's reading rules: people copy codes by hand from a phone screen.
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1", "U": "V"})


def new_code() -> str:
    raw = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
    return format_code(raw)


def code_from_seed(seed: bytes) -> str:
    """A code from 80 bits of a keyed hash: the same submission always gets the same code."""
    value = int.from_bytes(seed[:10], "big")
    raw = "".join(ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(LENGTH)))
    return format_code(raw)


def submission_ids(pepper: bytes, nonce: str, content_digest: bytes) -> tuple[str, str]:
    """(dedupe id to store, receipt code to show) for one form submission.

    The nonce lives only in the reporter's form; the stored id is a keyed hash of it and of
    what was sent, so a reload or a double tap finds the tip already stored and shows the same
    code, while different words sent from a stale form make a new tip.
    """
    material = nonce.encode() + b"\x00" + content_digest
    dedupe = hmac.new(pepper, b"tipline/v1/dedupe/" + material, hashlib.sha256).hexdigest()
    seed = hmac.new(pepper, b"tipline/v1/receipt-seed/" + material, hashlib.sha256).digest()
    return dedupe, code_from_seed(seed)


def format_code(raw: str) -> str:
    return "-".join(raw[i : i + 4] for i in range(0, LENGTH, 4))


def normalise(text: str) -> str | None:
    """Return the canonical 16 characters, or None when it cannot be a code."""
    cleaned = "".join(ch for ch in text.upper().translate(_READ_AS) if ch not in " -_.\t\r\n")
    if len(cleaned) != LENGTH or any(ch not in ALPHABET for ch in cleaned):
        return None
    return cleaned


def lookup_id(code: str, pepper: bytes) -> str:
    """A stable index for the code; needs the server's pepper to compute."""
    return hmac.new(pepper, b"tipline/v1/receipt-lookup/" + code.encode(), hashlib.sha256).hexdigest()


def reporter_keypair(code: str) -> tuple[bytes, bytes]:
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"",
                info=b"tipline/v1/reporter-key").derive(code.encode())
    return seed, crypto.public_from_private(seed)


def pepper_from_secret(secret_key: str) -> bytes:
    return hashlib.sha256(b"tipline/v1/receipt-pepper/" + secret_key.encode()).digest()
