from __future__ import annotations

import pytest

from tipline import crypto, receipts


def test_field_roundtrip_and_binding() -> None:
    key = crypto.random_key()
    blob = crypto.seal_field(key, "tip1", "report", b"hello")
    assert crypto.open_field(key, "tip1", "report", blob) == b"hello"
    assert b"hello" not in blob
    with pytest.raises(crypto.CryptoError):
        crypto.open_field(key, "tip2", "report", blob)  # moved to another tip
    with pytest.raises(crypto.CryptoError):
        crypto.open_field(key, "tip1", "contact", blob)  # moved to another field
    with pytest.raises(crypto.CryptoError):
        crypto.open_field(crypto.random_key(), "tip1", "report", blob)


@pytest.mark.parametrize("position", [0, 1, 13, -1])
def test_flipped_bit_detected(position: int) -> None:
    key = crypto.random_key()
    blob = bytearray(crypto.seal_field(key, "t", "f", b"secret words"))
    blob[position] ^= 0x01
    with pytest.raises(crypto.CryptoError):
        crypto.open_field(key, "t", "f", bytes(blob))


def test_seal_to_public_key() -> None:
    private, public = crypto.generate_keypair()
    other_private, _ = crypto.generate_keypair()
    blob = crypto.seal_to(public, b"data key", "ctx")
    assert crypto.open_sealed(private, blob, "ctx") == b"data key"
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(other_private, blob, "ctx")
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(private, blob, "other ctx")
    tampered = bytearray(blob)
    tampered[40] ^= 0x80
    with pytest.raises(crypto.CryptoError):
        crypto.open_sealed(private, bytes(tampered), "ctx")


def test_password_wrap() -> None:
    secret = crypto.random_key()
    blob = crypto.wrap_with_password("correct horse battery", secret, "personal")
    assert crypto.unwrap_with_password("correct horse battery", blob, "personal") == secret
    with pytest.raises(crypto.CryptoError):
        crypto.unwrap_with_password("wrong password", blob, "personal")


def test_receipt_codes() -> None:
    code = receipts.new_code()
    assert len(code) == 19 and code.count("-") == 3
    canonical = receipts.normalise(code)
    assert canonical is not None and len(canonical) == 16
    # People copy codes by hand: case, spaces and look-alike letters don't matter.
    sloppy = code.lower().replace("-", " ").replace("0", "o").replace("1", "l")
    assert receipts.normalise(sloppy) == canonical
    assert receipts.normalise("too short") is None
    assert receipts.normalise("UUUU-UUUU-UUUU-UUU!") is None
    codes = {receipts.new_code() for _ in range(2000)}
    assert len(codes) == 2000


def test_reporter_key_depends_only_on_code() -> None:
    a = receipts.reporter_keypair("ABCDEFGHJKMNPQRS")
    assert a == receipts.reporter_keypair("ABCDEFGHJKMNPQRS")
    assert a != receipts.reporter_keypair("ABCDEFGHJKMNPQRT")
    pepper = receipts.pepper_from_secret("s" * 40)
    assert receipts.lookup_id("ABCDEFGHJKMNPQRS", pepper) != receipts.lookup_id(
        "ABCDEFGHJKMNPQRS", receipts.pepper_from_secret("t" * 40))


def test_seal_to_many_opens_per_recipient_only() -> None:
    a_priv, a_pub = crypto.generate_keypair()
    b_priv, b_pub = crypto.generate_keypair()
    blob_a, blob_b = crypto.seal_to_many([(a_pub, "ctx/a"), (b_pub, "ctx/b")], b"data key")
    assert crypto.open_sealed(a_priv, blob_a, "ctx/a") == b"data key"
    assert crypto.open_sealed(b_priv, blob_b, "ctx/b") == b"data key"
    assert blob_a[:32] == blob_b[:32] and blob_a[32:] != blob_b[32:]  # one ephemeral, separate keys
    for private, blob, ctx in ((a_priv, blob_b, "ctx/b"), (b_priv, blob_a, "ctx/a"), (a_priv, blob_a, "ctx/b")):
        with pytest.raises(crypto.CryptoError):
            crypto.open_sealed(private, blob, ctx)
