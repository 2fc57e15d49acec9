"""Inboxes and their key pairs: who can open which tips.

Every inbox's private key is escrowed to the district-admin inbox, so a district admin can
grant it to a new team member. Before the first admin exists, the admin inbox's private key
is wrapped under a one-time setup token kept in ``instance/setup-token``; the first admin's
setup moves it to their personal key and deletes the token. The police-dispatch private key
is also written to a key file for the delivery worker, which must read police forwards.
"""

from __future__ import annotations

import os
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tipline import crypto
from tipline.config import District
from tipline.models import Inbox, InboxGrant, InboxKey, Staff

GENERAL = "general"
ADMIN = "admin"
POLICE = "police"
SETUP_CONTEXT = "setup-escrow"


def escrow_context(inbox_key: str, version: int) -> str:
    return f"inbox-escrow/{inbox_key}/{version}"


def grant_context(inbox_key: str, version: int) -> str:
    return f"inbox-grant/{inbox_key}/{version}"


def workflow_inbox(workflow: str, school: str | None) -> str:
    return f"{school}:{workflow}" if school else f"wf:{workflow}"


@dataclass(frozen=True)
class InboxSpec:
    key: str
    title: str
    school: str | None = None
    workflow: str | None = None


def inbox_specs(district: District, workflow_titles: dict[str, str]) -> list[InboxSpec]:
    specs = [
        InboxSpec(ADMIN, "District administrators"),
        InboxSpec(GENERAL, "General inbox (not yet sorted)"),
        InboxSpec(POLICE, "Police dispatch"),
    ]
    for code, school in district.schools.items():
        specs.append(InboxSpec(workflow_inbox(GENERAL, code), f"General inbox, {school.name}", code, GENERAL))
    for wf, title in sorted(workflow_titles.items()):
        specs.append(InboxSpec(workflow_inbox(wf, None), f"{title}, district-wide", None, wf))
        for code, school in district.schools.items():
            specs.append(InboxSpec(workflow_inbox(wf, code), f"{title}, {school.name}", code, wf))
    return specs


def current_key(session: Session, inbox_key: str) -> InboxKey:
    row = session.scalars(
        select(InboxKey).join(Inbox).where(Inbox.key == inbox_key, InboxKey.retired_at.is_(None))
        .order_by(InboxKey.version.desc()).limit(1)
    ).first()
    if row is None:
        raise LookupError(f"inbox {inbox_key!r} has no key; run `tipline init`")
    return row


@dataclass(frozen=True)
class PublicKey:
    id: int
    version: int
    public_key: bytes


_cache_lock = threading.Lock()
_cache: dict[str, tuple[tuple[object, ...], dict[str, PublicKey], float]] = {}
# How long a process trusts its copy before asking whether any key changed: a rotation
# reaches every process within this time.
RECHECK_SECONDS = 1.0


def current_keys(session: Session, inbox_keys: list[str]) -> dict[str, PublicKey]:
    """The newest live public key of each named inbox.

    Every submission needs these, so they are kept per process and database, and re-read
    whenever a key was added or retired anywhere: both change a cheap generation check, made
    at most every RECHECK_SECONDS (and at once in the process that rotated, see ``forget``).
    """
    cache_key = str(session.connection().engine.url)
    now = time.monotonic()
    with _cache_lock:
        cached = _cache.get(cache_key)
    if cached is not None and now - cached[2] < RECHECK_SECONDS:
        return {name: cached[1][name] for name in inbox_keys if name in cached[1]}
    # The newest key's bytes too: a database restored or reset reuses ids, never keys.
    generation = tuple(session.connection().exec_driver_sql(
        "SELECT (SELECT max(id) FROM inbox_key), (SELECT count(retired_at) FROM inbox_key), "
        "(SELECT public_key FROM inbox_key ORDER BY id DESC LIMIT 1)").one())
    if cached is None or cached[0] != generation:
        rows = session.execute(
            select(Inbox.key, InboxKey.id, InboxKey.version, InboxKey.public_key)
            .join(InboxKey, InboxKey.inbox_id == Inbox.id)
            .where(InboxKey.retired_at.is_(None)).order_by(InboxKey.version)
        ).all()
        # Ascending versions: the newest of each inbox wins.
        fresh = {name: PublicKey(key_id, version, bytes(public)) for name, key_id, version, public in rows}
        cached = (generation, fresh, now)
    else:
        cached = (generation, cached[1], now)
    with _cache_lock:
        _cache[cache_key] = cached
    return {name: cached[1][name] for name in inbox_keys if name in cached[1]}


def forget() -> None:
    """Drop this process's copy of the public keys (after adding or rotating keys)."""
    with _cache_lock:
        _cache.clear()


def _write_private(path: Path, private: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(private.hex().encode() + b"\n")


def read_private(path: Path) -> bytes:
    return bytes.fromhex(path.read_text().strip())


def setup_token_path(instance: Path) -> Path:
    return instance / "setup-token"


def ensure_inboxes(session: Session, district: District, workflow_titles: dict[str, str],
                   instance: Path, dispatch_key_path: Path) -> list[InboxSpec]:
    """Create any missing inbox with a first key pair: all of them on a new database, and
    later those of a school or workflow added since. Never replaces a key. Returns the
    inboxes created (``describe_added`` words them for a person)."""
    existing = {i.key: i for i in session.scalars(select(Inbox))}
    created: list[InboxSpec] = []
    admin_pub: bytes | None = None
    admin_key_id: int | None = None
    if ADMIN in existing:
        admin = current_key(session, ADMIN)
        admin_pub, admin_key_id = admin.public_key, admin.id
    for spec in inbox_specs(district, workflow_titles):
        if spec.key in existing:
            continue
        inbox = Inbox(key=spec.key, title=spec.title, school=spec.school, workflow=spec.workflow)
        session.add(inbox)
        if spec.key == POLICE and dispatch_key_path.exists():
            private = read_private(dispatch_key_path)
            public = crypto.public_from_private(private)
        else:
            private, public = crypto.generate_keypair()
        row = InboxKey(inbox=inbox, version=1, public_key=public)
        if spec.key == ADMIN:
            token = secrets.token_urlsafe(32)
            row.escrow = crypto.wrap(token.encode(), private, SETUP_CONTEXT)
            token_file = setup_token_path(instance)
            token_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(token_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(token + "\n")
        else:
            assert admin_pub is not None, "the admin inbox is created first"
            row.escrow = crypto.seal_to(admin_pub, private, escrow_context(spec.key, 1))
            row.escrow_key_id = admin_key_id
        if spec.key == POLICE and not dispatch_key_path.exists():
            _write_private(dispatch_key_path, private)
        session.add(row)
        session.flush()
        if spec.key == ADMIN:
            admin_pub, admin_key_id = public, row.id
        created.append(spec)
    if created:
        forget()
    return created


def describe_added(created: list[InboxSpec], district: District) -> list[str]:
    """One line per school (and one for district-wide inboxes) naming the inboxes created."""
    by_school: dict[str | None, list[str]] = {}
    for spec in created:
        by_school.setdefault(spec.school, []).append(spec.workflow or spec.key)
    lines = [f"district-wide: {', '.join(by_school.pop(None))}"] if None in by_school else []
    for code, names in by_school.items():
        school = district.schools.get(code or "")
        lines.append(f"{code} ({school.name if school else 'not in the district file'}): {', '.join(names)}")
    return lines


def open_escrow(session: Session, key: InboxKey, admin_private: dict[int, bytes]) -> bytes:
    """Open an inbox key's escrow with the admin inbox private keys (by key id)."""
    if key.escrow is None or key.escrow_key_id is None or key.escrow_key_id not in admin_private:
        raise crypto.CryptoError("no escrow this admin key can open")
    return crypto.open_sealed(admin_private[key.escrow_key_id], key.escrow,
                              escrow_context(key.inbox.key, key.version))


def admin_private_from_setup_token(session: Session, token: str) -> tuple[int, bytes]:
    admin = current_key(session, ADMIN)
    if admin.escrow is None or admin.escrow_key_id is not None:
        raise crypto.CryptoError("setup is already complete")
    return admin.id, crypto.unwrap(token.encode(), admin.escrow, SETUP_CONTEXT)


def setup_pending(session: Session) -> bool:
    """Whether the admin inbox key still waits, wrapped under the setup token, for its first holder."""
    admin = current_key(session, ADMIN)
    return admin.escrow is not None and admin.escrow_key_id is None


def admin_key_holders(session: Session) -> int:
    """How many active members hold the current district-admin key. Zero means no one can
    grant any team's key, and tips sealed only to team inboxes stay unreadable."""
    admin = current_key(session, ADMIN)
    return session.scalar(
        select(func.count()).select_from(InboxGrant).join(Staff, InboxGrant.staff_id == Staff.id)
        .where(InboxGrant.inbox_key_id == admin.id, Staff.active)) or 0


def hand_over_setup_keys(session: Session, token: str, member: Staff) -> None:
    """Move the district-admin key from the setup token to ``member`` (the first admin).

    The one path for both the setup link and ``tipline users create --role admin``. The caller
    commits, then deletes the token file (``setup_token_path``): the escrow is gone from the
    database by then, so the token opens nothing.
    """
    admin_key_id, admin_private = admin_private_from_setup_token(session, token)
    key = current_key(session, ADMIN)
    session.add(InboxGrant(inbox_key_id=admin_key_id, staff_id=member.id,
                           sealed_private=crypto.seal_to(member.public_key, admin_private,
                                                         grant_context(ADMIN, key.version))))
    key.escrow = None
