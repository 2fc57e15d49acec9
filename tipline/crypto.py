"""Sealing and opening, bytes in and bytes out: no Flask, no database.

Primitives from ``cryptography`` only: X25519, HKDF-SHA256, AES-256-GCM, Argon2id.

- A tip's fields are sealed with its random data key (AES-256-GCM); the associated data
  binds each ciphertext to its tip id and field name, so a blob moved to another tip or
  field fails to open.
- A data key (or an inbox private key) is sealed to a public key: ephemeral X25519,
  HKDF-SHA256 over the shared secret bound to both public keys and a context, then AES-GCM.
- A personal private key is wrapped under a key derived from a password with Argon2id.
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"
KEY_BYTES = 32
NONCE_BYTES = 12
SALT_BYTES = 16
RAW = serialization.Encoding.Raw


class CryptoError(Exception):
    """A blob did not open: wrong key, wrong context, or tampered bytes."""


def random_key() -> bytes:
    return os.urandom(KEY_BYTES)


def _hkdf(material: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=info).derive(material)


def _aead_seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return VERSION + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _aead_open(key: bytes, blob: bytes, aad: bytes) -> bytes:
    if len(blob) < 1 + NONCE_BYTES + 16 or blob[:1] != VERSION:
        raise CryptoError("not a sealed blob of a known version")
    try:
        return AESGCM(key).decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], aad)
    except InvalidTag as exc:
        raise CryptoError("blob did not open") from exc


def field_aad(tip_id: str, field: str) -> bytes:
    return f"tipline/v1/field/{tip_id}/{field}".encode()


def seal_field(data_key: bytes, tip_id: str, field: str, plaintext: bytes) -> bytes:
    return _aead_seal(data_key, plaintext, field_aad(tip_id, field))


def open_field(data_key: bytes, tip_id: str, field: str, blob: bytes) -> bytes:
    return _aead_open(data_key, blob, field_aad(tip_id, field))


# --- key pairs and sealing to a public key -------------------------------------------------


def generate_keypair() -> tuple[bytes, bytes]:
    """Return (private, public) as 32 raw bytes each."""
    private = X25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def public_from_private(private: bytes) -> bytes:
    key = X25519PrivateKey.from_private_bytes(private)
    return key.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)


def seal_to(public: bytes, plaintext: bytes, context: str) -> bytes:
    """Seal ``plaintext`` so only the holder of ``public``'s private key opens it."""
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    key = _hkdf(shared, eph_pub + public, b"tipline/v1/seal/" + context.encode())
    return eph_pub + _aead_seal(key, plaintext, context.encode())


def seal_to_many(recipients: list[tuple[bytes, str]], plaintext: bytes) -> list[bytes]:
    """``seal_to`` for several (public key, context) pairs sharing one ephemeral key.

    Each recipient's key comes from its own X25519 shared secret, bound to its public key and
    context, with a fresh nonce, so the blobs are exactly what ``seal_to`` makes and open with
    ``open_sealed``; one key generation serves a tip's whole list of inboxes.
    """
    ephemeral = X25519PrivateKey.generate()
    eph_pub = ephemeral.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
    blobs = []
    for public, context in recipients:
        shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
        key = _hkdf(shared, eph_pub + public, b"tipline/v1/seal/" + context.encode())
        blobs.append(eph_pub + _aead_seal(key, plaintext, context.encode()))
    return blobs


def open_sealed(private: bytes, blob: bytes, context: str) -> bytes:
    if len(blob) < 32:
        raise CryptoError("sealed blob too short")
    try:
        me = X25519PrivateKey.from_private_bytes(private)
        public = me.public_key().public_bytes(RAW, serialization.PublicFormat.Raw)
        shared = me.exchange(X25519PublicKey.from_public_bytes(blob[:32]))
    except ValueError as exc:
        raise CryptoError("bad key material") from exc
    key = _hkdf(shared, blob[:32] + public, b"tipline/v1/seal/" + context.encode())
    return _aead_open(key, blob[32:], context.encode())


# --- secrets wrapped under a symmetric key (a session key, a recovery key) -----------------


def wrap(key: bytes, secret: bytes, context: str) -> bytes:
    return _aead_seal(_hkdf(key, b"", b"tipline/v1/wrap/" + context.encode()), secret, context.encode())


def unwrap(key: bytes, blob: bytes, context: str) -> bytes:
    return _aead_open(_hkdf(key, b"", b"tipline/v1/wrap/" + context.encode()), blob, context.encode())


# --- secrets wrapped under a password ------------------------------------------------------

# OWASP's second Argon2id profile (19 MiB, 2 passes) keeps a login under ~100 ms here.
ARGON_MEMORY_KIB = 19 * 1024
ARGON_ITERATIONS = 2


def password_key(password: str, salt: bytes, memory_kib: int = ARGON_MEMORY_KIB,
                 iterations: int = ARGON_ITERATIONS) -> bytes:
    kdf = Argon2id(salt=salt, length=KEY_BYTES, iterations=iterations, lanes=1, memory_cost=memory_kib)
    return kdf.derive(password.encode("utf-8"))


def wrap_with_password(password: str, secret: bytes, context: str) -> bytes:
    salt = os.urandom(SALT_BYTES)
    return salt + wrap(password_key(password, salt), secret, context)


def unwrap_with_password(password: str, blob: bytes, context: str) -> bytes:
    return unwrap(password_key(password, blob[:SALT_BYTES]), blob[SALT_BYTES:], context)
