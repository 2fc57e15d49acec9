"""Plain values handed between the core and plugins.

Plugins see only these frozen dataclasses, never a model, a session or a request:
that keeps the wall DESIGN.md asks for between plugins and the core.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

PRIORITIES: tuple[str, ...] = ("low", "normal", "high", "urgent")
"""Priorities from least to most pressing; the merge takes the highest vote."""

POLICE_PREFIX = "police."
POLICE_EVIDENCE: dict[str, str] = {
    "police.weapon_with_target": "a weapon or explosive with a time, place or target",
    "police.preparation": "preparation: getting a weapon or ammunition, mapping exits, scouting",
    "police.hit_list": "a hit list",
    "police.weapon_at_school": "a weapon at school now",
    "police.identity_death_threat": "a threat of death aimed at people for who they are",
    "police.harm_then_suicide": "someone who wants to die and to hurt others first",
    "police.danger_now": "a person in danger now",
    "police.sextortion": "sextortion",
    "police.minor_images": "sexual images of a minor shared",
    "police.model_probability": "the model's calibrated probability past the police threshold",
}
"""The evidence a police vote must carry, by signal name, with what each means to staff."""


@dataclass(frozen=True)
class TipDraft:
    """A tip in memory before it is sealed. Its text never leaves the process."""

    text: str
    category: str
    school: str | None
    submitted_at: datetime
    attachment_count: int = 0


@dataclass(frozen=True)
class Vote:
    """One plugin's opinion of a tip.

    ``signals`` are names such as ``weapon`` or ``self_harm.plan``: never quoted text.
    ``police`` must come with the evidence that earned it, as ``police.*`` signals (see
    ``POLICE_EVIDENCE``); ``review`` says a person must look now: possible danger short of
    that evidence.
    """

    workflows: tuple[str, ...] = ()
    priority: str = "low"
    police: bool = False
    signals: tuple[str, ...] = ()
    review: bool = False


@dataclass(frozen=True)
class Triage:
    """The merged votes for one tip: what the console shows and routing reads."""

    workflows: tuple[str, ...]
    priority: str
    police: bool
    signals: tuple[str, ...]
    review: bool = False

    @property
    def evidence(self) -> tuple[str, ...]:
        """The signals that put the tip over the police bar, for staff and the dispatch forward."""
        return tuple(s for s in self.signals if s.startswith(POLICE_PREFIX))

    def as_json(self) -> dict[str, object]:
        return {
            "workflows": list(self.workflows),
            "priority": self.priority,
            "police": self.police,
            "signals": list(self.signals),
            "review": self.review,
        }


@dataclass(frozen=True)
class RecordField:
    """A record a workflow step keeps (a CSTAG classification, a bias type, ...).

    kind: ``choice`` (one of options), ``multi`` (any of options), ``text``, ``bool``
    or ``date``.
    """

    key: str
    label: str
    kind: str = "text"
    options: tuple[str, ...] = ()
    help: str = ""


@dataclass(frozen=True)
class Step:
    key: str
    title: str
    guidance: str = ""
    records: tuple[RecordField, ...] = ()


@dataclass(frozen=True)
class Reminder:
    """A duty the console shows on a tip: always when ``signal`` is empty, else only when the
    tip's triage raised that signal (e.g. the mandated report on abuse tips)."""

    text: str
    signal: str = ""


@dataclass(frozen=True)
class Workflow:
    """A workflow definition contributed by a plugin through ``tipline_workflows``."""

    key: str
    title: str
    description: str = ""
    steps: tuple[Step, ...] = ()
    statuses: tuple[str, ...] = ("new", "in_review", "action_taken", "closed")
    # Roles (command-line names) whose members are granted this workflow's inboxes.
    roles: tuple[str, ...] = ()
    reminders: tuple[Reminder, ...] = ()


@dataclass(frozen=True)
class RouteContext:
    """What routing plugins need to know about where and when a tip arrived.

    ``administrators``, ``officers`` and ``counselors`` are the district file's addresses for
    the school: kept for plugins that want them, but the built-in rules name staff by role
    (``staff_target``) and the outbox resolves roles to console accounts, falling back to
    these addresses only when no account holds the role.
    """

    school: str | None
    now: datetime
    in_school_hours: bool
    administrators: tuple[str, ...] = ()
    officers: tuple[str, ...] = ()
    counselors: tuple[str, ...] = ()
    # During a school event (a game at 19:30) that counts as school time: its staff to tell.
    event_staff: tuple[str, ...] = ()


ROLE_PREFIX = "role:"
ONCALL_PREFIX = "oncall:"


def staff_target(role: str, school: str | None) -> str:
    """A notify target naming console accounts by role and school: ``role:sro@SHS``;
    ``role:admin`` (no school) for district-wide members only."""
    return f"{ROLE_PREFIX}{role}@{school}" if school else f"{ROLE_PREFIX}{role}"


def parse_staff_target(target: str) -> tuple[str, str | None] | None:
    """``(role, school)`` from a ``staff_target``, or ``None`` for a plain address."""
    if not target.startswith(ROLE_PREFIX):
        return None
    role, _, school = target[len(ROLE_PREFIX):].partition("@")
    return role, school or None


def oncall_target(school: str | None, workflow: str) -> str:
    """A page target: the on-call team of a school (``*`` for a tip with no school) and workflow."""
    return f"{ONCALL_PREFIX}{school or '*'}:{workflow}"


@dataclass(frozen=True)
class RouteAction:
    """One thing routing decided must happen.

    ``kind`` is one of:

    - ``forward``: outside the district. The whole tip goes to the police endpoint named by
      ``target`` in the district file (``dispatch`` for police dispatch, ``welfare`` for a
      police welfare check); each is a FERPA disclosure.
    - ``notify``: staff are told a tip arrived and where to look, with no tip content.
      ``target`` names console accounts by role and school (``role:school-admin@SHS``, see
      ``staff_target``), resolved when the outbox row is written; a plain email address is
      also accepted from third-party plugins.
    - ``page``: the on-call escalation. ``target`` is ``oncall:<SCHOOL or *>:<workflow>``
      (``oncall_target``): page that school's on-call team for that workflow now. The outbox
      does not queue pages; ``tipline.oncall`` does, with acknowledgement and escalation.

    ``reason`` is a short sentence the console shows and the FERPA disclosure record keeps;
    ``purpose`` groups deliveries (``police``, ``welfare``, ``threat``, ...).
    """

    kind: str
    target: str
    reason: str
    purpose: str = ""


@dataclass(frozen=True)
class OutgoingDelivery:
    """One outbox delivery handed to ``tipline_deliver``.

    ``channel`` picks the delivery plugin (``smtp``, ``webhook``, ...); ``body`` is the
    JSON-able payload already built by the worker (opened tip content only for police
    forwards); ``idempotency_key`` is stable across retries so receivers can de-duplicate.
    """

    id: int
    channel: str
    destination: str
    purpose: str
    subject: str
    body: dict[str, object]
    idempotency_key: str
    attachments: tuple[tuple[str, str, bytes], ...] = field(default=())
    settings: dict[str, str] = field(default_factory=dict)
