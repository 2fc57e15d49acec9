"""Who may see which tips: enforced by the queries and, independently, by the keys held.

A role reads the workflows whose definition lists it, at its own school (or district-wide
when it has none); school administrators also read their school's unsorted tips; district
admins read everything; analysts read no tip at all, only aggregates; the dispatch role
(police without an API) reads police-routed tips only, with their follow-ups, through the
police-dispatch inbox key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, exists, false, not_, or_, select
from sqlalchemy.orm import Session

from tipline import crypto, intake, keyring
from tipline.models import Delivery, InboxGrant, InboxKey, Staff, Tip, TipKey, TipWorkflow
from tipline.types import Workflow

DISPATCH_ROLE = "dispatch"
POLICE_PURPOSES = ("police", "welfare")


@dataclass(frozen=True)
class Scope:
    everything: bool
    school: str | None
    workflows: frozenset[str]
    general: bool
    police_only: bool = False

    @property
    def reads_tips(self) -> bool:
        return self.everything or bool(self.workflows) or self.general or self.police_only


def scope_for(staff: Staff, workflows: dict[str, Workflow]) -> Scope:
    if staff.role == "admin":
        return Scope(True, None, frozenset(workflows), True)
    if staff.role == DISPATCH_ROLE:
        return Scope(False, None, frozenset(), False, police_only=True)
    mine = frozenset(k for k, wf in workflows.items() if staff.role in wf.roles)
    return Scope(False, staff.school, mine, staff.role == "school-admin")


def inbox_keys_for(staff: Staff, workflows: dict[str, Workflow]) -> list[str]:
    """The inboxes a member should hold, by role and school."""
    scope = scope_for(staff, workflows)
    if scope.everything:
        return [keyring.ADMIN]
    if scope.police_only:
        return [keyring.POLICE]
    keys = [keyring.workflow_inbox(wf, scope.school) for wf in sorted(scope.workflows)]
    if scope.general:
        keys.append(keyring.workflow_inbox(keyring.GENERAL, scope.school))
    return keys


def restrict(stmt: Select[Any], scope: Scope, workflow: str | None = None) -> Select[Any]:
    """Limit a query on Tip to the scope. ``workflow``: the caller already filters on that
    workflow, so the scope's workflow test is only needed when it is not one of ours."""
    if scope.everything:
        return stmt
    if not scope.reads_tips:
        return stmt.where(false())
    if scope.police_only:
        # A forward that went or is going, not one two members held or cancelled.
        return stmt.where(exists().where(Delivery.tip_id == Tip.id, Delivery.purpose.in_(POLICE_PURPOSES),
                                         Delivery.state.not_in(("held", "cancelled"))))
    if scope.school is not None:
        stmt = stmt.where(Tip.school == scope.school)
    if workflow is not None:
        return stmt if workflow in scope.workflows else stmt.where(false())
    has_mine = exists().where(TipWorkflow.tip_id == Tip.id, TipWorkflow.workflow.in_(scope.workflows))
    if scope.general:
        has_any = exists().where(TipWorkflow.tip_id == Tip.id)
        return stmt.where(or_(has_mine, not_(has_any)))
    return stmt.where(has_mine)


def can_see(session: Session, scope: Scope, tip_id: str) -> bool:
    stmt = restrict(select(Tip.id).where(Tip.id == tip_id), scope)
    return session.scalar(stmt) is not None


def can_open(session: Session, member: Staff, tip: Tip, workflows: dict[str, Workflow]) -> bool:
    """Whether ``member`` may see ``tip`` and holds a key that opens it."""
    return bool(who_can_open(session, tip, [member], workflows))


def who_can_open(session: Session, tip: Tip, members: list[Staff], workflows: dict[str, Workflow]) -> list[Staff]:
    """The active ``members`` whose scope covers ``tip`` and who hold a key that opens it: a
    grant on one of the inbox keys its data key is sealed to, or (district admins) on the key
    that escrows one. One query for the keys, one per distinct scope."""
    sealed_to = select(TipKey.inbox_key_id).where(TipKey.tip_id == tip.id, TipKey.inbox_key_id.is_not(None))
    escrows = select(InboxKey.escrow_key_id).where(InboxKey.id.in_(sealed_to), InboxKey.escrow_key_id.is_not(None))
    holders = set(session.scalars(select(InboxGrant.staff_id).where(
        InboxGrant.staff_id.in_([m.id for m in members]),
        or_(InboxGrant.inbox_key_id.in_(sealed_to), InboxGrant.inbox_key_id.in_(escrows)))))
    seen: dict[Scope, bool] = {}
    opened = []
    for member in members:
        if not member.active or member.id not in holders:
            continue
        scope = scope_for(member, workflows)
        if scope not in seen:
            seen[scope] = can_see(session, scope, tip.id)
        if seen[scope]:
            opened.append(member)
    return opened


@dataclass
class Keychain:
    """The inbox private keys a logged-in member can open, from their personal key."""

    staff: Staff
    personal: bytes
    _keys: dict[int, bytes] | None = field(default=None, repr=False)

    def inbox_privates(self, session: Session) -> dict[int, bytes]:
        if self._keys is None:
            keys: dict[int, bytes] = {}
            rows = session.execute(
                select(InboxGrant, InboxKey).join(InboxKey, InboxGrant.inbox_key_id == InboxKey.id)
                .where(InboxGrant.staff_id == self.staff.id)
            ).all()
            for grant, key in rows:
                try:
                    keys[key.id] = crypto.open_sealed(self.personal, grant.sealed_private,
                                                      keyring.grant_context(key.inbox.key, key.version))
                except crypto.CryptoError:
                    continue
            self._keys = keys
        return self._keys

    def admin_privates(self, session: Session) -> dict[int, bytes]:
        privates = self.inbox_privates(session)
        admin_ids = set(session.scalars(select(InboxKey.id).join(InboxKey.inbox)
                                        .where(InboxKey.inbox.has(key=keyring.ADMIN))))
        return {k: v for k, v in privates.items() if k in admin_ids}

    def private_for(self, session: Session, key: InboxKey) -> bytes | None:
        """An inbox private key, held directly or (for admins) through the escrow."""
        privates = self.inbox_privates(session)
        if key.id in privates:
            return privates[key.id]
        admins = self.admin_privates(session)
        if admins and key.escrow_key_id in admins:
            try:
                return keyring.open_escrow(session, key, admins)
            except crypto.CryptoError:
                return None
        return None

    def data_key(self, session: Session, tip: Tip) -> bytes | None:
        rows = session.execute(select(TipKey, InboxKey).join(InboxKey, TipKey.inbox_key_id == InboxKey.id)
                               .where(TipKey.tip_id == tip.id)).all()
        for tip_key, key in rows:
            private = self.private_for(session, key)
            if private is None:
                continue
            try:
                return crypto.open_sealed(private, tip_key.sealed,
                                          intake.inbox_context(tip.id, key.inbox.key, key.version))
            except crypto.CryptoError:
                continue
        return None


def grant(session: Session, granter: Keychain, member: Staff, key: InboxKey) -> InboxGrant:
    private = granter.private_for(session, key)
    if private is None:
        raise PermissionError("you do not hold this inbox key")
    row = InboxGrant(inbox_key_id=key.id, staff_id=member.id, granted_by=granter.staff.id,
                     sealed_private=crypto.seal_to(member.public_key, private,
                                                   keyring.grant_context(key.inbox.key, key.version)))
    session.add(row)
    return row
