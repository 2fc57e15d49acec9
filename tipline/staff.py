"""Staff accounts: Argon2id passwords, TOTP, personal key pairs and recovery keys.

Nothing here locks an account: repeated failures are slowed per account and address by
``tipline.console.throttle``, which treats known and unknown emails alike.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline import crypto
from tipline.models import Staff

ROLES: dict[str, str] = {
    "admin": "District admin",
    "school-admin": "School administrator",
    "threat-team": "Threat-assessment team",
    "deib": "DEIB coordinator",
    "counselor": "Counselor",
    "sro": "SRO/SSO",
    "analyst": "Analyst (aggregate data only)",
    "dispatch": "Police dispatch (police-routed tips only)",
}
# Roles that are district-wide: no school.
DISTRICT_ROLES = frozenset({"admin", "analyst", "dispatch"})
E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
MIN_PASSWORD = 12
ISSUER = "Tipline"

# Argon2id, OWASP's 19 MiB / 2 passes profile: a login costs ~0.1 s and 19 MiB, not 64 MiB.
_hasher = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_dummy: list[str] = []


def _dummy_hash() -> str:
    """Verified against when the email is unknown, so both answers take as long."""
    if not _dummy:
        _dummy.append(_hasher.hash(secrets.token_urlsafe(16)))
    return _dummy[0]


class AccountError(ValueError):
    """A sentence to show the person."""


@dataclass(frozen=True)
class Enrolment:
    staff: Staff
    totp_uri: str
    recovery_code: str


def _totp_key(secret_key: str) -> bytes:
    return hashlib.sha256(b"tipline/v1/totp/" + secret_key.encode()).digest()


def totp_secret(staff: Staff, secret_key: str) -> str:
    return crypto.unwrap(_totp_key(secret_key), staff.totp_sealed, f"totp/{staff.email}").decode()


def totp_uri(staff: Staff, secret_key: str) -> str:
    return pyotp.TOTP(totp_secret(staff, secret_key)).provisioning_uri(name=staff.email, issuer_name=ISSUER)


def new_recovery_code() -> str:
    raw = base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")
    return "-".join(raw[i : i + 4] for i in range(0, len(raw), 4))


def _recovery_key(code: str) -> bytes:
    return hashlib.sha256(code.replace("-", "").replace(" ", "").upper().encode()).digest()


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"Use a password of at least {MIN_PASSWORD} characters.")


def create(session: Session, *, email: str, role: str, school: str | None, password: str, secret_key: str,
           schools: set[str], active: bool = True) -> Enrolment:
    email = email.strip().lower()
    if role not in ROLES:
        raise AccountError(f"Unknown role {role!r}: use one of {', '.join(ROLES)}.")
    if "@" not in email:
        raise AccountError("Give an email address.")
    if school is not None and school not in schools:
        raise AccountError(f"Unknown school {school!r}: use one of {', '.join(sorted(schools))}.")
    if role == "school-admin" and school is None:
        raise AccountError("A school administrator needs --school.")
    if role in DISTRICT_ROLES and school is not None:
        raise AccountError(f"The {role} role is district-wide: leave out the school.")
    check_password_rules(password)
    if session.scalar(select(func.count()).select_from(Staff).where(Staff.email == email)):
        raise AccountError(f"{email} already has an account.")
    private, public = crypto.generate_keypair()
    recovery = new_recovery_code()
    secret = pyotp.random_base32()
    staff = Staff(
        email=email, role=role, school=school, active=active, password_hash=_hasher.hash(password),
        totp_sealed=crypto.wrap(_totp_key(secret_key), secret.encode(), f"totp/{email}"),
        public_key=public,
        private_by_password=crypto.wrap_with_password(password, private, f"personal/{email}"),
        private_by_recovery=crypto.wrap(_recovery_key(recovery), private, f"recovery/{email}"),
    )
    session.add(staff)
    session.flush()
    uri = pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)
    return Enrolment(staff, uri, recovery)


def normalise_phone(raw: str) -> str | None:
    """A phone number for pages, as E.164 (+15551234567), or None for an empty field.
    Spaces, dots, dashes and brackets people type are dropped; anything else is refused."""
    phone = re.sub(r"[\s().-]", "", raw)
    if not phone:
        return None
    if not E164.match(phone):
        raise AccountError("Give the phone number in international form, e.g. +1 203 555 0142.")
    return phone


def check_totp(staff: Staff, code: str, secret_key: str, now: float | None = None) -> bool:
    """Accept the current 30-second step or its neighbours, each at most once."""
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return False
    totp = pyotp.TOTP(totp_secret(staff, secret_key))
    moment = time.time() if now is None else now
    current = int(moment // 30)
    for step in (current - 1, current, current + 1):
        if step > staff.totp_last_step and hmac.compare_digest(totp.at(step * 30), code):
            staff.totp_last_step = step
            return True
    return False


def verify_password(staff: Staff | None, password: str) -> bool:
    try:
        return _hasher.verify(staff.password_hash if staff else _dummy_hash(), password) and staff is not None
    except (VerificationError, InvalidHashError):
        return False


def personal_private(staff: Staff, password: str) -> bytes:
    return crypto.unwrap_with_password(password, staff.private_by_password, f"personal/{staff.email}")


def authenticate(session: Session, email: str, password: str, code: str, secret_key: str,
                 now: datetime) -> tuple[Staff, bytes]:
    """Check password and TOTP; return the member and their personal private key.

    Known and unknown emails get the same answer after the same work: one Argon2id
    verification, against a dummy hash when there is no such member."""
    staff = session.scalars(select(Staff).where(Staff.email == email.strip().lower())).first()
    ok = verify_password(staff, password)
    if staff is None or not staff.active or not ok or not check_totp(staff, code, secret_key, now.timestamp()):
        raise AccountError("The email, password or code is not right.")
    if _hasher.check_needs_rehash(staff.password_hash):
        staff.password_hash = _hasher.hash(password)
    return staff, personal_private(staff, password)


_dummy_recovery: list[bytes] = []


def open_recovery(staff: Staff | None, recovery_code: str) -> bytes | None:
    """The personal private key the recovery key opens, or None. Unknown members cost the same."""
    if staff is None:
        if not _dummy_recovery:
            _dummy_recovery.append(crypto.wrap(secrets.token_bytes(32), secrets.token_bytes(32), "recovery/-"))
        sealed, context = _dummy_recovery[0], "recovery/-"
    else:
        sealed, context = staff.private_by_recovery, f"recovery/{staff.email}"
    try:
        private = crypto.unwrap(_recovery_key(recovery_code), sealed, context)
    except crypto.CryptoError:
        return None
    return private if staff is not None else None


def set_password(staff: Staff, private: bytes, new_password: str) -> None:
    """A new password for a member whose personal key was opened another way (recovery)."""
    check_password_rules(new_password)
    staff.password_hash = _hasher.hash(new_password)
    staff.private_by_password = crypto.wrap_with_password(new_password, private, f"personal/{staff.email}")


def recover(staff: Staff, recovery_code: str, new_password: str) -> bytes:
    """Set a new password with the recovery key shown at enrolment; returns the personal key."""
    check_password_rules(new_password)
    private = open_recovery(staff, recovery_code)
    if private is None:
        raise AccountError("That recovery key does not match this account.")
    set_password(staff, private, new_password)
    return private
